"""Progress, cancel and log for a run, and the engine's warnings turned into log lines."""
from __future__ import annotations

import contextlib
import os
import warnings
from dataclasses import dataclass, field
from typing import Callable, List

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _noop(*a, **k):
    return None


def _never() -> bool:
    return False


@dataclass
class Callbacks:
    progress: Callable[[float, str], None] = _noop
    is_canceled: Callable[[], bool] = _never
    log: Callable[[str], None] = _noop
    warnings: List[str] = field(default_factory=list)
    """The engine's user-facing warnings of the run so far (also logged)."""

    def span(self, start: float, end: float) -> Callable[[float, str], None]:
        """A progress callable mapping 0..1 onto start..end of this run's bar."""
        return lambda f, m: self.progress(start + (end - start) * f, m)

    def warn(self, text: str) -> None:
        if text not in self.warnings:
            self.warnings.append(text)
            self.log(f"warning: {text}")

    @contextlib.contextmanager
    def capture_warnings(self):
        """Turn the engine's own warnings (labels, bands, files: raised from hypersnn's code) into log lines;
        library noise and deprecations are left alone."""
        with warnings.catch_warnings(record=True) as rec:
            warnings.simplefilter("always")
            try:
                yield self
            finally:
                for w in rec:
                    text = str(w.message)
                    if issubclass(w.category, (DeprecationWarning, PendingDeprecationWarning)):
                        continue
                    if not os.path.abspath(w.filename or "").startswith(_PACKAGE_DIR) or "requires_grad" in text:
                        continue
                    self.warn(text)


def call_with_warnings(fn, *args, **kwargs):
    """(fn(*args, **kwargs), [the engine's user-facing warnings it raised]): for inputs read on the main thread
    before a run starts, whose warnings would otherwise reach no one."""
    cb = Callbacks()
    with cb.capture_warnings():
        result = fn(*args, **kwargs)
    return result, cb.warnings
