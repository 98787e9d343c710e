"""Shared plumbing of the HyperSNN Processing algorithms: dependency check, feedback adapters, error
translation, the training parameters (shared by `train` and `workflow`), output styling."""
from __future__ import annotations

import os
from typing import Optional

from qgis.core import (
    QgsProcessing,
    QgsProcessingAlgorithm,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingLayerPostProcessorInterface,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterDefinition,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterField,
    QgsProcessingParameterFile,
    QgsProcessingParameterNumber,
    QgsProcessingParameterString,
)
from qgis.PyQt.QtCore import QCoreApplication
from qgis.PyQt.QtGui import QIcon

from ...core.config import PRESET_NOTES, PRESETS
from ..provider import ICON_PATH

HOMEPAGE = "https://github.com/hypersnn/hypersnn"

SPLITS = [("random", "Random fraction of each class"), ("count", "Fixed number of pixels per class"),
          ("blocks", "Spatially disjoint blocks"), ("polygons", "Whole polygons (spatially disjoint)")]
ARCHS = [("hybrid", "Hybrid 3-D/2-D CNN"), ("3d", "3-D CNN")]
LEAK_MODES = [("trained", "Trained (any value in 0..1; a multiply per neuron and step)"),
              ("pow2", "Trained, power of two (1 - 2^-n: a shift and an add)"),
              ("none", "None (integrate-and-fire)")]
PRESET_NAMES = list(PRESETS)


def advanced(p):
    p.setFlags(p.flags() | QgsProcessingParameterDefinition.FlagAdvanced)
    return p


class HyperSNNAlgorithm(QgsProcessingAlgorithm):
    """Base: subclasses implement `define()` and `process()`; this turns engine errors into
    QgsProcessingException with the engine's message, and checks dependencies first."""

    _name = ""
    _display = ""
    _help = ""

    def tr(self, text):
        return QCoreApplication.translate("HyperSNN", text)

    def createInstance(self):
        return type(self)()

    def name(self):
        return self._name

    def displayName(self):
        return self.tr(self._display)

    def shortHelpString(self):
        return self.tr(self._help)

    def helpUrl(self):
        return HOMEPAGE

    def icon(self):
        return QIcon(ICON_PATH)

    def svgIconPath(self):
        return ICON_PATH

    def initAlgorithm(self, config=None):
        self.define()

    def define(self):  # pragma: no cover - overridden
        raise NotImplementedError

    # -- running ------------------------------------------------------------------------------
    def checkParameterValues(self, parameters, context):  # noqa: N802 - QGIS API
        """QGIS reports a raster file it cannot load as '... not found'; for a file that exists, say why
        HyperSNN's reader refuses it (the ENVI header field at fault, a truncated data file, ...)."""
        ok, msg = super().checkParameterValues(parameters, context)
        if not ok:
            better = self._explain_unloadable_rasters(parameters, context)
            if better:
                return False, better
        return ok, msg

    def _explain_unloadable_rasters(self, parameters, context) -> Optional[str]:
        from qgis.core import QgsProcessingParameterRasterLayer

        for d in self.parameterDefinitions():
            if not isinstance(d, QgsProcessingParameterRasterLayer):
                continue
            value = parameters.get(d.name())
            if not isinstance(value, str) or not value or not os.path.isfile(value):
                continue
            if self.parameterAsRasterLayer(parameters, d.name(), context) is not None:
                continue
            try:
                from ...core.errors import HyperSNNError
                from ..io_gdal import open_raster

                open_raster(value).close()
            except HyperSNNError as e:
                return f"{d.description()} ({d.name()}): {e}"
            except Exception:  # noqa: BLE001 - the engine may be missing; keep QGIS's message
                return None
        return None

    def processAlgorithm(self, parameters, context, feedback):
        from .. import deps

        missing = deps.missing_packages()
        if missing:
            raise QgsProcessingException(deps.explain(missing))
        from ...core.errors import Canceled, HyperSNNError

        try:
            return self.process(parameters, context, feedback)
        except Canceled as e:
            raise QgsProcessingException(f"Canceled ({e}); no output was written.") from None
        except HyperSNNError as e:
            raise QgsProcessingException(str(e)) from None
        except MemoryError:
            raise QgsProcessingException("Out of memory: select fewer bands, use PCA or a smaller patch size, "
                                         "or a smaller window") from None

    def process(self, parameters, context, feedback) -> dict:  # pragma: no cover - overridden
        raise NotImplementedError

    @staticmethod
    def callbacks(feedback, start: float = 0.0, end: float = 1.0):
        """(progress, is_canceled, log) for the engine, mapping its 0..1 onto start..end of the bar."""
        last = {"msg": None}

        def progress(f, m):
            feedback.setProgress(100.0 * (start + (end - start) * max(0.0, min(1.0, float(f)))))
            if m and m != last["msg"]:
                last["msg"] = m
                feedback.setProgressText(m)

        return progress, feedback.isCanceled, feedback.pushInfo

    # -- inputs ---------------------------------------------------------------------------------
    def raster_path(self, parameters, name, context) -> Optional[str]:
        from ..io_gdal import layer_raster_path

        layer = self.parameterAsRasterLayer(parameters, name, context)
        if layer is None:
            value = self.parameterAsString(parameters, name, context)
            if not value:
                return None
            raise QgsProcessingException(f"Cannot open the raster {value!r} given for {name}")
        return layer_raster_path(layer)

    def polygons(self, parameters, name, field_name, context, target_crs, feedback):
        """(features in target_crs, source description) or (None, "") when the optional input is empty."""
        from ..io_gdal import read_polygons_qgis

        source = self.parameterAsSource(parameters, name, context)
        if source is None:
            return None, ""
        field = self.parameterAsString(parameters, field_name, context)
        if not field:
            raise QgsProcessingException(f"Choose the class field of the {name.lower()} layer ({field_name})")
        from ..jobs import call_with_warnings

        feats, notes = call_with_warnings(read_polygons_qgis, source, field, target_crs, context.transformContext(),
                                          feedback.isCanceled)
        for text in notes:
            feedback.pushWarning(f"{name}: {text}")
        return feats, source.sourceName() or str(parameters.get(name))

    @staticmethod
    def raster_crs(path):
        from qgis.core import QgsCoordinateReferenceSystem

        from ..io_gdal import raster_info

        info = raster_info(path)
        crs = QgsCoordinateReferenceSystem.fromWkt(info.crs_wkt) if info.crs_wkt else QgsCoordinateReferenceSystem()
        return info, crs


