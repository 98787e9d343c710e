"""The trainer's checkpoints: the fingerprint of a run and the checkpoint folder (plain npz arrays + JSON, no pickle,
each file written atomically).

A stage checkpoint (`cnn`, `convert`, `snn`) holds the network's weights, the history and torch's global generator;
an epoch checkpoint (`<stage>-epoch`) holds everything the next epoch depends on: network weights, Adam's state, the
three random generators (numpy's split/order generator, the augmentation generator, torch's global generator that
drives dropout), the best and averaged weights so far, the early-stopping counter, the epoch index and the history.
Each JSON names its settings + data fingerprint and its npz's checksum: a checkpoint of other settings or data, or a
pair torn by a kill, is never used. Why a module of its own: what a checkpoint holds and when it may be trusted is
one concern, read apart from how the stages train (trainer.py).
"""
from __future__ import annotations

import hashlib
import io
import json
from dataclasses import asdict, fields
from pathlib import Path
from typing import Optional

import numpy as np
import torch

from ..config.schema import SETTINGS, TrainConfig
from ..errors import InputError
from ..io.files import atomic_write

SNN_ONLY_FIELDS = frozenset(s.name for s in SETTINGS if s.section == "train" and s.stage == "snn")
"""The training settings only the SNN stage reads (declared `stage="snn"` in core/config/schema.py): runs that differ
only in them share the CNN checkpoint. Every other field of the training settings is part of the CNN's fingerprint, a
field added later too, so a new setting can only cost a retrained CNN, never reuse a stale one."""
CNN_FIELDS = tuple(f.name for f in fields(TrainConfig) if f.name not in SNN_ONLY_FIELDS)
"""The training settings the CNN stage depends on (derived: all but SNN_ONLY_FIELDS)."""
_HISTORY_KEYS = ("epochs", "seconds", "thresholds", "best_val", "epochs_run")
"""The TrainHistory fields a checkpoint puts back."""


def fingerprint(model_cfg, train_cfg, n_bands: int, n_classes: int, data_key: str, train, val=None,
                cnn_only: bool = False) -> str:
    """Settings + data of a run (`train`, `val`: PixelSets). `cnn_only`: only what the CNN stage depends on, so a run
    that differs in its SNN settings alone (time steps, leak, penalty, ...) resumes from the same CNN checkpoint."""
    h = hashlib.sha256()
    tcfg = asdict(train_cfg)
    if cnn_only:
        tcfg = {k: v for k, v in tcfg.items() if k not in SNN_ONLY_FIELDS}
        if not train_cfg.cnn_qat:
            tcfg.pop("weight_bits")
    h.update(json.dumps([asdict(model_cfg), tcfg, n_bands, n_classes, data_key,
                         "cnn" if cnn_only else "all"], sort_keys=True).encode())
    for s in (train, val):
        if s is None:
            continue
        for a in (s.rows, s.cols, s.y):
            h.update(np.ascontiguousarray(a, dtype=np.int64).tobytes())
        h.update(b"|")
    return h.hexdigest()


