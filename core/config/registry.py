"""What one setting is: its section, name, type, default and the metadata `config.opt` declared (help, range,
choices, flag, Processing name, where it is offered), its checks, and `build_settings`, which makes one per field
of `config.RunConfig`. core/config/schema.py builds the registry (SETTINGS) from here; core/config/settings.py
turns it into command-line flags. This module imports no other settings module, so the schema and the registry
import in one direction only.
"""
from __future__ import annotations

import math
import numbers
import typing
from dataclasses import MISSING, dataclass, fields
from typing import Any, List, Optional

from ..errors import InputError


@dataclass(frozen=True)
class Setting:
    """One setting of RunConfig with what `config.opt` declared for it; each item is described here, once."""

    section: str
    """The RunConfig section ("train", "split", ...): with `name`, the key of a settings file ("train.seed")."""
    name: str
    type: Any
    """int, float, bool, str or List[int]: what `check` accepts."""
    default: Any
    help: str
    flag: str
    """The command line's flag (--time-steps)."""
    param: str
    """The Processing parameter's name (TIME_STEPS)."""
    lo: Optional[float]
    """Smallest allowed value (of every item, for a list); checked by RunConfig.validate."""
    hi: Optional[float]
    """Largest allowed value (of every item, for a list)."""
    choices: Optional[tuple]
    """The allowed values, where there is a fixed set."""
    processing_choices: Optional[tuple]
    """The choices in Processing's order (appended only: a saved model keeps its indices)."""
    advanced: bool
    """Shown under Processing's advanced parameters."""
    cli: bool
    processing: bool
    dialog: bool
    """Where it is offered: False keeps it to settings files (and, for the dialog, to a widget of its own)."""
    negate: bool
    """The flag sets False (--keep-bad-bands for drop_bad_bands); `flag_help` says what giving it does."""
    above: Optional[float] = None
    """An exclusive lower bound (an operation's cost must be > 0)."""
    min_len: Optional[int] = None
    """The shortest allowed list (for a List[int] setting)."""
    max_len: Optional[int] = None
    flag_help: str = ""
    stage: Optional[str] = None
    """"snn": read by the SNN stage only (not part of the CNN checkpoint's fingerprint, core/training/trainer.py)."""

    @property
    def key(self) -> str:
        return f"{self.section}.{self.name}"

    @property
    def dest(self) -> str:
        return f"{self.section}__{self.name}"

    @property
    def label(self) -> str:
        """The setting as a user sets it: its key in a settings file, and its flag where the command line has one."""
        return f"{self.key} ({self.flag})" if self.cli else self.key

    @property
    def item_type(self):
        """int for a List[int] setting, else None."""
        return typing.get_args(self.type)[0] if typing.get_origin(self.type) in (list, List) else None

    def get(self, cfg):
        return getattr(getattr(cfg, self.section), self.name)

    def set(self, cfg, value) -> None:
        setattr(getattr(cfg, self.section), self.name, list(value) if isinstance(value, (list, tuple)) and
                self.type not in (str,) and self.choices is None else value)

    def check(self, value):
        """`value` as the run uses it (a whole-number float such as 3.0 or 1e3 from a JSON settings file becomes
        the int 3 or 1000), or an InputError naming the setting as the user sets it when the value has the wrong
        type, lies outside the range or choices, or is a list of the wrong length or with a bad item. Lists are
        checked here, like numbers, so that a bad layer width fails with its name, not deep inside training."""
        item = self.item_type
        if item is None:
            return self._scalar(value, self.type, self.label, "")
        example = f" (e.g. {list(self.default)})"
        if not isinstance(value, (list, tuple)):
            raise InputError(f"{self.label} must be a list of {_kind(item, self)}{example}, got {value!r}")
        n = len(value)
        if (self.min_len is not None and n < self.min_len) or (self.max_len is not None and n > self.max_len):
            raise InputError(f"{self.label} must list {_count(self.min_len, self.max_len)} value(s){example}, "
                             f"got {n}: {list(value)!r}")
        return [self._scalar(v, item, self.label, f" item {i + 1} of {list(value)!r}") for i, v in enumerate(value)]

    def _scalar(self, value, typ, label: str, where: str):
        if typ in (int, float):
            if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
                raise InputError(f"{label}{where} must be a number, got {value!r}")
            if typ is int:
                if not float(value).is_integer():
                    raise InputError(f"{label}{where} must be a whole number, got {value!r}")
                value = int(value)
        if self.choices is not None and value not in self.choices:
            raise InputError(f"{label} must be one of {', '.join(map(str, self.choices))}, got {value!r}")
        if typ in (int, float):
            if (self.lo is not None and value < self.lo) or (self.hi is not None and value > self.hi) or \
                    (self.above is not None and value <= self.above):
                raise InputError(f"{label}{where} must be {_range(self)}, got {value}")
        if typ is bool and not isinstance(value, bool):
            raise InputError(f"{label} must be true or false, got {value!r}")
        if typ is str and not isinstance(value, str):
            raise InputError(f"{label} must be text, got {value!r}")
        return value

    def describe(self, flag: bool = False) -> str:
        """The help text with the default and the allowed values, for tooltips; with `flag`, for the command
        line's --help, where a flag that sets False says what giving it does."""
        if flag and self.negate and self.type is bool:
            return self.flag_help or f"turn off: {self.help}"
        extra = []
        if self.choices:
            extra.append("one of " + ", ".join(map(str, self.choices)))
        elif self.lo is not None or self.hi is not None or self.above is not None:
            extra.append(f"range {_range(self)}")
        extra.append(f"default {self.default}")
        return f"{self.help} ({'; '.join(extra)})"


