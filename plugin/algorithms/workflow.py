"""Processing algorithm `hypersnn:workflow`: train, classify and assess in one run."""
from __future__ import annotations

import os

from qgis.core import (
    QgsProcessingOutputNumber,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterRasterDestination,
)

from .base import (
    TRAIN_HELP,
    HyperSNNAlgorithm,
    add_training_inputs,
    class_style_for,
    style_on_load,
    training_job,
    write_output_styles,
)


class WorkflowAlgorithm(HyperSNNAlgorithm):
    _name = "workflow"
    _display = "Classification workflow"
    _help = (
        "<p>The whole job in one run: <b>train</b> a quantized SNN on the training polygons, "
        "<b>classify</b> the raster with it (class map and confidence map), and <b>assess</b> the class map "
        "on the reference pixels that were not used for training: the independent validation polygons when "
        "given, else, with a hold-out split, the training polygons' pixels outside the training split. In map "
        "production (the default split) every training label trains the model, so without validation polygons "
        "the accuracy is the training report's grouped cross-validation, and no map assessment is written. "
        "Writes the model file, the training report (accuracy and energy) and the map's accuracy report.</p>"
        + TRAIN_HELP
    )

    def define(self):
        add_training_inputs(self)
        self.addParameter(QgsProcessingParameterRasterDestination("OUTPUT_CLASSES", self.tr("Class map")))
        self.addParameter(QgsProcessingParameterRasterDestination("OUTPUT_CONFIDENCE", self.tr("Confidence map"),
                                                                  optional=True, createByDefault=True))
        self.addParameter(QgsProcessingParameterFileDestination("OUTPUT_REPORT", self.tr("Training report"),
                                                                "HTML files (*.html)", optional=True))
        self.addParameter(QgsProcessingParameterFileDestination("OUTPUT_ASSESSMENT",
                                                                self.tr("Accuracy report of the class map"),
                                                                "HTML files (*.html)", optional=True))
        for k, t in (("OA", "Overall accuracy of the class map"), ("KAPPA", "Kappa of the class map"),
                     ("TEST_OA", "Overall accuracy of the training report (test pixels, or cross-validated in map "
                                 "production)"),
                     ("ENERGY_RATIO", "Energy ratio FP32 CNN / SNN (complete convention, per patch)"),
                     ("ENERGY_RATIO_Q", "Energy ratio k-bit CNN / SNN (complete convention, per patch)")):
            self.addOutput(QgsProcessingOutputNumber(k, self.tr(t)))

    def prepareAlgorithm(self, parameters, context, feedback):
        self._style = class_style_for(self, parameters, "POLYGONS", "CLASS_FIELD", context)
        return True

    def process(self, parameters, context, feedback):
        from ...workflows.assess import AssessJob, run_assess
        from ...workflows.report import ReportTarget
        from ...workflows.train import run_train
        from ..io_gdal import GdalBackend

        model = self.parameterAsFileOutput(parameters, "OUTPUT_MODEL", context)
        classes = self.parameterAsOutputLayer(parameters, "OUTPUT_CLASSES", context)
        conf = self.parameterAsOutputLayer(parameters, "OUTPUT_CONFIDENCE", context) or None
        report = self.parameterAsFileOutput(parameters, "OUTPUT_REPORT", context) or None
        assessment = self.parameterAsFileOutput(parameters, "OUTPUT_ASSESSMENT", context) or None
        if not assessment:
            assessment = os.path.splitext(classes)[0] + "_accuracy.html"
        job = training_job(self, parameters, context, feedback, model, report, classes, conf,
                           style=getattr(self, "_style", {}))
        target = ReportTarget.from_html(assessment).check()  # before the run, like every other output
        feedback.pushInfo("1/3 training")
        res = run_train(job, GdalBackend(), self.callbacks(feedback, 0.0, 0.9))
        feedback.pushInfo("3/3 assessing the class map")
        style_on_load(self, context, write_output_styles(res.class_map, res.classes, res.confidence))
        m = res.model
        if job.validation is None and (m.meta.get("split_protocol") or {}).get("method") == "cv":
            feedback.pushInfo("Map production: every training label trained the model, so the class map is not "
                              "assessed against them; OA and KAPPA are the training report's grouped cross-validated "
                              "accuracy. Give validation polygons for an independent assessment of the map.")
            feedback.setProgress(100)
            oa, kappa, assessed = res.summary["oa"], res.summary["kappa"], None
        else:
            if job.validation is not None:
                reference, exclude = job.validation, None
            else:  # the training polygons or points (with their buffer), training pixels excluded
                reference = job.labels
                exclude = m.training_mask(tuple(m.meta.get("split_masks", {}).get("shape") or (0, 0)))
            a = run_assess(AssessJob(res.class_map, reference, target, exclude,
                                     title=f"Accuracy of {os.path.basename(res.class_map)}"),
                           GdalBackend(), self.callbacks(feedback, 0.9, 1.0))
            feedback.setProgress(100)
            oa, kappa, assessed = a.accuracy["oa"], a.accuracy["kappa"], a.report_paths.get("html")
        return {"OUTPUT_MODEL": res.model_path, "OUTPUT_CLASSES": res.class_map,
                "OUTPUT_CONFIDENCE": res.confidence, "OUTPUT_REPORT": res.report_paths.get("html"),
                "OUTPUT_ASSESSMENT": assessed, "OA": oa, "KAPPA": kappa, "TEST_OA": res.summary["oa"],
                "ENERGY_RATIO": res.summary["energy_ratios"]["complete_fp_cnn_over_snn"],
                "ENERGY_RATIO_Q": res.summary["energy_ratios"]["complete_q_cnn_over_snn"]}
