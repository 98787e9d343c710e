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
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterField,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterRasterLayer,
)
from qgis.PyQt.QtCore import QCoreApplication
from qgis.PyQt.QtGui import QIcon

from ...core.assets import ICON_PATH

HOMEPAGE = "https://github.com/hypersnn/hypersnn"



class HyperSNNAlgorithm(QgsProcessingAlgorithm):
    """Base: subclasses implement `define()` and `process()`; this turns engine errors into
    QgsProcessingException with the engine's message, and checks dependencies first."""

    _name = ""
    _display = ""
    _help = ""
    _needs = "all"
    """plugin.deps purpose: "classify" algorithms also run with the torch-free packages"""

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

        missing = deps.missing_packages(purpose=self._needs)
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
        """workflows.callbacks.Callbacks for the feedback, mapping the run's 0..1 onto start..end of the bar."""
        from ...workflows.callbacks import Callbacks

        last = {"msg": None}

        def progress(f, m):
            feedback.setProgress(100.0 * (start + (end - start) * max(0.0, min(1.0, float(f)))))
            if m and m != last["msg"]:
                last["msg"] = m
                feedback.setProgressText(m)

        return Callbacks(progress=progress, is_canceled=feedback.isCanceled, log=feedback.pushInfo)

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
        from ..ogr_vectors import read_polygons_qgis

        source = self.parameterAsSource(parameters, name, context)
        if source is None:
            return None, ""
        field = self.parameterAsString(parameters, field_name, context)
        if not field:
            raise QgsProcessingException(f"Choose the class field of the {name.lower()} layer ({field_name})")
        from ...workflows.callbacks import call_with_warnings

        feats, notes = call_with_warnings(read_polygons_qgis, source, field, target_crs, context.transformContext(),
                                          feedback.isCanceled)
        for text in notes:
            feedback.pushWarning(f"{name}: {text}")
        return feats, source.sourceName() or str(parameters.get(name))

    def reference(self, parameters, context, raster, feedback, required: bool):
        """The reference data of add_reference_parameters as a LabelSource (polygons read here, in the raster's
        CRS), or None when none is given and `required` is False."""
        from ...workflows.backend import LabelSource

        ref_raster = self.raster_path(parameters, "REFERENCE_RASTER", context)
        if ref_raster:
            if self.parameterAsSource(parameters, "REFERENCE", context) is not None:
                feedback.reportError("Both reference polygons and a reference raster given; using the raster", False)
            return LabelSource(path=ref_raster)
        _, crs = self.raster_crs(raster)
        feats, src = self.polygons(parameters, "REFERENCE", "REFERENCE_FIELD", context, crs, feedback)
        if not feats:
            if required:
                raise QgsProcessingException("Give reference polygons (with their class field) or a reference "
                                             "label raster")
            return None
        return LabelSource(features=feats, description=src, **point_buffer_of(self, parameters, context))

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

    alg.addParameter(QgsProcessingParameterFeatureSource("REFERENCE", alg.tr("Reference polygons or points"),
                                                         LABEL_GEOMETRIES, optional=True))
    alg.addParameter(QgsProcessingParameterField("REFERENCE_FIELD", alg.tr("Reference class field"),
                                                 parentLayerParameterName="REFERENCE", optional=True))
    alg.addParameter(QgsProcessingParameterRasterLayer("REFERENCE_RASTER",
                                                       alg.tr("Reference label raster (instead of polygons)"),
                                                       optional=True))
    add_point_buffer_parameters(alg)


LABEL_GEOMETRIES = [QgsProcessing.SourceType.TypeVectorPolygon, QgsProcessing.SourceType.TypeVectorPoint]


