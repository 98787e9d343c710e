"""Processing algorithm `hypersnn:classify`: apply a model file to a raster."""
from __future__ import annotations

from qgis.core import (
    QgsProcessingException,
    QgsProcessingOutputNumber,
    QgsProcessingOutputString,
    QgsProcessingParameterFile,
    QgsProcessingParameterRasterDestination,
    QgsProcessingParameterRasterLayer,
)

from .base import HyperSNNAlgorithm, style_on_load, write_output_styles
from .parameters import add_setting_parameters, config_from_parameters


class ClassifyAlgorithm(HyperSNNAlgorithm):
    _name = "classify"
    _needs = "classify"
    _display = "Classify raster with SNN model"
    _help = (
        "<p>Classifies every pixel of a raster with a HyperSNN model file (.hsnn) and writes a class map "
        "(GeoTIFF with colour table and class names), optionally a confidence map (the highest class "
        "probability, 0..1) and one probability band per class. Nodata pixels stay nodata.</p>"
        "<p>The raster must have the bands the model was trained on (same band count, wavelengths within "
        "5 nm); otherwise the algorithm stops and says which bands differ.</p>"
        "<p>The raster is read window by window, so memory use does not grow with the image size; "
        "<i>window</i> sets the tile edge in pixels.</p>"
        "<p>The optional <b>energy map</b> shows where the SNN spends its energy: band 1 is the estimated SNN "
        "energy of each pixel in pJ (complete convention: MACs, accumulates, current injection, bias adds, leak, "
        "threshold compares and resets; 45 nm CMOS, Horowitz 2014), band 2 the spikes fired for it over all "
        "layers and time steps. Its sum is the scene's SNN energy (output SCENE_SNN_MJ).</p>"
        "<p><b>Engine</b>: torch, or ONNX Runtime running the SNN as an ONNX graph built from the model file "
        "(the same class map; probabilities within 1e-5). <i>auto</i> takes torch where it is installed and "
        "ONNX Runtime otherwise, so QGIS installs without torch classify with numpy, onnx and onnxruntime "
        "only. The energy map and the CNN mode need torch.</p>"
    )

    def define(self):
        self.addParameter(QgsProcessingParameterRasterLayer("INPUT", self.tr("Raster to classify")))
        self.addParameter(QgsProcessingParameterFile("MODEL", self.tr("Model file (.hsnn)"), extension="hsnn"))
        add_setting_parameters(self, ("classify",))
        self.addParameter(QgsProcessingParameterRasterDestination("OUTPUT", self.tr("Class map")))
        self.addParameter(QgsProcessingParameterRasterDestination("CONFIDENCE", self.tr("Confidence map"),
                                                                  optional=True, createByDefault=True))
        self.addParameter(QgsProcessingParameterRasterDestination("PROBABILITIES",
                                                                  self.tr("Class probabilities"), optional=True,
                                                                  createByDefault=False))
        self.addParameter(QgsProcessingParameterRasterDestination(
            "ENERGY_MAP", self.tr("Energy map (SNN pJ and spikes per pixel)"), optional=True, createByDefault=False))
        self.addOutput(QgsProcessingOutputNumber("CLASSIFIED_PIXELS", self.tr("Classified pixels")))
        self.addOutput(QgsProcessingOutputString("ENGINE", self.tr("What ran the network (torch, or onnx: ONNX Runtime)")))
        self.addOutput(QgsProcessingOutputNumber("SCENE_SNN_MJ", self.tr(
            "SNN energy of the classified scene (mJ, complete convention; with an energy map)")))

    def process(self, parameters, context, feedback):
        from ...workflows.classify import ClassifyJob, classify_model, run_classify
        from ..io_gdal import GdalBackend

        raster = self.raster_path(parameters, "INPUT", context)
        model_path = self.parameterAsFile(parameters, "MODEL", context)
        if not model_path:
            raise QgsProcessingException("Choose a model file (.hsnn)")
        out = self.parameterAsOutputLayer(parameters, "OUTPUT", context)
        conf = self.parameterAsOutputLayer(parameters, "CONFIDENCE", context) or None
        prob = self.parameterAsOutputLayer(parameters, "PROBABILITIES", context) or None
        energy = self.parameterAsOutputLayer(parameters, "ENERGY_MAP", context) or None
        cfg = config_from_parameters(self, parameters, context, ("classify",))
        job = ClassifyJob(raster, model_path, out, conf, prob, energy, cfg.classify)
        job.model = classify_model(job)
        feedback.pushInfo(f"model: engine {job.model.engine}, " + ", ".join(
            f"{k} {v}" for k, v in job.model.summary().items()
            if k in ("architecture", "time_steps", "weight_bits", "input_bands", "band_ranges")))
        res = run_classify(job, GdalBackend(), self.callbacks(feedback))
        style_on_load(self, context, write_output_styles(res.class_map, res.classes, res.confidence, res.energy_map))
        for name, n in res.class_counts.items():
            feedback.pushInfo(f"  {name}: {n} pixels")
        return {"OUTPUT": res.class_map, "CONFIDENCE": res.confidence, "PROBABILITIES": res.probabilities,
                "ENERGY_MAP": res.energy_map, "CLASSIFIED_PIXELS": res.valid_pixels, "ENGINE": res.engine,
                "SCENE_SNN_MJ": res.energy["snn_mj"] if res.energy else None}
