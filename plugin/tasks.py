"""Background tasks: training and classification run in QgsTasks so QGIS stays responsive.

`run()` executes in a worker thread: it only calls a workflow (workflows/) with the GDAL backend and
`progress -> setProgress`, `is_canceled -> isCanceled` (the engine checks it between batches and windows, so
cancel takes effect within about a second). `finished()` runs on the main thread: it adds
the output layers, opens the report and reports errors with their actual reason.
"""
from __future__ import annotations

import re
import traceback
from typing import Callable, Optional

from qgis.core import Qgis, QgsMessageLog, QgsTask

from . import layers as L

LOG_TAG = "HyperSNN"
LOG_HINT = "The run's messages are in QGIS's log: View > Panels > Log Messages, tab HyperSNN."
_EPOCH_LOG = re.compile(r"^(cnn|snn) epoch (\d+)/(\d+): .*?\bval ([0-9.]+)")
"""The engine's per-epoch log line (core/training/trainer.py), read for the validation accuracy shown in the task's text."""


def log(text: str, level=Qgis.MessageLevel.Info):
    QgsMessageLog.logMessage(text, LOG_TAG, level)


def _task_flags():
    """Cancelable; Silent where QGIS has it (3.26+): the plugin says itself how a run ended, so QGIS's own "Task
    complete" / "Task failed" notice would only cover the plugin's message."""
    flags = QgsTask.Flag.CanCancel
    silent = getattr(type(flags), "Silent", None)  # the flag enum; QGIS 3.22 has no Silent
    return flags | silent if silent is not None else flags


class _EngineTask(QgsTask):
    """Shared plumbing: progress, cancel, error capture, message bar.

    `title` ("Train on scene.tif") names the run in messages, which the message bar already heads "HyperSNN";
    the task's description (the Task Manager's text) is "HyperSNN: <title>", followed while it runs by the stage,
    the epoch and the last validation accuracy."""

    def __init__(self, title: str, iface=None, on_done: Optional[Callable] = None):
        super().__init__(f"HyperSNN: {title}", _task_flags())
        self.title = title
        self.stage_text = ""
        self.val_text = ""
        self.progressChanged.connect(self._show_stage)  # queued: runs on the main thread, as setDescription must
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
        m = _EPOCH_LOG.match(text)
        if m:
            self.val_text = f"validation {100 * float(m.group(4)):.1f} % after {m.group(1).upper()} epoch {m.group(2)}"
        log(text)

    # main thread -------------------------------------------------------------------------------
    def _show_stage(self, _progress=None):
        """Stage, epoch and validation accuracy in the task's description (the Task Manager and status bar)."""
        if self.status() not in (QgsTask.TaskStatus.Running, QgsTask.TaskStatus.Queued):
            return
        stage = self.message or ""
        if self.val_text and "epoch" in stage.lower():
            stage += f"; {self.val_text}"
        if stage and stage != self.stage_text:
            self.stage_text = stage
            self.setDescription(f"HyperSNN: {self.title}: {stage}")

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

    def finished(self, ok: bool):
        self.setDescription(f"HyperSNN: {self.title}")  # what QGIS's own notice (3.22) names, without the stage
        try:
            if ok:
                self.on_success()
            elif self.canceled_by_user or self.isCanceled():
                # QGIS 3.22 posts its red "Task failed" notice for a canceled task after this method returns: say
                # the plugin's word after it and take that notice away, so "canceled" is what the user reads.
                L.after_qgis_notice(self.iface, self.description(), f"{self.title}: canceled; no output was written.",
                                    Qgis.MessageLevel.Info)
            else:
                err = self.error or "stopped without a reason (see the HyperSNN log)"
                if self.error_detail:
                    log(self.error_detail, Qgis.MessageLevel.Critical)
                L.after_qgis_notice(self.iface, self.description(), f"{self.title} failed: {err}",
                                    Qgis.MessageLevel.Critical,
                                    details="\n\n".join(t for t in (f"{self.title} failed: {err}", self.error_detail,
                                                                      LOG_HINT) if t))
        except Exception as e:  # noqa: BLE001 - never let a slot raise into Qt
            self.error = f"{type(e).__name__}: {e}"
            log(traceback.format_exc(), Qgis.MessageLevel.Critical)
            L.message(self.iface, f"{self.title}: could not add the results: {e}", Qgis.MessageLevel.Critical, duration=0,
                      details=traceback.format_exc())
        finally:
            if self.on_done is not None:
                try:
                    self.on_done(self)
                except Exception:  # noqa: BLE001
                    log(traceback.format_exc(), Qgis.MessageLevel.Critical)

    def on_success(self):  # pragma: no cover - overridden
        pass