def preselect(param, *accepts):
    """Open the Processing dialog with the project's fitting layer in `param`: the first layer (in the Layers
    panel's order) that the first of `accepts` takes, else that the second takes, ...; with none, QGIS's own
    choice (a required layer parameter always shows one). Without this the dialog shows the first compatible
    layer by name: the label raster as the hyperspectral input, the hyperspectral raster as a class map. Only the
    dialog's initial value changes (setGuiDefaultValueOverride): models and qgis_process keep the parameter's
    real default, none."""
    from qgis.core import QgsProject
    from qgis.PyQt.QtCore import QCoreApplication, QThread

    app = QCoreApplication.instance()
    if app is None or QThread.currentThread() != app.thread():  # the project belongs to the main thread
        return param
    layers = [n.layer() for n in QgsProject.instance().layerTreeRoot().findLayers() if n.layer() is not None]
    for accept in accepts:
        found = next((lyr for lyr in layers if _accepts(accept, lyr)), None)
        if found is not None:
            param.setGuiDefaultValueOverride(found.id())
            return param
    return param


def _accepts(accept, layer) -> bool:
    try:
        return bool(accept(layer))
    except Exception:  # noqa: BLE001 - a layer whose provider cannot answer is not a candidate
        return False


def is_geometry(*kinds):
    """accept() for preselect: vector layers of these QgsWkbTypes.GeometryType values."""
    from qgis.core import QgsVectorLayer

    return lambda lyr: isinstance(lyr, QgsVectorLayer) and lyr.geometryType() in kinds


def is_class_map(layer) -> bool:
    """accept() for preselect: one band of integers, as a class map has (never a hyperspectral cube)."""
    from qgis.core import Qgis, QgsRasterLayer

    ints = {Qgis.DataType.Byte, Qgis.DataType.UInt16, Qgis.DataType.Int16, Qgis.DataType.UInt32,
            Qgis.DataType.Int32}
    return isinstance(layer, QgsRasterLayer) and layer.bandCount() == 1 and layer.dataProvider().dataType(1) in ints


def is_image(layer) -> bool:
    """accept() for preselect: a raster with more than one band (an image to classify, not a class map)."""
    from qgis.core import QgsRasterLayer

    return isinstance(layer, QgsRasterLayer) and layer.bandCount() > 1


def add_point_buffer_parameters(alg: HyperSNNAlgorithm):
    """How far point labels reach (core/data/labels.buffer_points): 0 = the pixel a point falls in."""
    from qgis.core import QgsProcessingParameterEnum, QgsProcessingParameterNumber

    from ...core.config.schema import POINT_BUFFER_UNITS

    alg.addParameter(QgsProcessingParameterNumber("POINT_BUFFER", alg.tr("Point buffer (points only)"),
                                                  QgsProcessingParameterNumber.Type.Double, 0.0, minValue=0.0))
    alg.addParameter(QgsProcessingParameterEnum("POINT_BUFFER_UNIT", alg.tr("Point buffer unit"),
                                                options=list(POINT_BUFFER_UNITS), defaultValue=0))


def point_buffer_of(alg: HyperSNNAlgorithm, parameters, context) -> dict:
    """LabelSource keyword arguments for the point buffer parameters."""
    from ...core.config.schema import POINT_BUFFER_UNITS

    return {"point_buffer": alg.parameterAsDouble(parameters, "POINT_BUFFER", context),
            "point_buffer_unit": POINT_BUFFER_UNITS[alg.parameterAsEnum(parameters, "POINT_BUFFER_UNIT", context)]}


def add_training_inputs(alg: HyperSNNAlgorithm):
    """The first parameters of every algorithm that trains (train, workflow), in this order: the raster, the
    training data and settings (add_training_parameters), the model file."""
    alg.addParameter(preselect(QgsProcessingParameterRasterLayer("INPUT", alg.tr("Hyperspectral raster")), is_image))
    add_training_parameters(alg)
    alg.addParameter(QgsProcessingParameterFileDestination("OUTPUT_MODEL", alg.tr("Model file"),
                                                           "HyperSNN model (*.hsnn)"))