# ------------------------------------------------------------------------------------------------
# training parameters (train + workflow)


TRAIN_HELP = (
    "<p><b>Training data</b>: polygons with a class field (integer class ids, or class names as text). "
    "They are reprojected to the raster's CRS when needed and burnt onto its grid (pixel centres). "
    "Class names and colours come from the layer's categorized style when it has one.</p>"
    "<p><b>Split</b>: with independent validation polygons, all training pixels train and the validation "
    "pixels test; otherwise the training pixels are split (random fraction, fixed count per class, "
    "spatially disjoint blocks or whole polygons). Spatial splits drop test pixels within half a patch "
    "of training pixels.</p>"
    "<p><b>Model</b>: a CNN (hybrid 3-D/2-D or 3-D) is trained, optionally with k-bit quantization, "
    "converted to a spiking network with <i>time steps</i> and fine-tuned. Weight bits 0 = full "
    "precision. The first layer reads analog values, so it is the only SNN layer that multiplies: its "
    "spatial kernel is 1 (per-pixel spectral filters, default) or 3 (3x3, as in the Hyper-SNN paper). "
    "A spike-rate penalty above 0 makes the SNN sparser (less energy) at some accuracy. An optional JSON "
    "settings file (as for the command line's --config) supplies every setting; parameters changed from "
    "their defaults override it.</p>"
)


def add_reference_parameters(alg: HyperSNNAlgorithm):
    """Optional reference data, polygons with a class field or a label raster (assess and energy)."""
    from qgis.core import QgsProcessing, QgsProcessingParameterRasterLayer

    alg.addParameter(QgsProcessingParameterFeatureSource("REFERENCE", alg.tr("Reference polygons"),
                                                         [QgsProcessing.TypeVectorPolygon], optional=True))
    alg.addParameter(QgsProcessingParameterField("REFERENCE_FIELD", alg.tr("Reference class field"),
                                                 parentLayerParameterName="REFERENCE", optional=True))
    alg.addParameter(QgsProcessingParameterRasterLayer("REFERENCE_RASTER",
                                                       alg.tr("Reference label raster (instead of polygons)"),
                                                       optional=True))