class _JobTask(_EngineTask):
    """A task that runs one workflow job on one raster (TrainTask, ClassifyTask): titled "<verb> <the raster's file
    name>"; its work is the workflow's run function called with the GDAL backend and this task's callbacks."""

    verb = ""

    def __init__(self, job, iface=None, on_done: Optional[Callable] = None):
        from pathlib import Path

        super().__init__(f"{self.verb} {Path(job.raster).name}", iface, on_done)
        self.job = job

    def workflow(self) -> Callable:  # pragma: no cover - overridden
        """The workflow's run function, imported only when the task runs, as the plugin loads without the engine."""
        raise NotImplementedError

    def work(self):
        from .io_gdal import GdalBackend

        return self.workflow()(self.job, GdalBackend(), self.callbacks())

    def add_output_layers(self, class_map, classes, confidence=None, energy_map=None, probabilities=None):
        """Add the maps the run wrote (a None or empty path is skipped) in the order both tasks use, so the class
        map lies on top: energy map, probabilities, confidence, class map."""
        if energy_map:
            self.added_layers.append(L.add_energy_map(energy_map))
        if probabilities:
            self.added_layers.append(L.add_probabilities(probabilities))
        if confidence:
            self.added_layers.append(L.add_confidence(confidence))
        if class_map:
            self.added_layers.append(L.add_class_map(class_map, classes))


class TrainTask(_JobTask):
    """Train a model (and by default classify the raster with it) from a `workflows.train.TrainJob`."""

    verb = "Train on"

    def __init__(self, job, iface=None, on_done=None, show_report: Optional[Callable[[str], None]] = None):
        super().__init__(job, iface, on_done)
        self.show_report = show_report

    def workflow(self):
        from ..workflows.train import run_train

        return run_train

    def on_success(self):
        res = self.result
        self.add_output_layers(res.class_map, res.classes, res.confidence, res.energy_map)
        s = res.summary
        acc = (f"{s.get('accuracy_kind', 'test')} OA {100 * s['oa']:.1f} %, kappa {s['kappa']:.3f} on {s['n_test']} "
               "pixels; " if s.get("oa") is not None else "")
        r = s["energy_ratios"]
        trust = s.get("trust_warnings") or []
        for w in [w for w in res.warnings if w not in trust][:3]:  # first: the last message pushed is on top
            L.message(self.iface, w, Qgis.MessageLevel.Warning, duration=15)
        if trust:  # never a green success for a result that cannot be trusted, nor one under QGIS's "Task complete"
            L.after_qgis_notice(self.iface, self.description(),
                                f"Model trained, but the result cannot be trusted ({len(trust)} warning(s); see "
                                f"the report's top): {trust[0]}", Qgis.MessageLevel.Warning, duration=0,
                                details="\n".join([f"Model: {res.model_path}", acc.rstrip("; "), "",
                                                   "This result cannot be trusted as it stands:"]
                                                  + [f"- {w}" for w in trust]))
        else:
            L.after_qgis_notice(self.iface, self.description(),
                                f"Model trained: {res.model_path}. {acc}SNN energy "
                                f"{r['complete_q_cnn_over_snn']:.1f}x below the iso-architecture k-bit CNN and "
                                f"{r['complete_fp_cnn_over_snn']:.1f}x below the FP32 CNN (complete convention, per "
                                "patch).", Qgis.MessageLevel.Success, duration=10)
        html = res.report_paths.get("html")
        if html and self.show_report is not None:
            self.show_report(html)


class ClassifyTask(_JobTask):
    """Classify a raster with a model file (a `workflows.classify.ClassifyJob`); adds the output layers."""

    verb = "Classify"

    def workflow(self):
        from ..workflows.classify import run_classify

        return run_classify

    def on_success(self):
        res = self.result
        self.add_output_layers(res.class_map, res.classes, res.confidence, res.energy_map, res.probabilities)
        energy = (f"; SNN energy of the scene {res.energy['snn_mj']:.4f} mJ (complete convention)"
                  if res.energy else "")
        L.after_qgis_notice(self.iface, self.description(), f"Class map written: {res.class_map} ({res.valid_pixels} "
                            f"pixels in {res.seconds:.1f} s{energy})", Qgis.MessageLevel.Success, duration=8)
