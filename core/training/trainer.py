"""The staged Hyper-SNN trainer: CNN (optionally k-bit QAT) -> conversion -> SNN.

Checkpoints (checkpoints.py: what they hold, the fingerprint) are written at the end of every stage and of
every training epoch. A run given the same checkpoint folder, settings and data (a fingerprint of all three)
therefore resumes after the last finished epoch and ends with the same weights, bit for bit, as a run that was
never interrupted; a checkpoint from other settings or data is ignored. Progress and cancellation cross as two
callables so the same trainer serves the terminal (tqdm) and QGIS (QgsTask).
"""
from __future__ import annotations

import contextlib
import copy
import math
import time
from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np
import torch
import torch.nn.functional as F

from ..config.schema import ModelConfig, TrainConfig
from .checkpoints import CheckpointFolder, fingerprint
from .early_stopping import EpochSelector
from ..errors import Canceled
from ..nn.convert import init_thresholds
from ..nn.models import HSINet
from ..data.patches import SpectralAugment, augment

Progress = Callable[[float, str], None]
STAGES = ("cnn", "convert", "snn")
# share of the progress bar each stage takes
_SPAN = {"cnn": (0.0, 0.45), "convert": (0.45, 0.5), "snn": (0.5, 1.0), "ann": (0.0, 1.0)}
_SEED_INDEX = {"cnn": 0, "convert": 1, "snn": 2, "ann": 3}
"""Each stage's own random streams; "ann" is the equivalent low-bit ANN (fit_equivalent_ann), after the SNN, whose
progress spans the whole callable it is given."""


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
    epochs_run: dict = field(default_factory=dict)
    """Epochs each stage was given after `scaled_epochs` (early stopping may end it sooner)."""


@contextlib.contextmanager
def seeded_run(seed: int, threads: int = 0):
    """Seed torch and numpy, set the thread count and deterministic algorithms for one training run, and put
    back what was there before: inside QGIS the run must not change torch's global state for everyone else."""
    saved = (torch.get_rng_state(), np.random.get_state(), torch.get_num_threads(),
             torch.are_deterministic_algorithms_enabled(), torch.is_deterministic_algorithms_warn_only_enabled())
    try:
        torch.manual_seed(seed)
        np.random.seed(seed % (2 ** 32))
        if threads:
            torch.set_num_threads(threads)
        torch.use_deterministic_algorithms(True, warn_only=True)
        yield
    finally:
        rng, np_rng, n_threads, det, warn_only = saved
        torch.set_rng_state(rng)
        np.random.set_state(np_rng)
        if torch.get_num_threads() != n_threads:
            torch.set_num_threads(n_threads)
        torch.use_deterministic_algorithms(det, warn_only=warn_only)