def _range(s: Setting) -> str:
    if s.above is not None:
        return f"> {s.above:g}" + (f" and <= {s.hi}" if s.hi is not None else "")
    if s.lo is not None and s.hi is not None:
        return f"{s.lo}..{s.hi}"
    return f">= {s.lo}" if s.lo is not None else f"<= {s.hi}"


def _kind(item, s: Setting) -> str:
    word = "whole numbers" if item is int else "numbers"
    return f"{word} {_range(s)}" if s.lo is not None or s.hi is not None or s.above is not None else word


def _count(lo: Optional[int], hi: Optional[int]) -> str:
    if lo is not None and hi is not None:
        return f"{lo} to {hi}"
    return f"at least {lo}" if lo is not None else f"at most {hi}"


def build_settings(RunConfig) -> List[Setting]:
    """One Setting per field of each section of the `RunConfig` dataclass (core/config/schema.py), from the metadata
    `config.opt` gave it."""
    out = []
    hints_by_section = {}
    for sec in fields(RunConfig):
        cls = sec.default_factory
        hints = typing.get_type_hints(cls)
        hints_by_section[sec.name] = hints
        for f in fields(cls):
            m = f.metadata
            default = f.default_factory() if f.default is MISSING else f.default
            typ = hints[f.name]
            typ = {int: int, float: float, bool: bool, str: str}.get(typ, typ)
            out.append(Setting(
                section=sec.name, name=f.name, type=typ, default=default, help=m.get("help", ""),
                flag=m.get("flag") or "--" + f.name.replace("_", "-"), param=m.get("param") or f.name.upper(),
                lo=m.get("lo"), hi=m.get("hi"), choices=m.get("choices"),
                processing_choices=m.get("processing_choices") or m.get("choices"),
                advanced=bool(m.get("advanced")), cli=m.get("cli", True), processing=m.get("processing", True),
                dialog=m.get("dialog", True), negate=bool(m.get("negate")), above=m.get("above"),
                min_len=m.get("min_len"), max_len=m.get("max_len"), flag_help=m.get("flag_help", ""),
                stage=m.get("stage")))
    return out