def add_training_parameters(alg: HyperSNNAlgorithm):
    """Training data, the preset, every training setting of the registry, the settings file."""
    from .parameters import TRAIN_SECTIONS, add_preset_and_config, add_setting_parameters

    from qgis.core import QgsWkbTypes

    alg.addParameter(preselect(QgsProcessingParameterFeatureSource("POLYGONS", alg.tr("Training polygons or points"),
                                                                   LABEL_GEOMETRIES),
                               is_geometry(QgsWkbTypes.GeometryType.PolygonGeometry),
                               is_geometry(QgsWkbTypes.GeometryType.PointGeometry)))
    alg.addParameter(QgsProcessingParameterField("CLASS_FIELD", alg.tr("Class field"), parentLayerParameterName="POLYGONS"))
    alg.addParameter(QgsProcessingParameterFeatureSource("VALIDATION", alg.tr("Independent validation polygons or points"),
                                                         LABEL_GEOMETRIES, optional=True))
    alg.addParameter(QgsProcessingParameterField("VALIDATION_FIELD", alg.tr("Validation class field"),
                                                 parentLayerParameterName="VALIDATION", optional=True))
    add_point_buffer_parameters(alg)
    add_setting_parameters(alg, TRAIN_SECTIONS)
    add_preset_and_config(alg)


def run_config_from_parameters(alg: HyperSNNAlgorithm, parameters, context):
    from .parameters import config_from_parameters

    return config_from_parameters(alg, parameters, context)


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
    """A workflows.train.TrainJob from the training parameters (polygons read here, in the raster's CRS)."""
    from ...workflows.backend import LabelSource
    from ...workflows.labels import ClassStyle
    from ...workflows.report import ReportTarget
    from ...workflows.train import TrainJob, default_report_target

    raster = alg.raster_path(parameters, "INPUT", context)
    cfg = run_config_from_parameters(alg, parameters, context)
    _, crs = alg.raster_crs(raster)
    feats, src = alg.polygons(parameters, "POLYGONS", "CLASS_FIELD", context, crs, feedback)
    vfield = "VALIDATION_FIELD" if alg.parameterAsString(parameters, "VALIDATION_FIELD", context) else "CLASS_FIELD"
    val, vsrc = alg.polygons(parameters, "VALIDATION", vfield, context, crs, feedback)
    validation = None
    if val:
        feedback.pushInfo(f"independent validation polygons: {vsrc} ({len(val)} features)")
        validation = LabelSource(features=val, description=vsrc, **point_buffer_of(alg, parameters, context))
    report = ReportTarget.from_html(report_html) if report_html else default_report_target(model_path, class_map)
    labels = LabelSource(features=feats, description=src, **point_buffer_of(alg, parameters, context))
    return TrainJob(raster=raster, labels=labels, cfg=cfg,
                    model_path=model_path, validation=validation, class_map=class_map, confidence=confidence,
                    report=report, class_style=ClassStyle(style or {}),
                    provenance={"command": f"processing hypersnn:{alg.name()}", "tool": "HyperSNN QGIS plugin"},
                    inputs=[(alg.parameterAsFile(parameters, "CONFIG", context), "settings file")])


# ------------------------------------------------------------------------------------------------
# styling of loaded outputs


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


def style_on_load(alg: "HyperSNNAlgorithm", context: QgsProcessingContext, qmls: dict):
    """Style the outputs QGIS loads when the algorithm finishes. QGIS keeps only a pointer to a post-processor,
    so the algorithm instance (which lives as long as its run) holds the Python objects: one run's worth,
    replaced by the next run, never growing."""
    alg._post_processors = []
    for path, qml in qmls.items():
        if qml and context.willLoadLayerOnCompletion(path):
            pp = QmlStyler(qml)
            alg._post_processors.append(pp)
            context.layerToLoadOnCompletionDetails(path).setPostProcessor(pp)