class Trainer:
    def __init__(self, model_cfg: ModelConfig, train_cfg: TrainConfig, n_bands: int, n_classes: int,
                 progress: Optional[Progress] = None, is_canceled: Optional[Callable[[], bool]] = None,
                 checkpoint_dir=None, log: Callable[[str], None] = lambda s: None):
        self.mcfg, self.tcfg = model_cfg, train_cfg
        self.n_bands, self.n_classes = n_bands, n_classes
        self.progress = progress or (lambda f, m: None)
        self.is_canceled = is_canceled or (lambda: False)
        self.checkpoints = CheckpointFolder(checkpoint_dir, log) if checkpoint_dir else None
        self.log = log
        self.history = TrainHistory()
        self.cnn_state: Optional[dict] = None  # weights after the CNN stage, kept for comparisons
        self.data_key = ""
        """Identifies the data behind the pixels (set by the pipeline): part of the checkpoint fingerprint."""
        self.illumination_offset = None
        """Preprocessor.illumination_offset() of the features (set by the pipeline): spectral augmentation needs it
        when `illumination` is on (without it, the features are taken as raw values: offset 0)."""

    # -- public ---------------------------------------------------------------------------------
    def fit(self, source, train: PixelSet, val: PixelSet) -> HSINet:
        """Train on patches from `source` (a PatchBank, or anything with gather(rows, cols)),
        seeded, with torch's global state restored afterwards (`seeded_run`)."""
        with seeded_run(self.tcfg.seed, self.tcfg.threads):
            return self._fit(source, train, val)

    def _fit(self, source, train: PixelSet, val: PixelSet) -> HSINet:
        t = self.tcfg
        net = HSINet(self.mcfg, self.n_bands, self.n_classes, bits=t.weight_bits if t.cnn_qat else 0,
                     time_steps=t.time_steps, slope=t.surrogate_slope, leak_init=t.leak_init,
                     leak_mode=t.leak_mode, membrane_bits=t.membrane_bits)
        if net.input_bits and len(train):
            r = self.mcfg.patch_size // 2
            centres = source.gather(train.rows, train.cols)[:, :, r, r]
            net.set_input_scale(centres)
        fp = self._fingerprint(train, val)
        self._fp = fp
        self._fp_cnn = self._fingerprint(train, val, cnn_only=True)
        done = self.checkpoints.resume_point(STAGES, self._stage_fp) if self.checkpoints else None
        if done:
            self.checkpoints.load_stage(net, done, self.history)
            net.bits = t.weight_bits if (done != "cnn" or t.cnn_qat) else 0
            self.history.resumed.append(done)
            self.log(f"resumed after stage '{done}' from {self.checkpoints.folder}")
        start = STAGES.index(done) + 1 if done else 0
        if done and self.cnn_state is None:
            self.cnn_state = self.checkpoints.cnn_weights()  # the SNN's teacher after a resume
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
            if self.checkpoints:
                self.checkpoints.save_stage(net, stage, self._stage_fp(stage), self.history)
                self.checkpoints.drop_epoch(stage)
            if stage == "cnn":
                self.cnn_state = {k: v.detach().clone() for k, v in net.state_dict().items()}
        net.spiking, net.bits = True, t.weight_bits
        net.eval()
        self.progress(1.0, "training finished")
        return net

    def fit_equivalent_ann(self, source, train: PixelSet, val: PixelSet, progress: Optional[Progress] = None):
        """The equivalent low-bit ANN (core/nn/equivalent_ann.py) from the CNN stage's weights, after `fit`: weights
        at the SNN's bits, activations at ceil(log2(T + 1)) bits, trained with QAT for the SNN stage's epochs and
        learning rate and chosen by the same validation rule, so that it gets the budget the SNN got after the CNN.
        Not checkpointed (a comparison, not the product). `progress` takes the place of the trainer's own for these
        epochs: after `fit` the run's bar is past training and must not run from 0 again."""
        from ..nn.equivalent_ann import EquivalentANN, equivalent_ann_bits

        t = self.tcfg
        with seeded_run(t.seed, t.threads):
            net = HSINet(self.mcfg, self.n_bands, self.n_classes, bits=t.weight_bits, time_steps=t.time_steps,
                         slope=t.surrogate_slope, leak_init=t.leak_init, leak_mode=t.leak_mode, init=False)
            net.load_state_dict(self.cnn_state)
            ann = EquivalentANN(net, equivalent_ann_bits(t.time_steps))
            pick = np.random.default_rng([t.seed, _SEED_INDEX["ann"]]).permutation(len(train))[:2048]
            ann.calibrate(source.gather(train.rows[pick], train.cols[pick]),
                          torch.as_tensor(train.y[pick], dtype=torch.long))
            kept = self.checkpoints, self.progress
            self.checkpoints, self.progress = None, progress or self.progress
            t0 = time.perf_counter()
            try:
                self._epochs(ann, source, train, val, "ann", t.snn_epochs, t.snn_lr)
            finally:
                self.checkpoints, self.progress = kept
            self.history.seconds["equivalent_ann"] = time.perf_counter() - t0
        ann.eval()
        return ann

    # -- stages ---------------------------------------------------------------------------------
    def _epochs(self, net, source, train, val, stage, epochs, lr):
        t = self.tcfg
        lo, hi = _SPAN[stage]
        if epochs == 0 or len(train) == 0:
            return
        asked, epochs = epochs, scaled_epochs(epochs, len(train), t.epoch_pixels)
        if epochs != asked:
            self.log(f"{stage}: {epochs} of {asked} epochs ({len(train)} training pixels; epochs are counted for "
                     f"{t.epoch_pixels}, epoch_pixels)")
        self.history.epochs_run[stage] = epochs
        rng = np.random.default_rng([t.seed, _SEED_INDEX[stage]])
        gen = torch.Generator().manual_seed(t.seed * 7 + _SEED_INDEX[stage])
        opt = torch.optim.Adam(net.parameters(), lr=lr, weight_decay=t.weight_decay)
        n_batches = (len(train) + t.batch_size - 1) // t.batch_size
        weight = class_weights(train.y, self.n_classes, t.class_weighting)
        spectral = self._spectral_augment(source, train)
        avg = WeightAverage(net, t.weight_averaging, n_batches) if t.weight_averaging > 0 else None
        later_macs = net.dense_macs() if stage == "snn" and t.spike_penalty > 0 else None
        teacher = self._teacher(net) if stage == "snn" and t.distillation > 0 else None
        best_acc, best_state, stale, start, stopped = -1.0, None, 0, 0, False
        resumed = (self.checkpoints.load_epoch(stage, self._stage_fp(stage), self.history, net, opt, rng, gen, avg)
                   if self.checkpoints else None)
        if resumed is not None:
            best_acc, best_state, stale, start, stopped = resumed
            self.history.resumed.append(f"{stage} epoch {start}")
            self.log(f"resumed {stage} after epoch {start} from {self.checkpoints.folder}")
        # Without validation pixels (none asked for, or too few to decide: core/data/splits/) the stage trains its
        # full epochs and keeps the last: choosing an epoch by training accuracy would pick the most overfitted one.
        has_val = len(val) > 0
        selector = EpochSelector(t.val_smoothing, t.patience, best_acc, stale)
        selector.history = [e["val_acc"] for e in self.history.epochs.get(stage, [])[:start]
                            if e["val_acc"] is not None]
        for ep in range(start, epochs):
            if stopped:
                break
            net.train()
            order = rng.permutation(len(train))
            total, correct, loss_sum = 0, 0, 0.0
            for b in range(n_batches):
                if self.is_canceled():
                    raise Canceled(f"training canceled during {stage} epoch {ep + 1}")
                idx = order[b * t.batch_size:(b + 1) * t.batch_size]
                x = augment(source.gather(train.rows[idx], train.cols[idx]), gen, spectral, t.context_dropout)
                y = torch.as_tensor(train.y[idx], dtype=torch.long)
                penalize = stage == "snn" and t.spike_penalty > 0
                net.spike_maps = [] if penalize else None
                lam, perm = mixup_draw(t.mixup, len(idx), rng)
                if perm is not None:
                    x = lam * x + (1 - lam) * x[perm]
                logits = net(x).flatten(1)
                loss = F.cross_entropy(logits, y, weight=weight, label_smoothing=t.label_smoothing)
                if perm is not None:
                    loss = lam * loss + (1 - lam) * F.cross_entropy(logits, y[perm], weight=weight,
                                                                    label_smoothing=t.label_smoothing)
                if teacher is not None:
                    with torch.no_grad():
                        target = teacher(x).flatten(1)
                        if perm is not None:
                            target = lam * target + (1 - lam) * target[perm]
                    loss = (1 - t.distillation) * loss + t.distillation * distillation_loss(logits, target)
                if penalize:
                    loss = loss + t.spike_penalty * spike_cost(net.spike_maps, later_macs)
                    net.spike_maps = None
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                if stage == "snn":
                    net.project_neurons()
                if avg is not None:
                    avg.update(net)
                loss_sum += float(loss.detach()) * len(idx)
                correct += int((logits.argmax(1) == y).sum())
                total += len(idx)
                frac = lo + (hi - lo) * (ep + (b + 1) / n_batches) / epochs
                self.progress(frac, f"{stage.upper()} epoch {ep + 1}/{epochs}")
            try:
                with avg.applied(net) if avg is not None else contextlib.nullcontext():
                    val_acc = self.accuracy(net, source, val) if has_val else None
            except Canceled:  # canceled while scoring the epoch: say where, as for a batch
                raise Canceled(f"training canceled during {stage} epoch {ep + 1}") from None
            rec = {"epoch": ep + 1, "loss": loss_sum / max(total, 1), "train_acc": correct / max(total, 1),
                   "val_acc": val_acc}
            self.history.epochs.setdefault(stage, []).append(rec)
            self.log(f"{stage} epoch {ep + 1}/{epochs}: loss {rec['loss']:.4f} train {rec['train_acc']:.4f} "
                     + (f"val {val_acc:.4f}" if has_val else "(no validation: fixed epochs)"))
            if not has_val:
                pass
            elif selector.update(val_acc):
                best_state = copy.deepcopy(avg.state if avg is not None else net.state_dict())
            elif selector.should_stop:
                stopped = True
                self.log(f"{stage}: early stop after epoch {ep + 1} (best val {selector.best:.4f}"
                         f"{f', mean of {selector.window} epochs' if selector.window > 1 else ''})")
            if self.checkpoints:
                self.checkpoints.save_epoch(stage, self._stage_fp(stage), self.history, net, opt, rng, gen,
                                            selector.best, best_state, selector.stale, ep + 1, stopped, avg)
        if best_state is not None:
            net.load_state_dict(best_state)
        elif avg is not None:
            net.load_state_dict(avg.state)
        self.history.best_val[stage] = selector.best if has_val else None

    def _teacher(self, net) -> HSINet:
        """The CNN this SNN was converted from, frozen, as the SNN stage's teacher (TrainConfig.distillation)."""
        t = self.tcfg
        teacher = HSINet(self.mcfg, self.n_bands, self.n_classes, bits=t.weight_bits if t.cnn_qat else 0,
                         time_steps=t.time_steps, leak_mode=t.leak_mode, init=False)
        teacher.load_state_dict(self.cnn_state)
        teacher.spiking = False
        teacher.eval()
        for p in teacher.parameters():
            p.requires_grad_(False)
        return teacher

    def _spectral_augment(self, source, train) -> Optional[SpectralAugment]:
        """The stage's spectral augmentation (TrainConfig.illumination, spectral_noise), or None when off. The
        feature standard deviations come from the training pixels' own spectra (patch centres)."""
        t = self.tcfg
        if t.illumination <= 0 and t.spectral_noise <= 0:
            return None
        r = self.mcfg.patch_size // 2
        centres = torch.cat([source.gather(train.rows[i:i + 1024], train.cols[i:i + 1024])[:, :, r, r]
                             for i in range(0, len(train), 1024)])
        offset = self.illumination_offset if self.illumination_offset is not None else np.zeros(self.n_bands)
        return SpectralAugment(t.illumination, t.spectral_noise, offset, centres.std(0).numpy())

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

    # -- checkpoints (checkpoints.py) ------------------------------------------------------------
    def _fingerprint(self, train: PixelSet, val: Optional[PixelSet] = None, cnn_only: bool = False) -> str:
        """Settings + data of this run (checkpoints.fingerprint); `cnn_only`: what the CNN stage depends on."""
        return fingerprint(self.mcfg, self.tcfg, self.n_bands, self.n_classes, self.data_key, train, val, cnn_only)

    def _stage_fp(self, stage: str) -> str:
        return self._fp_cnn if stage.startswith("cnn") else self._fp