class CheckpointFolder:
    """One run's checkpoint folder: stage and epoch checkpoints written, checked against a fingerprint and read
    back. `log` takes the lines that say a checkpoint was not usable."""

    def __init__(self, folder, log=lambda s: None):
        self.folder = Path(folder)
        self.log = log

    def read_meta(self, name: str, fp: str) -> Optional[dict]:
        """The JSON of checkpoint `name` when it matches `fp` and its npz is the one it was written with."""
        meta, npz = self.folder / f"{name}.json", self.folder / f"{name}.npz"
        try:
            info = json.loads(meta.read_text())
            if not isinstance(info, dict) or info.get("fingerprint") != fp:
                return None
            want = info.get("npz_sha256")
            if want is not None and hashlib.sha256(npz.read_bytes()).hexdigest() != want:
                return None
            return info
        except (OSError, ValueError):
            return None

    def resume_point(self, stages, stage_fp) -> Optional[str]:
        """The last of `stages` with a checkpoint matching `stage_fp(stage)`, or None."""
        for stage in reversed(stages):
            if self.read_meta(stage, stage_fp(stage)) is not None:
                return stage
        return None

    def write(self, name: str, arrays: dict, info: dict) -> None:
        """npz first, then the JSON naming the npz's checksum: a pair torn by a kill is never used."""
        self.folder.mkdir(parents=True, exist_ok=True)
        buf = io.BytesIO()
        np.savez(buf, **arrays)
        blob = buf.getvalue()
        _atomic(self.folder / f"{name}.npz", lambda fh: fh.write(blob))
        info = dict(info, npz_sha256=hashlib.sha256(blob).hexdigest())
        _atomic(self.folder / f"{name}.json", lambda fh: fh.write(json.dumps(info).encode()))

    # -- stage checkpoints ---------------------------------------------------------------------
    def save_stage(self, net, stage: str, fp: str, history) -> None:
        arrays = {k: v.detach().numpy() for k, v in net.state_dict().items()}
        # torch's global generator drives dropout in the next stage: keep it so a resumed run matches
        self.write(stage, arrays, {"fingerprint": fp, "stage": stage, "history": asdict(history),
                                   "torch_rng": torch.get_rng_state().tolist()})

    def load_stage(self, net, stage: str, history) -> None:
        """Weights, history and torch's global generator as stage checkpoint `stage` left them."""
        with np.load(self.folder / f"{stage}.npz", allow_pickle=False) as z:
            net.load_state_dict({k: torch.from_numpy(z[k]) for k in z.files})
        info = json.loads((self.folder / f"{stage}.json").read_text())
        _restore_history(history, info)
        if info.get("torch_rng") is not None:
            torch.set_rng_state(torch.tensor(info["torch_rng"], dtype=torch.uint8))

    def cnn_weights(self) -> Optional[dict]:
        """The CNN stage's weights (the SNN's teacher after a resume), or None without a CNN checkpoint."""
        if not (self.folder / "cnn.npz").is_file():
            return None
        with np.load(self.folder / "cnn.npz", allow_pickle=False) as z:
            return {k: torch.from_numpy(z[k]) for k in z.files}

    # -- epoch checkpoints ---------------------------------------------------------------------
    def save_epoch(self, stage, fp, history, net, opt, rng, gen, best_acc, best_state, stale, done_epochs, stopped,
                   avg=None):
        """Everything the next epoch of `stage` depends on, after `done_epochs` epochs."""
        arrays = {f"net/{k}": v.detach().numpy() for k, v in net.state_dict().items()}
        if best_state is not None:
            arrays.update({f"best/{k}": v.detach().numpy() for k, v in best_state.items()})
        if avg is not None:
            arrays.update({f"avg/{k}": v.detach().numpy() for k, v in avg.state.items()})
        opt_scalars = {}
        for pid, st in opt.state_dict()["state"].items():
            for k, v in st.items():
                if torch.is_tensor(v):
                    arrays[f"opt/{pid}/{k}"] = v.detach().cpu().numpy()
                else:
                    opt_scalars.setdefault(str(pid), {})[k] = v
        arrays["rng/torch_global"] = torch.get_rng_state().numpy()
        arrays["rng/augment"] = gen.get_state().numpy()
        info = {"fingerprint": fp, "stage": stage, "epochs_done": int(done_epochs), "stopped": bool(stopped),
                "best_acc": float(best_acc), "has_best": best_state is not None, "stale": int(stale),
                "numpy_rng": rng.bit_generator.state, "opt_scalars": opt_scalars,
                "history": asdict(history)}
        self.write(f"{stage}-epoch", arrays, info)

    def load_epoch(self, stage, fp, history, net, opt, rng, gen, avg=None):
        """Restore the last epoch checkpoint of `stage` into the network, optimizer, generators, weight average and
        history; returns (best_acc, best_state, stale, epochs_done, stopped), or None when there is none for these
        settings/data (or it cannot be read: logged, and the stage starts afresh)."""
        info = self.read_meta(f"{stage}-epoch", fp)
        if info is None or info.get("stage") != stage:
            return None
        try:
            with np.load(self.folder / f"{stage}-epoch.npz", allow_pickle=False) as z:
                arrays = {k: z[k] for k in z.files}
            net_state = {k[4:]: torch.from_numpy(v) for k, v in arrays.items() if k.startswith("net/")}
            best = {k[5:]: torch.from_numpy(v) for k, v in arrays.items() if k.startswith("best/")}
            averaged = {k[4:]: torch.from_numpy(v) for k, v in arrays.items() if k.startswith("avg/")}
            if avg is not None and set(averaged) != set(avg.state):
                raise KeyError("weight average")
            state: dict = {}
            for k, v in arrays.items():
                if k.startswith("opt/"):
                    _, pid, key = k.split("/", 2)
                    state.setdefault(int(pid), {})[key] = torch.from_numpy(v)
            for pid, d in info.get("opt_scalars", {}).items():
                state.setdefault(int(pid), {}).update(d)
            torch_rng = torch.from_numpy(arrays["rng/torch_global"])
            aug_rng = torch.from_numpy(arrays["rng/augment"])
            np_rng = dict(info["numpy_rng"])
            resume = (float(info["best_acc"]), best if info.get("has_best") else None, int(info["stale"]),
                      int(info["epochs_done"]), bool(info.get("stopped")))
        except (OSError, KeyError, ValueError, TypeError, AttributeError) as e:
            self.log(f"epoch checkpoint of {stage} in {self.folder} is not usable ({e}); starting the stage afresh")
            return None
        try:
            net.load_state_dict(net_state)
            if avg is not None:
                avg.state = {k: v.clone() for k, v in averaged.items()}
            opt.load_state_dict({"state": state, "param_groups": opt.state_dict()["param_groups"]})
            torch.set_rng_state(torch_rng)
            gen.set_state(aug_rng)
            rng.bit_generator.state = np_rng
        except (RuntimeError, ValueError, TypeError, KeyError) as e:
            raise InputError(f"checkpoint {self.folder / (stage + '-epoch.npz')} matches this run but cannot be "
                             f"restored ({e}); delete the checkpoint folder to start afresh") from None
        _restore_history(history, info)
        return resume

    def drop_epoch(self, stage: str) -> None:
        """Remove `stage`'s epoch checkpoint (the stage finished: its stage checkpoint now stands for it)."""
        for ext in ("json", "npz"):  # json first: an npz without its json is never used
            try:
                (self.folder / f"{stage}-epoch.{ext}").unlink()
            except FileNotFoundError:
                pass


def _restore_history(history, info: dict) -> None:
    h = info.get("history", {})
    for k in _HISTORY_KEYS:
        if k in h:
            setattr(history, k, h[k])


def _atomic(path: Path, write):
    atomic_write(path, write, what="checkpoint")
