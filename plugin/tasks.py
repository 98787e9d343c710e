"""Background tasks: training and classification run in QgsTasks so QGIS stays responsive.

`run()` executes in a worker thread: it only calls a workflow (workflows/) with the GDAL backend and
`progress -> setProgress`, `is_canceled -> isCanceled` (the engine checks it between batches and windows, so
cancel takes effect within about a second). `finished()` runs on the main thread: it adds
the output layers, opens the report and reports errors with their actual reason.
"""
from __future__ import annotations

import traceback
from typing import Callable, Optional

from qgis.core import Qgis, QgsMessageLog, QgsTask

from . import layers as L

LOG_TAG = "HyperSNN"


def log(text: str, level=Qgis.MessageLevel.Info):
    QgsMessageLog.logMessage(text, LOG_TAG, level)


class _EngineTask(QgsTask):
    """Shared plumbing: progress, cancel, error capture, message bar."""

    title = "HyperSNN"

    def __init__(self, description: str, iface=None, on_done: Optional[Callable] = None):
        super().__init__(description, QgsTask.Flag.CanCancel)
        self.iface = iface
        self.on_done = on_done
        self.error: Optional[str] = None
        self.error_detail: Optional[str] = None
        self.canceled_by_user = False
        self.result = None
        self.message = ""
        self.added_layers: list = []

    # worker thread -------------------------------------------------------------------------
    def _progress(self, fraction: float, message: str):
        self.message = message
        self.setProgress(max(0.0, min(100.0, 100.0 * float(fraction))))

    def _log(self, text: str):
        log(text)

    def callbacks(self):
        from ..workflows.callbacks import Callbacks

        return Callbacks(progress=self._progress, is_canceled=self.isCanceled, log=self._log)

    def run(self) -> bool:
        from ..core.errors import Canceled, HyperSNNError

        try:
            self.result = self.work()
            return True
        except Canceled as e:
            self.canceled_by_user = True
            self.error = f"canceled: {e}"
        except HyperSNNError as e:
            self.error = str(e)
        except MemoryError:
            self.error = ("out of memory: use a smaller window, fewer bands (band selection or PCA) or a "
                          "smaller patch size")
        except Exception as e:  # noqa: BLE001 - any failure must reach the user, with its reason
            self.error = f"{type(e).__name__}: {e}"
            self.error_detail = traceback.format_exc()
        if self.isCanceled():
            self.canceled_by_user = True
        return False

    def work(self):  # pragma: no cover - overridden
        raise NotImplementedError

    # main thread ---------------------------------------------------------------------------
    def finished(self, ok: bool):
        try:
            if ok:
                self.on_success()
            elif self.canceled_by_user or self.isCanceled():
                L.message(self.iface, f"{self.description()}: canceled; no output was written.", Qgis.MessageLevel.Info)
            else:
                err = self.error or "stopped without a reason (see the HyperSNN log)"
                if self.error_detail:
                    log(self.error_detail, Qgis.MessageLevel.Critical)
                L.message(self.iface, f"{self.description()} failed: {err}", Qgis.MessageLevel.Critical, duration=0)
        except Exception as e:  # noqa: BLE001 - never let a slot raise into Qt
            self.error = f"{type(e).__name__}: {e}"
            log(traceback.format_exc(), Qgis.MessageLevel.Critical)
            L.message(self.iface, f"{self.description()}: could not add the results: {e}", Qgis.MessageLevel.Critical, duration=0)
        finally:
            if self.on_done is not None:
                try:
                    self.on_done(self)
                except Exception:  # noqa: BLE001
                    log(traceback.format_exc(), Qgis.MessageLevel.Critical)

    def on_success(self):  # pragma: no cover - overridden
        pass


class TrainTask(_EngineTask):
    """Train a model (and by default classify the raster with it) from a `workflows.train.TrainJob`."""

    def __init__(self, job, iface=None, on_done=None, show_report: Optional[Callable[[str], None]] = None):
        from pathlib import Path

        super().__init__(f"HyperSNN: train on {Path(job.raster).name}", iface, on_done)
        self.job = job
        self.show_report = show_report

    def work(self):
        from ..workflows.train import run_train
        from .io_gdal import GdalBackend

        return run_train(self.job, GdalBackend(), self.callbacks())

    def on_success(self):
        res = self.result
        if res.energy_map:
            self.added_layers.append(L.add_energy_map(res.energy_map))
        if res.confidence:
            self.added_layers.append(L.add_confidence(res.confidence))
        if res.class_map:
            self.added_layers.append(L.add_class_map(res.class_map, res.classes))
        s = res.summary
        acc = (f"{s.get('accuracy_kind', 'test')} OA {100 * s['oa']:.1f} %, kappa {s['kappa']:.3f} on {s['n_test']} "
               "pixels; " if s.get("oa") is not None else "")
        r = s["energy_ratios"]
        trust = s.get("trust_warnings") or []
        if trust:  # never a green success for a result that cannot be trusted
            L.message(self.iface, f"Model trained, but the result cannot be trusted: {trust[0]} ({acc.rstrip('; ')}; "
                                  f"see the report's top for all {len(trust)} warning(s))",
                      Qgis.MessageLevel.Warning, duration=0)
        else:
            L.message(self.iface, f"Model trained: {res.model_path}. {acc}SNN energy "
                                  f"{r['complete_q_cnn_over_snn']:.1f}x below the iso-architecture k-bit CNN and "
                                  f"{r['complete_fp_cnn_over_snn']:.1f}x below the FP32 CNN (complete convention, per "
                                  "patch).", Qgis.MessageLevel.Success, duration=10)
        for w in [w for w in res.warnings if w not in trust][:3]:
            L.message(self.iface, w, Qgis.MessageLevel.Warning, duration=15)
        html = res.report_paths.get("html")
        if html and self.show_report is not None:
            self.show_report(html)


class ClassifyTask(_EngineTask):
    """Classify a raster with a model file (a `workflows.classify.ClassifyJob`); adds the output layers."""

    def __init__(self, job, iface=None, on_done=None):
        from pathlib import Path

        super().__init__(f"HyperSNN: classify {Path(job.raster).name}", iface, on_done)
        self.job = job

    def work(self):
        from ..workflows.classify import run_classify
        from .io_gdal import GdalBackend

        return run_classify(self.job, GdalBackend(), self.callbacks())

    def on_success(self):
        res = self.result
        if res.energy_map:
            self.added_layers.append(L.add_energy_map(res.energy_map))
        if res.probabilities:
            self.added_layers.append(L.add_probabilities(res.probabilities))
        if res.confidence:
            self.added_layers.append(L.add_confidence(res.confidence))
        self.added_layers.append(L.add_class_map(res.class_map, res.classes))
        energy = (f"; SNN energy of the scene {res.energy['snn_mj']:.4f} mJ (complete convention)"
                  if res.energy else "")
        L.message(self.iface, f"Class map written: {res.class_map} ({res.valid_pixels} pixels in "
                              f"{res.seconds:.1f} s{energy})", Qgis.MessageLevel.Success)