class WeightAverage:
    """An exponential moving average of a network's weights over the optimizer steps (Polyak averaging).

    Why: on areas unlike the training polygons the prediction of one epoch's weights swings by tens of points from
    epoch to epoch (seen on region-grouped Indian Pines splits), while the training accuracy is flat. The average of
    the recent weights lies in a flatter, more central part of the loss surface and holds up better away from the
    training data (Izmailov et al. 2018, "Averaging weights leads to wider optima and better generalization"). It
    costs nothing at inference: the averaged network is the same network. `epochs` is the time constant: decay per
    step exp(-1 / (epochs x steps per epoch)). In the SNN stage the average starts from the converted CNN, so it
    also keeps the SNN near the weights the CNN learned."""

    def __init__(self, net, epochs: float, steps_per_epoch: int):
        self.decay = math.exp(-1.0 / max(float(epochs) * max(int(steps_per_epoch), 1), 1e-9))
        self.state = {k: v.detach().clone() for k, v in net.state_dict().items()}

    @torch.no_grad()
    def update(self, net) -> None:
        for k, v in net.state_dict().items():
            if v.dtype.is_floating_point:
                self.state[k].mul_(self.decay).add_(v.detach(), alpha=1.0 - self.decay)
            else:
                self.state[k].copy_(v)

    @contextlib.contextmanager
    def applied(self, net):
        """The averaged weights in `net` for the block's duration (to score an epoch), the live ones after."""
        live = {k: v.detach().clone() for k, v in net.state_dict().items()}
        net.load_state_dict(self.state)
        try:
            yield
        finally:
            net.load_state_dict(live)


