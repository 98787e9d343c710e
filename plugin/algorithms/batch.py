"""Processing algorithm `hypersnn:batch`: classify many rasters with one model (workflows/batch.py)."""
from __future__ import annotations

from qgis.core import (
    QgsProcessing,
    QgsProcessingException,
    QgsProcessingOutputFile,
    QgsProcessingOutputNumber,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterFile,
    QgsProcessingParameterFolderDestination,
    QgsProcessingParameterMultipleLayers,
    QgsProcessingParameterRasterDestination,
    QgsProcessingParameterString,
)

from .base import HyperSNNAlgorithm
from .parameters import add_setting_parameters, config_from_parameters


class BatchAlgorithm(HyperSNNAlgorithm):
    _name = "batch"
    _needs = "classify"
    _display = "Classify many rasters with one SNN model (batch)"
    _help = (
        "<p>Classifies every raster given (layers, and/or a folder or a file pattern such as "
        "<i>/data/scenes/*.tif</i>) with one model file and writes <i>scene</i>_classes.tif (and optionally "
        "<i>scene</i>_confidence.tif, <i>scene</i>_probabilities.tif) into the output folder, with a manifest "
        "(manifest.json) listing inputs and outputs with their sha256 checksums, timings and each scene's status.</p>"
        "<p>The manifest is updated after every scene. Run the algorithm again with the same folder and a stopped "
        "or failed batch resumes: scenes whose input, model, settings and outputs are unchanged are skipped. A scene "
        "that fails is recorded in the manifest with its error and the others still run (output FAILED counts them).</p>"
        "<p><b>Mosaic</b> (optional): the scenes' maps put on one grid (they must share the CRS and the pixel grid; "
        "nothing is resampled). Where scenes overlap the most confident scene's pixel is taken, so confidence maps "
        "are written. It is built once every scene is classified, and kept on a rerun when no scene changed.</p>"
        "<p><b>Scheduler</b> (advanced): <i>local:N</i> starts N worker processes on this computer; a Dask scheduler "
        "address (tcp://HOST:PORT) computes the windows on a cluster whose workers can read the same files and have "
        "GDAL's Python bindings and this plugin on their Python path. The maps are the same bytes as without it.</p>"
        "<p><b>Cloud-Optimized GeoTIFF</b> (advanced): internal overviews (class maps: the most frequent class), "
        "tiled, COG layout; colour table, class names and nodata kept.</p>"
    )

    def define(self):
        self.addParameter(QgsProcessingParameterMultipleLayers(
            "INPUTS", self.tr("Rasters to classify"), QgsProcessing.TypeRaster, optional=True))
        self.addParameter(QgsProcessingParameterString(
            "PATTERN", self.tr("More rasters: a folder or a file pattern (e.g. /data/*.tif)"), optional=True))
        self.addParameter(QgsProcessingParameterFile("MODEL", self.tr("Model file (.hsnn)"), extension="hsnn"))
        self.addParameter(QgsProcessingParameterBoolean("WRITE_CONFIDENCE", self.tr("Write confidence maps"), True))
        self.addParameter(QgsProcessingParameterBoolean("WRITE_PROBABILITIES",
                                                        self.tr("Write class probability rasters"), False))
        add_setting_parameters(self, ("classify",))
        self.addParameter(QgsProcessingParameterFolderDestination("OUTPUT_FOLDER", self.tr("Output folder")))
        self.addParameter(QgsProcessingParameterRasterDestination(
            "MOSAIC", self.tr("Mosaic of the scenes' class maps (optional)"), optional=True, createByDefault=False))
        self.addOutput(QgsProcessingOutputFile("MANIFEST", self.tr("Batch manifest (JSON)")))
        for name, text in (("DONE", "Scenes classified"), ("SKIPPED", "Scenes skipped (already done)"),
                           ("FAILED", "Scenes that failed")):
            self.addOutput(QgsProcessingOutputNumber(name, self.tr(text)))

    def process(self, parameters, context, feedback):
        from ...workflows.batch import BatchJob, run_batch
        from ..io_gdal import GdalBackend

        inputs = [lyr.source() for lyr in self.parameterAsLayerList(parameters, "INPUTS", context)]
        pattern = self.parameterAsString(parameters, "PATTERN", context).strip()
        if pattern:
            inputs.append(pattern)
        if not inputs:
            raise QgsProcessingException("Give rasters to classify: layers, or a folder or file pattern")
        model_path = self.parameterAsFile(parameters, "MODEL", context)
        if not model_path:
            raise QgsProcessingException("Choose a model file (.hsnn)")
        cfg = config_from_parameters(self, parameters, context, ("classify",))
        mosaic = self.parameterAsOutputLayer(parameters, "MOSAIC", context) or None
        job = BatchJob(inputs, model_path, self.parameterAsString(parameters, "OUTPUT_FOLDER", context),
                       confidence=self.parameterAsBool(parameters, "WRITE_CONFIDENCE", context),
                       probabilities=self.parameterAsBool(parameters, "WRITE_PROBABILITIES", context),
                       cfg=cfg.classify, mosaic=mosaic)
        res = run_batch(job, GdalBackend(), self.callbacks(feedback))
        for s in res.scenes:
            if s["status"] == "failed":
                feedback.reportError(f"{s['input']}: {s['error']}", False)
        out = {"MANIFEST": res.manifest, "DONE": res.done, "SKIPPED": res.skipped, "FAILED": res.failed,
               "OUTPUT_FOLDER": job.out_dir}
        if res.mosaic:
            if res.mosaic["status"] == "not built":
                feedback.reportError(f"mosaic not built: {res.mosaic['reason']}", False)
            else:
                out["MOSAIC"] = res.mosaic["outputs"]["class_map"]["path"]
        return out