def add_training_parameters(alg: HyperSNNAlgorithm):
    from ...core.config import RunConfig

    d = RunConfig()
    alg.addParameter(QgsProcessingParameterString("BANDS", alg.tr("Bands to use (1-based ranges, empty = all)"),
                                                  optional=True))
    alg.addParameter(QgsProcessingParameterString("WAVELENGTHS", alg.tr("Wavelength windows (e.g. "
                                                                        "400-1340nm,1450-1800nm)"), optional=True))
    alg.addParameter(QgsProcessingParameterBoolean("DROP_BAD_BANDS", alg.tr("Drop bands flagged bad (bbl = 0)"),
                                                   defaultValue=d.bands.drop_bad_bands))
    alg.addParameter(QgsProcessingParameterFeatureSource("POLYGONS", alg.tr("Training polygons"),
                                                         [QgsProcessing.TypeVectorPolygon]))
    alg.addParameter(QgsProcessingParameterField("CLASS_FIELD", alg.tr("Class field"), parentLayerParameterName="POLYGONS"))
    alg.addParameter(QgsProcessingParameterFeatureSource("VALIDATION", alg.tr("Independent validation polygons"),
                                                         [QgsProcessing.TypeVectorPolygon], optional=True))
    alg.addParameter(QgsProcessingParameterField("VALIDATION_FIELD", alg.tr("Validation class field"),
                                                 parentLayerParameterName="VALIDATION", optional=True))
    alg.addParameter(QgsProcessingParameterEnum("SPLIT", alg.tr("Split of the training pixels (without validation "
                                                                "polygons)"), options=[s[1] for s in SPLITS],
                                                defaultValue=0))
    alg.addParameter(QgsProcessingParameterNumber("TRAIN_FRACTION", alg.tr("Training fraction (random, blocks, "
                                                                           "polygons)"),
                                                  QgsProcessingParameterNumber.Double, d.split.train_fraction,
                                                  minValue=0.001, maxValue=0.999))
    alg.addParameter(QgsProcessingParameterNumber("TRAIN_COUNT", alg.tr("Training pixels per class (count)"),
                                                  QgsProcessingParameterNumber.Integer, d.split.train_count,
                                                  minValue=1))
    alg.addParameter(advanced(QgsProcessingParameterNumber("BLOCK_SIZE", alg.tr("Block size in pixels (blocks)"),
                                                           QgsProcessingParameterNumber.Integer, d.split.block_size,
                                                           minValue=1)))
    alg.addParameter(advanced(QgsProcessingParameterNumber("VAL_FRACTION", alg.tr("Share of training pixels held "
                                                                                  "out for early stopping"),
                                                           QgsProcessingParameterNumber.Double, d.split.val_fraction,
                                                           minValue=0.0, maxValue=0.9)))
    alg.addParameter(QgsProcessingParameterEnum("ARCH", alg.tr("Architecture"), options=[a[1] for a in ARCHS],
                                                defaultValue=0))
    alg.addParameter(QgsProcessingParameterNumber("PATCH_SIZE", alg.tr("Patch size (odd, pixels)"),
                                                  QgsProcessingParameterNumber.Integer, d.model.patch_size,
                                                  minValue=1, maxValue=63))
    alg.addParameter(QgsProcessingParameterNumber("PCA", alg.tr("PCA components (0 = use the bands)"),
                                                  QgsProcessingParameterNumber.Integer,
                                                  d.preprocess.pca_components, minValue=0))
    alg.addParameter(QgsProcessingParameterNumber("TIME_STEPS", alg.tr("SNN time steps"),
                                                  QgsProcessingParameterNumber.Integer, d.train.time_steps,
                                                  minValue=1, maxValue=64))
    alg.addParameter(QgsProcessingParameterNumber("WEIGHT_BITS", alg.tr("Weight bits (0 = full precision)"),
                                                  QgsProcessingParameterNumber.Integer, d.train.weight_bits,
                                                  minValue=0, maxValue=16))
    alg.addParameter(QgsProcessingParameterNumber("CNN_EPOCHS", alg.tr("CNN epochs"),
                                                  QgsProcessingParameterNumber.Integer, d.train.cnn_epochs,
                                                  minValue=0))
    alg.addParameter(QgsProcessingParameterNumber("SNN_EPOCHS", alg.tr("SNN epochs"),
                                                  QgsProcessingParameterNumber.Integer, d.train.snn_epochs,
                                                  minValue=0))
    alg.addParameter(advanced(QgsProcessingParameterNumber("BATCH_SIZE", alg.tr("Batch size"),
                                                           QgsProcessingParameterNumber.Integer,
                                                           d.train.batch_size, minValue=1)))
    alg.addParameter(advanced(QgsProcessingParameterNumber(
        "FIRST_KERNEL", alg.tr("First-layer spatial kernel (1 = per-pixel spectral filters, fewer analog "
                               "multiplications; 3 = 3x3)"),
        QgsProcessingParameterNumber.Integer, d.model.first_spatial_kernel, minValue=1, maxValue=3)))
    alg.addParameter(advanced(QgsProcessingParameterNumber(
        "SPIKE_PENALTY", alg.tr("Spike-rate penalty in the SNN loss (0 = off; trades accuracy for energy)"),
        QgsProcessingParameterNumber.Double, d.train.spike_penalty, minValue=0.0)))
    alg.addParameter(advanced(QgsProcessingParameterEnum(
        "LEAK_MODE", alg.tr("Membrane leak"), options=[m[1] for m in LEAK_MODES],
        defaultValue=[m[0] for m in LEAK_MODES].index(d.train.leak_mode))))
    alg.addParameter(advanced(QgsProcessingParameterNumber(
        "INPUT_BITS", alg.tr("Input bits of the first layer (0 = real-valued; 2..16 = integers, cheaper multiplies)"),
        QgsProcessingParameterNumber.Integer, d.model.input_bits, minValue=0, maxValue=16)))
    alg.addParameter(QgsProcessingParameterEnum("PRESET", alg.tr("Preset (applied first; parameters changed from "
                                                                 "their defaults override it)"),
                                                options=[f"{k}: {PRESET_NOTES[k]}" for k in PRESET_NAMES],
                                                defaultValue=0))
    alg.addParameter(QgsProcessingParameterNumber("SEED", alg.tr("Random seed"),
                                                  QgsProcessingParameterNumber.Integer, d.train.seed, minValue=0))
    alg.addParameter(advanced(QgsProcessingParameterFile("CONFIG", alg.tr("Settings file (JSON, optional)"),
                                                         extension="json", optional=True)))


