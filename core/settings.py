"""The one registry of settings: every field of config.RunConfig with the metadata that `config.opt` gave it.

Front ends read it instead of listing settings themselves: the CLI adds one flag per setting
(`add_arguments` / `apply_arguments`), Processing one parameter per setting (plugin/algorithms/parameters.py),
the training dialog one field per setting it has no custom widget for (ui/settings_form.py), and
RunConfig.validate checks ranges and choices from here. A new setting is added in core/config.py only.
"""
from __future__ import annotations

import argparse
import math
import typing
from dataclasses import MISSING, dataclass, fields
from typing import Any, List, Optional

from .errors import InputError

SECTIONS = ("bands", "split", "preprocess", "model", "train", "classify", "energy")


@dataclass(frozen=True)
class Setting:
    section: str
    name: str
    type: Any
    default: Any
    help: str
    flag: str
    param: str
    lo: Optional[float]
    hi: Optional[float]
    choices: Optional[tuple]
    processing_choices: Optional[tuple]
    advanced: bool
    cli: bool
    processing: bool
    dialog: bool
    negate: bool
    above: Optional[float] = None
    min_len: Optional[int] = None
    max_len: Optional[int] = None
    flag_help: str = ""

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
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
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


def _settings() -> List[Setting]:
    from .config import RunConfig

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
                min_len=m.get("min_len"), max_len=m.get("max_len"), flag_help=m.get("flag_help", "")))
    return out


SETTINGS: List[Setting] = _settings()
TRAIN_SECTIONS = ("bands", "split", "preprocess", "model", "train", "baseline")
"""The sections a training run reads (the CLI's train flags, the Processing train parameters, the dialog)."""
BY_KEY = {s.key: s for s in SETTINGS}


def settings(*sections: str, where: str = "") -> List[Setting]:
    """The settings of `sections` offered in `where` ('cli', 'processing', 'dialog' or '' for all)."""
    return [s for s in SETTINGS if (not sections or s.section in sections) and (not where or getattr(s, where))]


# ------------------------------------------------------------------------------------------------ CLI


def add_arguments(parser: argparse.ArgumentParser, sections, titles: Optional[dict] = None) -> None:
    """One flag per CLI setting of `sections`, grouped by section; unset flags stay None (so a settings file
    and a preset are overridden only by flags actually given)."""
    for sec in sections:
        group = parser.add_argument_group((titles or {}).get(sec, sec))
        for s in settings(sec, where="cli"):
            kw = {"dest": s.dest, "help": s.describe(flag=True), "default": None}
            if s.type is bool:
                group.add_argument(s.flag, action="store_const", const=not s.negate, **kw)
            else:
                typ = s.type if s.type in (int, float, str) else str
                if s.choices:
                    kw["choices"] = s.choices
                    typ = type(s.choices[0])
                else:
                    kw["metavar"] = s.name.upper()
                group.add_argument(s.flag, type=typ, **kw)


def apply_arguments(cfg, args) -> list:
    """Put the flags that were given onto `cfg`; returns the keys set."""
    done = []
    for s in SETTINGS:
        v = getattr(args, s.dest, None)
        if v is not None:
            s.set(cfg, v)
            done.append(s.key)
    return done