def scaled_epochs(epochs: int, n_train: int, epoch_pixels: int) -> int:
    """Epochs for `n_train` pixels when `epochs` are meant for `epoch_pixels` (TrainConfig.epoch_pixels): the same
    number of patches seen in all, never more epochs than asked, at least one."""
    if epoch_pixels <= 0 or n_train <= epoch_pixels:
        return int(epochs)
    return max(1, min(int(epochs), math.ceil(epochs * epoch_pixels / n_train)))


DISTILLATION_TEMPERATURE = 2.0
"""Softening of teacher and student outputs in the distillation loss (Hinton et al. 2015)."""


def distillation_loss(student_logits: torch.Tensor, teacher_logits: torch.Tensor,
                      temperature: float = DISTILLATION_TEMPERATURE) -> torch.Tensor:
    """KL(teacher || student) of the temperature-softened outputs, times T^2 so its gradient keeps the size of the
    cross-entropy's. Why: the SNN stage fine-tunes a converted network on the same few labels that trained the CNN;
    matching the CNN's whole output distribution on every patch (not only the label) keeps what the CNN learned about
    how classes relate, instead of re-fitting the labels from the spikes' coarser signal."""
    T = float(temperature)
    return F.kl_div(F.log_softmax(student_logits / T, 1), F.log_softmax(teacher_logits / T, 1), log_target=True,
                    reduction="batchmean") * T * T


