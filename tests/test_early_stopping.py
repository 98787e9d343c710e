"""The kept epoch and early stopping: raw validation accuracy by default, smoothed over epochs on request."""
import numpy as np
import torch

from hypersnn.core.config.schema import ModelConfig, SplitConfig, TrainConfig
from hypersnn.core.training.early_stopping import EpochSelector, smoothed
from oracles import PatchSource
from hypersnn.core.data.splits import make_split
from hypersnn.core.training.trainer import PixelSet, Trainer

LUCKY = [0.50, 0.90, 0.60, 0.80, 0.85, 0.86]  # one lucky epoch (2), then a steady climb


def _kept(window, patience=0):
    sel, kept = EpochSelector(window, patience), None
    for ep, acc in enumerate(LUCKY, 1):
        if sel.update(acc):
            kept = ep
        if sel.should_stop:
            break
    return kept, sel


def test_raw_accuracy_keeps_the_lucky_epoch_and_smoothing_keeps_the_steady_one():
    assert _kept(1)[0] == 2
    kept, sel = _kept(3)
    assert kept == 6 and abs(sel.best - (0.80 + 0.85 + 0.86) / 3) < 1e-12
    assert smoothed([0.2], 3) == 0.2 and smoothed([0.2, 0.4, 0.6, 0.8], 2) == 0.7


def test_patience_counts_epochs_without_improvement_of_the_criterion():
    kept, sel = _kept(1, patience=3)
    assert kept == 2 and sel.should_stop and len(sel.history) == 5  # epochs 3, 4, 5 did not beat 0.90
    kept, sel = _kept(3, patience=3)
    assert not sel.should_stop and len(sel.history) == 6


def _scene():
    """A 12 x 12 scene of 3 classes with 5 noisy bands, its patch source, the pixels, their classes and a tiny net."""
    rng = np.random.default_rng(0)
    h = w = 12
    y = (np.arange(h * w).reshape(h, w) * 7 % 3)
    x = rng.normal(size=(h, w, 5)).astype(np.float32) + y[..., None].astype(np.float32)
    src = PatchSource(np.ascontiguousarray(np.pad(x, ((2, 2), (2, 2), (0, 0)), mode="reflect").transpose(2, 0, 1)), 5)
    rows, cols = np.nonzero(np.ones((h, w), bool))
    mcfg = ModelConfig(patch_size=5, conv3d_channels=[2], conv3d_spectral_kernels=[3], conv2d_channels=[4],
                       dense=[8])
    return src, rows, cols, y, mcfg


def test_training_keeps_the_epoch_with_the_best_smoothed_validation_accuracy():
    src, rows, cols, y, mcfg = _scene()
    tr, va = slice(0, 100), slice(100, None)
    train = PixelSet(rows[tr], cols[tr], y.ravel()[tr])
    val = PixelSet(rows[va], cols[va], y.ravel()[va])
    tcfg = TrainConfig(cnn_epochs=6, snn_epochs=1, batch_size=32, time_steps=2, patience=0, val_smoothing=3)
    before = torch.get_rng_state()
    t = Trainer(mcfg, tcfg, n_bands=5, n_classes=3)
    t.fit(src, train, val)
    accs = [e["val_acc"] for e in t.history.epochs["cnn"]]
    assert len(accs) == 6
    best = max(smoothed(accs[:i], 3) for i in range(1, 7))
    assert abs(t.history.best_val["cnn"] - best) < 1e-12
    assert torch.equal(torch.get_rng_state(), before)  # seeded_run put torch's state back


def test_the_validation_minimum_holds_for_every_class():
    """Plenty of validation pixels in all do not make a validation set that can rank when one class has a handful:
    the minimum is per class, and the warning names the class that is short."""
    labels = np.zeros((60, 40), np.int32)
    labels[:50] = 1
    labels[50:, :30] = 2  # 300 pixels: 30 % to the training side, 10 % of that to validation = 9 pixels
    sp = make_split(labels, SplitConfig(method="random", train_fraction=0.3, val_fraction=0.1, seed=0),
                    class_names={1: "meadow", 2: "pond"})
    check = sp.protocol["validation_check"]
    assert check["fallback"] == "fixed epochs" and [r["class"] for r in check["short_classes"]] == [2]
    assert check["pixels"] >= 60 and not sp.val.any()
    assert any("1 of 2 class(es) have fewer than 50 pixels (2 (pond): 9)" in w for w in sp.protocol["warnings"])
    big = make_split(np.repeat(labels, 4, axis=0), SplitConfig(method="random", train_fraction=0.5, val_fraction=0.2,
                                                               seed=0))
    assert big.protocol["validation_check"]["adequate"] and big.val.any()


def test_validation_below_the_minimum_falls_back_to_fixed_epochs_and_says_so():
    """A handful of validation pixels cannot rank epochs: the split returns them to training and says so, and the
    trainer then keeps the last epoch of each stage (never one chosen on training accuracy)."""
    labels = np.zeros((20, 20), np.int32)
    labels[:10] = 1
    labels[10:] = 2
    sp = make_split(labels, SplitConfig(method="random", train_fraction=0.3, val_fraction=0.1, seed=0))
    check = sp.protocol["validation_check"]
    assert not sp.val.any() and check["pixels"] == 12 and check["fallback"] == "fixed epochs"
    assert int(sp.train.sum()) == 120  # the 12 validation pixels train
    assert any(w.startswith("Validation too small to decide: 12 pixel(s) in all") for w in sp.protocol["warnings"])
    assert "fixed epochs" in sp.protocol["description"]
    from hypersnn.core.training.trust import trust_warnings

    assert trust_warnings({"split_protocol": sp.protocol})[0].startswith("Validation too small to decide (12 pixels")


def test_without_validation_every_epoch_runs_and_the_last_is_kept():
    src, rows, cols, y, mcfg = _scene()
    train = PixelSet(rows, cols, y.ravel())
    empty = PixelSet(rows[:0], cols[:0], y.ravel()[:0])
    tcfg = TrainConfig(cnn_epochs=4, snn_epochs=0, batch_size=32, time_steps=2, patience=1)
    t = Trainer(mcfg, tcfg, n_bands=5, n_classes=3)
    t.fit(src, train, empty)  # patience 1 would have stopped on a training-accuracy plateau before
    eps = t.history.epochs["cnn"]
    assert [e["epoch"] for e in eps] == [1, 2, 3, 4] and all(e["val_acc"] is None for e in eps)
    assert t.history.best_val["cnn"] is None
