"""Processing algorithm `hypersnn:sample`: stratified random validation points from a class map."""
from __future__ import annotations

from qgis.core import (
    QgsProcessing,
    QgsProcessingOutputNumber,
    QgsProcessingParameterEnum,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterLayer,
    QgsProcessingParameterVectorDestination,
)

from .base import HyperSNNAlgorithm, is_class_map, preselect

ALLOCATIONS = ("Equal: N points in every class", "Proportional: N points in all, shared by mapped area")


class SampleAlgorithm(HyperSNNAlgorithm):
    _name = "sample"
    _display = "Create stratified random validation points"
    _help = (
        "<p>Draws a stratified random sample from a class map, with its classes as strata: N points in every "
        "class (equal allocation), or N points in all shared in proportion to the mapped area with a minimum per "
        "class. A class with fewer pixels than its share gives all of them. The seed fixes the sample.</p>"
        "<p>The points lie at pixel centres, in the map's CRS (GeoPackage), with the map's class in "
        "<i>map_value</i> / <i>map_class</i> and an empty <i>ref_value</i>: fill it with the reference class "
        "(field visit or imagery), then run <b>Accuracy assessment</b> with these points as the reference, "
        "<i>ref_value</i> as the class field and <b>area-adjusted</b> on, for class areas and accuracies with "
        "95 % intervals (Olofsson et al. 2014).</p>"
    )

    def define(self):
        self.addParameter(preselect(QgsProcessingParameterRasterLayer("INPUT", self.tr("Class map")), is_class_map))
        self.addParameter(QgsProcessingParameterEnum("ALLOCATION", self.tr("Allocation"), options=list(ALLOCATIONS),
                                                     defaultValue=0))
        self.addParameter(QgsProcessingParameterNumber("N", self.tr("Points (per class, or in all)"),
                                                       QgsProcessingParameterNumber.Type.Integer, 50, minValue=1))
        self.addParameter(QgsProcessingParameterNumber("MIN_PER_CLASS", self.tr("Minimum per class (proportional)"),
                                                       QgsProcessingParameterNumber.Type.Integer, 0, minValue=0))
        self.addParameter(QgsProcessingParameterNumber("SEED", self.tr("Seed"), QgsProcessingParameterNumber.Type.Integer,
                                                       0, minValue=0))
        self.addParameter(QgsProcessingParameterVectorDestination("OUTPUT", self.tr("Validation points"),
                                                                  QgsProcessing.SourceType.TypeVectorPoint))
        self.addOutput(QgsProcessingOutputNumber("N_POINTS", self.tr("Points written")))

    def process(self, parameters, context, feedback):
        from ...core.data.sampling import SampleDesign
        from ...workflows.sample import SampleJob, run_sample
        from ..io_gdal import GdalBackend

        map_path = self.raster_path(parameters, "INPUT", context)
        n = self.parameterAsInt(parameters, "N", context)
        proportional = self.parameterAsEnum(parameters, "ALLOCATION", context) == 1
        design = SampleDesign(per_class=None if proportional else n, total=n if proportional else None,
                              min_per_class=self.parameterAsInt(parameters, "MIN_PER_CLASS", context),
                              seed=self.parameterAsInt(parameters, "SEED", context))
        out = self.parameterAsOutputLayer(parameters, "OUTPUT", context)
        res = run_sample(SampleJob(map_path, out, design), GdalBackend(), self.callbacks(feedback))
        feedback.setProgress(100)
        return {"OUTPUT": res.path, "N_POINTS": res.n}
