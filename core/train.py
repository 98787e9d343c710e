"""The staged Hyper-SNN trainer: CNN (optionally k-bit QAT) -> conversion -> SNN.

Each stage ends with a checkpoint (plain arrays, no pickle); a run given the same checkpoint folder and
settings resumes after the last finished stage. Progress and cancellation cross as two callables so the
same trainer serves the terminal (tqdm) and QGIS (QgsTask).
"""
from __future__ import annotations

import copy
import hashlib
import json
import os
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Optional

import numpy as np
import torch
import torch.nn.functional as F

from .config import ModelConfig, TrainConfig
from .errors import Canceled
from .nn.convert import init_thresholds
from .nn.models import HSINet
from .patches import PatchSource, augment

Progress = Callable[[float, str], None]
STAGES = ("cnn", "convert", "snn")
# share of the progress bar each stage takes
_SPAN = {"cnn": (0.0, 0.45), "convert": (0.45, 0.5), "snn": (0.5, 1.0)}


@dataclass
class PixelSet:
    rows: np.ndarray
    cols: np.ndarray
    y: np.ndarray  # class indices 0..K-1

    def __len__(self):
        return len(self.y)


@dataclass
class TrainHistory:
    epochs: dict = field(default_factory=lambda: {"cnn": [], "snn": []})
    seconds: dict = field(default_factory=dict)
    thresholds: list = field(default_factory=list)
    resumed: list = field(default_factory=list)
    best_val: dict = field(default_factory=dict)


def set_determinism(seed: int, threads: int = 0):
    torch.manual_seed(seed)
    np.random.seed(seed % (2 ** 32))
    if threads:
        torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(True, warn_only=True)