# parameter -> (section, field) of RunConfig
_PARAM_MAP = {
    "TRAIN_FRACTION": ("split", "train_fraction"), "TRAIN_COUNT": ("split", "train_count"),
    "BLOCK_SIZE": ("split", "block_size"), "VAL_FRACTION": ("split", "val_fraction"),
    "PATCH_SIZE": ("model", "patch_size"), "PCA": ("preprocess", "pca_components"),
    "TIME_STEPS": ("train", "time_steps"), "WEIGHT_BITS": ("train", "weight_bits"),
    "CNN_EPOCHS": ("train", "cnn_epochs"), "SNN_EPOCHS": ("train", "snn_epochs"),
    "BATCH_SIZE": ("train", "batch_size"), "SEED": ("train", "seed"),
    "FIRST_KERNEL": ("model", "first_spatial_kernel"), "SPIKE_PENALTY": ("train", "spike_penalty"),
    "INPUT_BITS": ("model", "input_bits"),
}
_INT_PARAMS = {"TRAIN_COUNT", "BLOCK_SIZE", "PATCH_SIZE", "PCA", "TIME_STEPS", "WEIGHT_BITS", "CNN_EPOCHS",
               "SNN_EPOCHS", "BATCH_SIZE", "SEED", "FIRST_KERNEL", "INPUT_BITS"}


def run_config_from_parameters(alg: HyperSNNAlgorithm, parameters, context):
    """RunConfig: the JSON settings file (if any) as base, parameters changed from defaults on top."""
    from ...core.config import RunConfig

    from ...core.config import apply_preset

    default = RunConfig()
    path = alg.parameterAsFile(parameters, "CONFIG", context)
    base_given = bool(path)
    cfg = RunConfig.load(path) if base_given else RunConfig()
    preset = PRESET_NAMES[alg.parameterAsEnum(parameters, "PRESET", context)]
    apply_preset(cfg, preset)
    base_given = base_given or preset != "default"

    def put(section, name, value):
        if not base_given or value != getattr(getattr(default, section), name):
            setattr(getattr(cfg, section), name, value)

    for p, (section, name) in _PARAM_MAP.items():
        if p in _INT_PARAMS:
            v = alg.parameterAsInt(parameters, p, context)
        else:
            v = alg.parameterAsDouble(parameters, p, context)
        put(section, name, v)
    put("bands", "indices", alg.parameterAsString(parameters, "BANDS", context) or "")
    put("bands", "wavelength_windows", alg.parameterAsString(parameters, "WAVELENGTHS", context) or "")
    put("bands", "drop_bad_bands", alg.parameterAsBool(parameters, "DROP_BAD_BANDS", context))
    put("split", "method", SPLITS[alg.parameterAsEnum(parameters, "SPLIT", context)][0])
    put("model", "arch", ARCHS[alg.parameterAsEnum(parameters, "ARCH", context)][0])
    put("train", "leak_mode", LEAK_MODES[alg.parameterAsEnum(parameters, "LEAK_MODE", context)][0])
    if not base_given or cfg.split.seed == default.split.seed:
        cfg.split.seed = cfg.train.seed
    return cfg.validate()


