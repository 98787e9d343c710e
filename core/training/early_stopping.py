"""Which epoch to keep, and when to stop: validation accuracy, optionally smoothed over epochs.

Why smoothing: on a small validation set (58 pixels on a 5,672-pixel EnMAP scene) accuracy moves in steps of
1/58 = 1.7 points, so one lucky epoch can win and early stopping fires on noise. With `window` > 1 the
criterion is the mean validation accuracy of the last `window` epochs of the stage; the weights kept are
those of the epoch that ends the best window. `window` = 1 is the raw accuracy (the default, chosen on the
Indian Pines bench; the smoothed criterion is an option until a bench picks it on validation data).
"""
from __future__ import annotations

from typing import List


def smoothed(history: List[float], window: int) -> float:
    """Mean of the last `window` values (fewer at the start of a stage)."""
    tail = history[-max(1, window):]
    return sum(tail) / len(tail)


class EpochSelector:
    """Tracks the best criterion so far and the epochs since it improved."""

    def __init__(self, window: int = 1, patience: int = 0, best: float = -1.0, stale: int = 0):
        self.window, self.patience = max(1, int(window)), int(patience)
        self.best, self.stale = best, stale
        self.history: List[float] = []

    def update(self, val_acc: float) -> bool:
        """Record one epoch's validation accuracy; True when this epoch is the best so far (keep its weights)."""
        self.history.append(float(val_acc))
        score = smoothed(self.history, self.window)
        if score > self.best:
            self.best, self.stale = score, 0
            return True
        self.stale += 1
        return False

    @property
    def should_stop(self) -> bool:
        return bool(self.patience) and self.stale >= self.patience