def mixup_draw(alpha: float, n: int, rng: np.random.Generator):
    """(weight, partner order) for mixup (Zhang et al. 2018), drawn from the stage's seeded (and checkpointed)
    numpy generator; (1.0, None) when off or for a batch of one."""
    if alpha <= 0 or n < 2:
        return 1.0, None
    return float(rng.beta(alpha, alpha)), torch.as_tensor(rng.permutation(n))


def spike_cost(spike_maps, dense_macs) -> torch.Tensor:
    """Differentiable share of the later layers' dense work that the spikes trigger: layer i's mean spike
    rate reaches layer i+1, which would do dense_macs[i+1] MACs per step as a CNN."""
    total = sum(dense_macs[1:])
    return sum(s.mean() * (dense_macs[i + 1] / total) for i, s in spike_maps)


def class_weights(y: np.ndarray, n_classes: int, mode: str) -> Optional[torch.Tensor]:
    """Loss weights from the training class counts (mean 1 over present classes), or None."""
    if mode == "none":
        return None
    counts = np.bincount(np.asarray(y, np.int64), minlength=n_classes).astype(np.float64)
    w = np.zeros(n_classes)
    present = counts > 0
    w[present] = counts[present] ** (-0.5 if mode == "sqrt_inverse" else -1.0)
    w[present] /= w[present].mean()
    return torch.tensor(w, dtype=torch.float32)


@torch.no_grad()
def predict_pixels(net, source, pixels: PixelSet, batch: int = 512, is_canceled=None):
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