def class_style_for(alg, parameters, name, field_name, context):
    """The categorized-renderer class names/colours of a layer parameter (main thread)."""
    from ..layers import class_style_from_layer

    try:
        layer = alg.parameterAsVectorLayer(parameters, name, context)
        field = alg.parameterAsString(parameters, field_name, context)
        return class_style_from_layer(layer, field) if layer is not None else {}
    except Exception:  # noqa: BLE001 - styles are a nicety
        return {}


def training_job(alg: HyperSNNAlgorithm, parameters, context, feedback, model_path, report_html=None,
                 class_map=None, confidence=None, style=None):
    """Build a jobs.TrainJob from the training parameters."""
    from ..jobs import ClassStyle, TrainJob

    raster = alg.raster_path(parameters, "INPUT", context)
    cfg = run_config_from_parameters(alg, parameters, context)
    _, crs = alg.raster_crs(raster)
    feats, src = alg.polygons(parameters, "POLYGONS", "CLASS_FIELD", context, crs, feedback)
    vfield = "VALIDATION_FIELD" if alg.parameterAsString(parameters, "VALIDATION_FIELD", context) else "CLASS_FIELD"
    val, vsrc = alg.polygons(parameters, "VALIDATION", vfield, context, crs, feedback)
    if val:
        feedback.pushInfo(f"independent validation polygons: {vsrc} ({len(val)} features)")
    report_dir = stem = None
    if report_html:
        report_dir = os.path.dirname(os.path.abspath(report_html))
        base = os.path.basename(report_html)
        stem = os.path.splitext(base)[0] if base.lower().endswith((".html", ".htm")) else base
    return TrainJob(raster_path=raster, cfg=cfg, model_path=model_path, features=feats, labels_source=src,
                    validation_features=val, class_style=ClassStyle(style or {}), class_map_path=class_map,
                    confidence_path=confidence, report_dir=report_dir, report_stem=stem,
                    provenance={"command": f"processing hypersnn:{alg.name()}"})


# ------------------------------------------------------------------------------------------------
# styling of loaded outputs


_POST_PROCESSORS: list = []  # strong references: QGIS holds only a pointer


class QmlStyler(QgsProcessingLayerPostProcessorInterface):
    """Applies the .qml written beside an output raster when Processing loads it into the project."""

    def __init__(self, qml: str):
        super().__init__()
        self.qml = qml

    def postProcessLayer(self, layer, context, feedback):
        if layer is not None and os.path.exists(self.qml):
            layer.loadNamedStyle(self.qml)
            layer.triggerRepaint()


def write_output_styles(class_map: Optional[str], classes, confidence: Optional[str] = None,
                        energy_map: Optional[str] = None) -> dict:
    """Save .qml styles beside the outputs (works in a worker thread: layers not in a project)."""
    from qgis.core import QgsRasterLayer

    from ..layers import style_class_map, style_confidence, style_energy

    out = {}
    if class_map and os.path.exists(class_map):
        lyr = QgsRasterLayer(class_map, "class map")
        if lyr.isValid():
            out[class_map] = style_class_map(lyr, classes)
    if confidence and os.path.exists(confidence):
        lyr = QgsRasterLayer(confidence, "confidence")
        if lyr.isValid():
            out[confidence] = style_confidence(lyr)
    if energy_map and os.path.exists(energy_map):
        lyr = QgsRasterLayer(energy_map, "energy map")
        if lyr.isValid():
            out[energy_map] = style_energy(lyr)
    return out


def style_on_load(context: QgsProcessingContext, qmls: dict):
    for path, qml in qmls.items():
        if qml and context.willLoadLayerOnCompletion(path):
            pp = QmlStyler(qml)
            _POST_PROCESSORS.append(pp)
            context.layerToLoadOnCompletionDetails(path).setPostProcessor(pp)
