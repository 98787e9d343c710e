"""Processing algorithm `hypersnn:classify`: apply a model file to a raster."""
from __future__ import annotations

from qgis.core import (
    QgsProcessingException,
    QgsProcessingOutputNumber,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFile,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterDestination,
    QgsProcessingParameterRasterLayer,
)

from .base import HyperSNNAlgorithm, advanced, style_on_load, write_output_styles

MODES = [("snn", "Spiking network (SNN)"), ("cnn", "The CNN it was converted from")]


class ClassifyAlgorithm(HyperSNNAlgorithm):
    _name = "classify"
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
    )

    def define(self):
        self.addParameter(QgsProcessingParameterRasterLayer("INPUT", self.tr("Raster to classify")))
        self.addParameter(QgsProcessingParameterFile("MODEL", self.tr("Model file (.hsnn)"), extension="hsnn"))
        self.addParameter(advanced(QgsProcessingParameterEnum("MODE", self.tr("Network"), [m[1] for m in MODES],
                                                              defaultValue=0)))
        self.addParameter(advanced(QgsProcessingParameterNumber("WINDOW", self.tr("Window size (pixels)"),
                                                                QgsProcessingParameterNumber.Integer, 128,
                                                                minValue=8, maxValue=4096)))
        self.addParameter(QgsProcessingParameterRasterDestination("OUTPUT", self.tr("Class map")))
        self.addParameter(QgsProcessingParameterRasterDestination("CONFIDENCE", self.tr("Confidence map"),
                                                                  optional=True, createByDefault=True))
        self.addParameter(QgsProcessingParameterRasterDestination("PROBABILITIES",
                                                                  self.tr("Class probabilities"), optional=True,
                                                                  createByDefault=False))
        self.addParameter(QgsProcessingParameterRasterDestination(
            "ENERGY_MAP", self.tr("Energy map (SNN pJ and spikes per pixel)"), optional=True, createByDefault=False))
        self.addOutput(QgsProcessingOutputNumber("CLASSIFIED_PIXELS", self.tr("Classified pixels")))
        self.addOutput(QgsProcessingOutputNumber("SCENE_SNN_MJ", self.tr(
            "SNN energy of the classified scene (mJ, complete convention; with an energy map)")))

    def process(self, parameters, context, feedback):
        from ...core.config import ClassifyConfig
        from ..jobs import load_model, run_classify

        raster = self.raster_path(parameters, "INPUT", context)
        model_path = self.parameterAsFile(parameters, "MODEL", context)
        if not model_path:
            raise QgsProcessingException("Choose a model file (.hsnn)")
        out = self.parameterAsOutputLayer(parameters, "OUTPUT", context)
        conf = self.parameterAsOutputLayer(parameters, "CONFIDENCE", context) or None
        prob = self.parameterAsOutputLayer(parameters, "PROBABILITIES", context) or None
        energy = self.parameterAsOutputLayer(parameters, "ENERGY_MAP", context) or None
        ccfg = ClassifyConfig(window=self.parameterAsInt(parameters, "WINDOW", context),
                              mode=MODES[self.parameterAsEnum(parameters, "MODE", context)][0],
                              probabilities=bool(prob))
        model = load_model(model_path)
        feedback.pushInfo("model: " + ", ".join(f"{k} {v}" for k, v in model.summary().items()
                                                if k in ("architecture", "time_steps", "weight_bits", "input_bands",
                                                         "band_ranges")))
        progress, canceled, log = self.callbacks(feedback)
        res = run_classify(raster, model, out, conf, prob, ccfg, progress, canceled, log, energy_map_path=energy)
        style_on_load(context, write_output_styles(res.class_map_path, res.classes, res.confidence_path,
                                                   res.energy_map_path))
        for name, n in res.class_counts.items():
            feedback.pushInfo(f"  {name}: {n} pixels")
        return {"OUTPUT": res.class_map_path, "CONFIDENCE": res.confidence_path,
                "PROBABILITIES": res.probabilities_path, "ENERGY_MAP": res.energy_map_path,
                "CLASSIFIED_PIXELS": res.valid_pixels,
                "SCENE_SNN_MJ": res.energy["snn_mj"] if res.energy else None}
