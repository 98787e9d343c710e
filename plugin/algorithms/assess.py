"""Processing algorithm `hypersnn:assess`: accuracy of a class map against reference data."""
from __future__ import annotations

from qgis.core import (
    QgsProcessingOutputFile,
    QgsProcessingParameterBoolean,
    QgsProcessingOutputNumber,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterRasterLayer,
)

from .base import HyperSNNAlgorithm, add_reference_parameters


class AssessAlgorithm(HyperSNNAlgorithm):
    _name = "assess"
    _display = "Accuracy assessment"
    _help = (
        "<p>Compares a class map with reference data: polygons with a class field (reprojected to the "
        "map's CRS and burnt onto its grid at pixel centres) or a reference label raster on the map's grid "
        "(0 or nodata = unlabelled). Reports overall accuracy (OA, with a 95 % interval), average accuracy "
        "(AA), Cohen's kappa, producer's and user's accuracy and F1 per class, and the confusion matrix "
        "(rows: reference, columns: prediction), as HTML with JSON and CSV tables beside it.</p>"
        "<p>Reference polygons whose class field holds text are matched to the class map's class names. "
        "For an unbiased estimate use reference pixels that were not used for training.</p>"
        "<p><b>Area-adjusted estimates</b> (Olofsson et al. 2014): class areas (hectares in a projected CRS, "
        "else pixels) and overall, user's and producer's accuracy weighted by the mapped area of each class, "
        "each with a 95 % interval. They are unbiased only when the reference is a stratified random sample "
        "with the map classes as strata, or a simple random sample.</p>"
    )

    def define(self):
        self.addParameter(QgsProcessingParameterRasterLayer("INPUT", self.tr("Class map")))
        add_reference_parameters(self)
        self.addParameter(QgsProcessingParameterBoolean(
            "AREA_ADJUSTED", self.tr("Area-adjusted accuracy and class areas (stratified random reference sample)"),
            defaultValue=False))
        self.addParameter(QgsProcessingParameterFileDestination("OUTPUT_REPORT", self.tr("Accuracy report"),
                                                                "HTML files (*.html)"))
        for k, t in (("OA", "Overall accuracy"), ("AA", "Average accuracy"), ("KAPPA", "Cohen's kappa"),
                     ("N_PIXELS", "Reference pixels assessed")):
            self.addOutput(QgsProcessingOutputNumber(k, self.tr(t)))
        self.addOutput(QgsProcessingOutputFile("PER_CLASS_CSV", self.tr("Per-class accuracy (CSV)")))
        self.addOutput(QgsProcessingOutputFile("CONFUSION_CSV", self.tr("Confusion matrix (CSV)")))
        self.addOutput(QgsProcessingOutputFile("AREA_CSV", self.tr("Area-adjusted estimates (CSV)")))
        self.addOutput(QgsProcessingOutputNumber("OA_AREA_ADJUSTED", self.tr("Area-adjusted overall accuracy")))

    def process(self, parameters, context, feedback):
        from ...workflows.assess import AssessJob, run_assess
        from ...workflows.report import ReportTarget
        from ..io_gdal import GdalBackend

        map_path = self.raster_path(parameters, "INPUT", context)
        reference = self.reference(parameters, context, map_path, feedback, required=True)
        report = ReportTarget.from_html(self.parameterAsFileOutput(parameters, "OUTPUT_REPORT", context))
        feedback.setProgress(10)
        area = self.parameterAsBoolean(parameters, "AREA_ADJUSTED", context)
        res = run_assess(AssessJob(map_path, reference, report, area_adjusted=area), GdalBackend(),
                         self.callbacks(feedback))
        feedback.setProgress(100)
        a = res.accuracy
        return {"OA": a["oa"], "AA": a["aa"], "KAPPA": a["kappa"], "N_PIXELS": res.n,
                "OUTPUT_REPORT": res.report_paths.get("html"),
                "PER_CLASS_CSV": res.report_paths.get("per_class_csv"),
                "CONFUSION_CSV": res.report_paths.get("confusion_csv"),
                "AREA_CSV": res.report_paths.get("area_csv"),
                "OA_AREA_ADJUSTED": (a.get("area_adjusted") or {}).get("oa")}
