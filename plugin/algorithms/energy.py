"""Processing algorithm `hypersnn:energy`: energy per pixel of a model on a raster sample."""
from __future__ import annotations

from qgis.core import (
    QgsProcessingException,
    QgsProcessingOutputNumber,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterFile,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterLayer,
)

from .base import HyperSNNAlgorithm, add_reference_parameters
from .parameters import add_setting_parameters, advanced, config_from_parameters

OUTPUTS = (
    ("SNN_PJ", "SNN energy per pixel (pJ, complete convention, per patch)"),
    ("CNN_FP_PJ", "FP32 CNN energy per pixel (pJ, complete convention, per patch)"),
    ("CNN_Q_PJ", "k-bit CNN energy per pixel (pJ, complete convention, per patch)"),
    ("RATIO_FP", "Energy ratio FP32 CNN / SNN (complete convention, per patch)"),
    ("RATIO_Q", "Energy ratio k-bit CNN / SNN (complete convention, per patch)"),
    ("ANN_PJ", "Equivalent low-bit ANN energy per pixel (pJ, complete convention, per patch)"),
    ("RATIO_ANN", "Energy ratio equivalent low-bit ANN / SNN (complete convention, per patch)"),
    ("RATIO_ANN_MEMORY", "Memory-traffic ratio equivalent low-bit ANN / SNN, no operand reuse (32 KB SRAM; not a "
                         "compute convention)"),
    ("RATIO_ANN_MEMORY_REUSE", "Memory-traffic ratio equivalent low-bit ANN / SNN, each weight and activation "
                               "moved once (32 KB SRAM; not a compute convention)"),
    ("RATIO_FP_PAPER", "Energy ratio FP32 CNN / SNN (paper convention: MACs and accumulates, first layer x T)"),
    ("RATIO_Q_PAPER", "Energy ratio k-bit CNN / SNN (paper convention: MACs and accumulates, first layer x T)"),
    ("SNN_PJ_MAP_PIXEL", "SNN energy per map pixel of fully convolutional classification (pJ, complete)"),
    ("SCENE_SNN_MJ", "SNN energy of the classified scene (mJ, complete convention)"),
    ("OA", "Overall accuracy (reference pixels)"),
)


class EnergyAlgorithm(HyperSNNAlgorithm):
    _name = "energy"
    _display = "Energy report"
    _help = (
        "<p>Estimates the compute energy per classified pixel of a model: the SNN (analog first layer, then "
        "spike-driven accumulates, counted from the spikes measured on the sample) against the iso-architecture "
        "FP32 CNN and k-bit CNN (45 nm CMOS figures, Horowitz 2014; full precision costed as FP32 or INT32), and "
        "the equivalent low-bit ANN: the same CNN with ceil(log2(T + 1))-bit activations, as much per neuron as T "
        "spikes (Yan et al. 2024). "
        "Three conventions, each ratio labelled with its own: <i>complete</i> (the headline: MACs, accumulates, "
        "current injection, bias adds, leak, threshold compares and resets), <i>paper</i> (MACs and accumulates, "
        "the analog first layer at every time step) and <i>reuse</i> (the same, first layer once). Also the "
        "energy per map pixel of fully convolutional classification and of the whole scene, spike rates and "
        "trained leaks per layer, and, with reference data, the accuracy on reference pixels not used in "
        "training. Memory traffic (weights, inputs, membranes, spikes to a 32 KB SRAM, with and without operand "
        "reuse) is a separate estimate, never part of a convention, and the report says in one sentence where the "
        "SNN wins against the equivalent ANN and where it does not.</p>"
        "<p>The sample: up to <i>sample size</i> reference pixels (polygons or label raster), or random valid "
        "pixels of the raster when no reference is given.</p>"
    )

    def define(self):
        self.addParameter(QgsProcessingParameterFile("MODEL", self.tr("Model file (.hsnn)"), extension="hsnn"))
        self.addParameter(QgsProcessingParameterRasterLayer("INPUT", self.tr("Raster")))
        add_reference_parameters(self)
        self.addParameter(QgsProcessingParameterNumber("SAMPLE", self.tr("Sample size (pixels)"),
                                                       QgsProcessingParameterNumber.Type.Integer, 1024, minValue=1,
                                                       maxValue=100000))
        add_setting_parameters(self, ("energy",))
        self.addParameter(advanced(QgsProcessingParameterBoolean(
            "INCLUDE_TRAINING", self.tr("Also score pixels the model was trained on (biased)"), defaultValue=False)))
        self.addParameter(QgsProcessingParameterFileDestination("OUTPUT_REPORT", self.tr("Energy report"),
                                                                "HTML files (*.html)"))
        for k, t in OUTPUTS:
            self.addOutput(QgsProcessingOutputNumber(k, self.tr(t)))

    def process(self, parameters, context, feedback):
        from ...workflows.energy import EnergyJob, run_energy
        from ...workflows.report import ReportTarget
        from ..io_gdal import GdalBackend

        model_path = self.parameterAsFile(parameters, "MODEL", context)
        if not model_path:
            raise QgsProcessingException("Choose a model file (.hsnn)")
        raster = self.raster_path(parameters, "INPUT", context)
        reference = self.reference(parameters, context, raster, feedback, required=False)
        cfg = config_from_parameters(self, parameters, context, ("energy",))
        job = EnergyJob(model_path, raster, reference,
                        ReportTarget.from_html(self.parameterAsFileOutput(parameters, "OUTPUT_REPORT", context)),
                        sample=self.parameterAsInt(parameters, "SAMPLE", context),
                        include_training=self.parameterAsBool(parameters, "INCLUDE_TRAINING", context),
                        energy=cfg.energy, title=f"HyperSNN energy report: {__import__('os').path.basename(model_path)}")
        res = run_energy(job, GdalBackend(), self.callbacks(feedback))
        e = res.energy
        acc = res.accuracy or {}
        c = e["conventions"]
        head, paper = c["complete"]["per_patch"], c["paper"]["per_patch"]
        return {"SNN_PJ": head["totals_pj"]["snn"], "CNN_FP_PJ": head["totals_pj"]["cnn_fp"],
                "CNN_Q_PJ": head["totals_pj"]["cnn_q"], "RATIO_FP": head["ratios"]["fp_cnn_over_snn"],
                "RATIO_Q": head["ratios"]["q_cnn_over_snn"], "RATIO_FP_PAPER": paper["ratios"]["fp_cnn_over_snn"],
                "RATIO_Q_PAPER": paper["ratios"]["q_cnn_over_snn"],
                "ANN_PJ": head["totals_pj"].get("equivalent_ann"),
                "RATIO_ANN": head["ratios"].get("equivalent_ann_over_snn"),
                **{key: ((e.get("memory") or {}).get("dataflows", {}).get(flow) or {}).get("ratios", {}).get(
                    "equivalent_ann_over_snn") for key, flow in (("RATIO_ANN_MEMORY", "no_reuse"),
                                                                 ("RATIO_ANN_MEMORY_REUSE", "reuse"))},
                "SNN_PJ_MAP_PIXEL": c["complete"]["per_map_pixel"]["totals_pj"]["snn"],
                "SCENE_SNN_MJ": (e.get("scene") or {}).get("snn_mj"), "OA": acc.get("oa"),
                "OUTPUT_REPORT": res.report_paths.get("html")}