class Trainer:
    def __init__(self, model_cfg: ModelConfig, train_cfg: TrainConfig, n_bands: int, n_classes: int,
                 progress: Optional[Progress] = None, is_canceled: Optional[Callable[[], bool]] = None,
                 checkpoint_dir=None, log: Callable[[str], None] = lambda s: None):
        self.mcfg, self.tcfg = model_cfg, train_cfg
        self.n_bands, self.n_classes = n_bands, n_classes
        self.progress = progress or (lambda f, m: None)
        self.is_canceled = is_canceled or (lambda: False)
        self.ckpt = Path(checkpoint_dir) if checkpoint_dir else None
        self.log = log
        self.history = TrainHistory()
        self.cnn_state: Optional[dict] = None  # weights after the CNN stage, kept for comparisons

    # -- public ---------------------------------------------------------------------------------
    def fit(self, source: PatchSource, train: PixelSet, val: PixelSet) -> HSINet:
        t = self.tcfg
        set_determinism(t.seed, t.threads)
        net = HSINet(self.mcfg, self.n_bands, self.n_classes, bits=t.weight_bits if t.cnn_qat else 0,
                     time_steps=t.time_steps, slope=t.surrogate_slope, leak_init=t.leak_init)
        fp = self._fingerprint(train)
        done = self._resume_point(fp)
        if done:
            self._load(net, done)
            self.history.resumed.append(done)
            self.log(f"resumed after stage '{done}' from {self.ckpt}")
        start = STAGES.index(done) + 1 if done else 0
        for stage in STAGES[start:]:
            t0 = time.perf_counter()
            if stage == "cnn":
                net.spiking = False
                self._epochs(net, source, train, val, "cnn", t.cnn_epochs, t.cnn_lr)
            elif stage == "convert":
                net.bits = t.weight_bits
                self._convert(net, source, train)
            else:
                net.spiking = True
                net.bits = t.weight_bits
                self._epochs(net, source, train, val, "snn", t.snn_epochs, t.snn_lr)
            self.history.seconds[stage] = time.perf_counter() - t0
            self._save(net, stage, fp)
            if stage == "cnn":
                self.cnn_state = {k: v.detach().clone() for k, v in net.state_dict().items()}
        if self.cnn_state is None and self.ckpt and (self.ckpt / "cnn.npz").is_file():
            with np.load(self.ckpt / "cnn.npz", allow_pickle=False) as z:
                self.cnn_state = {k: torch.from_numpy(z[k]) for k in z.files}
        net.spiking, net.bits = True, t.weight_bits
        net.eval()
        self.progress(1.0, "training finished")
        return net

    # -- stages ---------------------------------------------------------------------------------
    def _epochs(self, net, source, train, val, stage, epochs, lr):
        t = self.tcfg
        lo, hi = _SPAN[stage]
        if epochs == 0 or len(train) == 0:
            return
        rng = np.random.default_rng([t.seed, STAGES.index(stage)])
        gen = torch.Generator().manual_seed(t.seed * 7 + STAGES.index(stage))
        opt = torch.optim.Adam(net.parameters(), lr=lr, weight_decay=t.weight_decay)
        n_batches = (len(train) + t.batch_size - 1) // t.batch_size
        best_acc, best_state, stale = -1.0, None, 0
        for ep in range(epochs):
            net.train()
            order = rng.permutation(len(train))
            total, correct, loss_sum = 0, 0, 0.0
            for b in range(n_batches):
                if self.is_canceled():
                    raise Canceled(f"training canceled during {stage} epoch {ep + 1}")
                idx = order[b * t.batch_size:(b + 1) * t.batch_size]
                x = augment(source.gather(train.rows[idx], train.cols[idx]), gen)
                y = torch.as_tensor(train.y[idx], dtype=torch.long)
                logits = net(x).flatten(1)
                loss = F.cross_entropy(logits, y)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                loss_sum += float(loss.detach()) * len(idx)
                correct += int((logits.argmax(1) == y).sum())
                total += len(idx)
                frac = lo + (hi - lo) * (ep + (b + 1) / n_batches) / epochs
                self.progress(frac, f"{stage.upper()} epoch {ep + 1}/{epochs}")
            val_acc = self.accuracy(net, source, val) if len(val) else correct / max(total, 1)
            rec = {"epoch": ep + 1, "loss": loss_sum / max(total, 1), "train_acc": correct / max(total, 1),
                   "val_acc": val_acc}
            self.history.epochs[stage].append(rec)
            self.log(f"{stage} epoch {ep + 1}/{epochs}: loss {rec['loss']:.4f} train {rec['train_acc']:.4f} "
                     f"val {val_acc:.4f}")
            if val_acc > best_acc:
                best_acc, best_state, stale = val_acc, copy.deepcopy(net.state_dict()), 0
            else:
                stale += 1
                if t.patience and stale >= t.patience:
                    self.log(f"{stage}: early stop after epoch {ep + 1} (best val {best_acc:.4f})")
                    break
        if best_state is not None:
            net.load_state_dict(best_state)
        self.history.best_val[stage] = best_acc

    def _convert(self, net, source, train):
        t = self.tcfg
        rng = np.random.default_rng([t.seed, 99])
        n = min(len(train), 1024)
        idx = rng.choice(len(train), n, replace=False)
        batches = [source.gather(train.rows[idx[i:i + 256]], train.cols[idx[i:i + 256]])
                   for i in range(0, n, 256)]
        self.progress(_SPAN["convert"][0], "converting CNN to SNN (thresholds)")
        th = init_thresholds(net, batches, t.threshold_percentile, is_canceled=self.is_canceled, seed=t.seed)
        self.history.thresholds = th
        self.log("thresholds: " + ", ".join(f"{v:.3g}" for v in th))

    @torch.no_grad()
    def accuracy(self, net, source, pixels: PixelSet, batch: int = 512) -> float:
        return float((predict_pixels(net, source, pixels, batch, self.is_canceled)[0] == pixels.y).mean())

    # -- checkpoints ----------------------------------------------------------------------------
    def _fingerprint(self, train: PixelSet) -> str:
        h = hashlib.sha256()
        h.update(json.dumps([asdict(self.mcfg), asdict(self.tcfg), self.n_bands, self.n_classes],
                            sort_keys=True).encode())
        for a in (train.rows, train.cols, train.y):
            h.update(np.ascontiguousarray(a).tobytes())
        return h.hexdigest()

    def _resume_point(self, fp: str) -> Optional[str]:
        if not self.ckpt:
            return None
        for stage in reversed(STAGES):
            meta = self.ckpt / f"{stage}.json"
            if meta.is_file() and (self.ckpt / f"{stage}.npz").is_file():
                try:
                    if json.loads(meta.read_text()).get("fingerprint") == fp:
                        return stage
                except (OSError, json.JSONDecodeError):
                    continue
        return None

    def _save(self, net, stage, fp):
        if not self.ckpt:
            return
        self.ckpt.mkdir(parents=True, exist_ok=True)
        arrays = {k: v.detach().numpy() for k, v in net.state_dict().items()}
        _atomic(self.ckpt / f"{stage}.npz", lambda fh: np.savez(fh, **arrays))
        info = {"fingerprint": fp, "stage": stage, "history": asdict(self.history)}
        _atomic(self.ckpt / f"{stage}.json", lambda fh: fh.write(json.dumps(info).encode()))

    def _load(self, net, stage):
        with np.load(self.ckpt / f"{stage}.npz", allow_pickle=False) as z:
            net.load_state_dict({k: torch.from_numpy(z[k]) for k in z.files})
        info = json.loads((self.ckpt / f"{stage}.json").read_text())
        h = info.get("history", {})
        for k in ("epochs", "seconds", "thresholds", "best_val"):
            if k in h:
                setattr(self.history, k, h[k])
        net.bits = self.tcfg.weight_bits if (stage != "cnn" or self.tcfg.cnn_qat) else 0


@torch.no_grad()
def predict_pixels(net, source: PatchSource, pixels: PixelSet, batch: int = 512, is_canceled=None):
    """(class indices, softmax probabilities) for pixel centres, patch by patch."""
    net.eval()
    preds, probs = [], []
    for i in range(0, len(pixels), batch):
        if is_canceled and is_canceled():
            raise Canceled("evaluation canceled")
        x = source.gather(pixels.rows[i:i + batch], pixels.cols[i:i + batch])
        p = torch.softmax(net(x).flatten(1), 1)
        preds.append(p.argmax(1).numpy())
        probs.append(p.numpy())
    if not preds:
        return np.zeros(0, np.int64), np.zeros((0, net.n_classes), np.float32)
    return np.concatenate(preds), np.concatenate(probs)


def _atomic(path: Path, write):
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
