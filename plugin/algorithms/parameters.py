"""Processing parameters generated from the settings registry (core/config/settings.py), EnMAP-Box style: one `P_...`
constant per parameter name, one function that adds them, one that reads them back into a RunConfig.

A setting added to core/config/schema.py appears here (and on the command line, and in the training dialog) by
itself; only the inputs that are not settings (layers, files, the preset) are listed below.
"""
from __future__ import annotations

from qgis.core import (
    QgsProcessingParameterBoolean,
    QgsProcessingParameterDefinition,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFile,
    QgsProcessingParameterNumber,
    QgsProcessingParameterString,
)

from ...core.config.schema import PRESET_NOTES, PRESETS
from ...core.config.settings import SETTINGS, TRAIN_SECTIONS, settings

P_INPUT = "INPUT"
P_POLYGONS = "POLYGONS"
P_CLASS_FIELD = "CLASS_FIELD"
P_VALIDATION = "VALIDATION"
P_VALIDATION_FIELD = "VALIDATION_FIELD"
P_REFERENCE = "REFERENCE"
P_REFERENCE_FIELD = "REFERENCE_FIELD"
P_REFERENCE_RASTER = "REFERENCE_RASTER"
P_MODEL = "MODEL"
P_PRESET = "PRESET"
P_CONFIG = "CONFIG"
for _s in SETTINGS:  # P_TIME_STEPS = "TIME_STEPS", ... one per registered setting
    globals()[f"P_{_s.param}"] = _s.param
PRESET_NAMES = list(PRESETS)


def advanced(p):
    p.setFlags(p.flags() | QgsProcessingParameterDefinition.Flag.FlagAdvanced)
    return p


def _description(s) -> str:
    text = s.help[:1].upper() + s.help[1:]
    return text if len(text) <= 110 else text[:text.rfind(" ", 0, 107)] + " ..."


def setting_parameter(alg, s):
    """The Processing parameter of one registered setting."""
    desc = alg.tr(_description(s))
    if s.type is bool:
        p = QgsProcessingParameterBoolean(s.param, desc, defaultValue=s.default)
    elif s.processing_choices:
        opts = [str(c) for c in s.processing_choices]
        p = QgsProcessingParameterEnum(s.param, desc, options=opts,
                                       defaultValue=list(s.processing_choices).index(s.default))
    elif s.type in (int, float):
        kind = QgsProcessingParameterNumber.Type.Integer if s.type is int else QgsProcessingParameterNumber.Type.Double
        kw = {}
        if s.lo is not None:
            kw["minValue"] = s.lo
        if s.hi is not None:
            kw["maxValue"] = s.hi
        p = QgsProcessingParameterNumber(s.param, desc, kind, s.default, **kw)
    else:
        p = QgsProcessingParameterString(s.param, desc, defaultValue=s.default or None, optional=True)
    p.setHelp(s.describe())
    return advanced(p) if s.advanced else p


def add_setting_parameters(alg, sections) -> None:
    for s in settings(*sections, where="processing"):
        alg.addParameter(setting_parameter(alg, s))


def add_preset_and_config(alg) -> None:
    alg.addParameter(QgsProcessingParameterEnum(
        P_PRESET, alg.tr("Preset (applied first; parameters changed from their defaults override it)"),
        options=[f"{k}: {PRESET_NOTES[k]}" for k in PRESET_NAMES], defaultValue=0))
    alg.addParameter(advanced(QgsProcessingParameterFile(P_CONFIG, alg.tr("Settings file (JSON, optional)"),
                                                         extension="json", optional=True)))


def read_setting(alg, parameters, context, s):
    if s.type is bool:
        return alg.parameterAsBool(parameters, s.param, context)
    if s.processing_choices:
        return s.processing_choices[alg.parameterAsEnum(parameters, s.param, context)]
    if s.type is int:
        return alg.parameterAsInt(parameters, s.param, context)
    if s.type is float:
        return alg.parameterAsDouble(parameters, s.param, context)
    return alg.parameterAsString(parameters, s.param, context) or ""


def config_from_parameters(alg, parameters, context, sections=TRAIN_SECTIONS):
    """RunConfig: the settings file (if any) as base, then the preset, then parameters changed from their
    defaults; the one seed rule (RunConfig.couple_seeds)."""
    from ...core.config.schema import RunConfig, apply_preset

    path = alg.parameterAsFile(parameters, P_CONFIG, context) if P_CONFIG in _names(alg) else ""
    cfg = RunConfig.load(path) if path else RunConfig()
    split_seed = cfg.split.seed if path else None
    if P_PRESET in _names(alg):
        apply_preset(cfg, PRESET_NAMES[alg.parameterAsEnum(parameters, P_PRESET, context)])
    train_seed_set = False
    for s in settings(*sections, where="processing"):
        if s.param not in _names(alg):
            continue
        v = read_setting(alg, parameters, context, s)
        if v != s.default:
            s.set(cfg, v)
            train_seed_set |= s.key == "train.seed"
    cfg.couple_seeds(split_seed, train_seed_set)
    return cfg.validate()


def _names(alg) -> set:
    return {d.name() for d in alg.parameterDefinitions()}
