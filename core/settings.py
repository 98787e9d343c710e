"""The one registry of settings: every field of config.RunConfig with the metadata that `config.opt` gave it.

Front ends read it instead of listing settings themselves: the CLI adds one flag per setting
(`add_arguments` / `apply_arguments`), Processing one parameter per setting (plugin/algorithms/parameters.py),
the training dialog one field per setting it has no custom widget for (ui/settings_form.py), and
RunConfig.validate checks ranges and choices from here. A new setting is added in core/config.py only.
"""
from __future__ import annotations

import argparse
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

    @property
    def key(self) -> str:
        return f"{self.section}.{self.name}"

    @property
    def dest(self) -> str:
        return f"{self.section}__{self.name}"

    def get(self, cfg):
        return getattr(getattr(cfg, self.section), self.name)

    def set(self, cfg, value) -> None:
        setattr(getattr(cfg, self.section), self.name, list(value) if isinstance(value, (list, tuple)) and
                self.type not in (str,) and self.choices is None else value)

    def check(self, value) -> None:
        """InputError naming the setting when `value` is outside its range or choices."""
        if self.choices is not None and value not in self.choices:
            raise InputError(f"{self.name} must be one of {', '.join(map(str, self.choices))}, got {value!r}")
        if self.type in (int, float):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
                raise InputError(f"{self.name} must be a number, got {value!r}")
            if self.type is int and not float(value).is_integer():
                raise InputError(f"{self.name} must be a whole number, got {value!r}")
            if (self.lo is not None and value < self.lo) or (self.hi is not None and value > self.hi):
                rng = (f"{self.lo}..{self.hi}" if self.lo is not None and self.hi is not None
                       else f">= {self.lo}" if self.lo is not None else f"<= {self.hi}")
                raise InputError(f"{self.name} must be {rng}, got {value}")
        if self.type is bool and not isinstance(value, bool):
            raise InputError(f"{self.name} must be true or false, got {value!r}")

    def describe(self) -> str:
        """The help text with the default and the allowed values, for --help and tooltips."""
        extra = []
        if self.choices:
            extra.append("one of " + ", ".join(map(str, self.choices)))
        elif self.lo is not None or self.hi is not None:
            extra.append(f"range {self.lo if self.lo is not None else ''}..{self.hi if self.hi is not None else ''}")
        extra.append(f"default {self.default}")
        return f"{self.help} ({'; '.join(extra)})"


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
                dialog=m.get("dialog", True), negate=bool(m.get("negate"))))
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
            kw = {"dest": s.dest, "help": s.describe(), "default": None}
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
