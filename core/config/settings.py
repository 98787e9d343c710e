"""The registry of settings as front ends read it: every field of config.RunConfig with the metadata that
`config.opt` gave it (SETTINGS, built in core/config/schema.py from core/config/registry.py), selected by section and front end.

Front ends read it instead of listing settings themselves: the CLI adds one flag per setting
(`add_arguments` / `apply_arguments`), Processing one parameter per setting (plugin/algorithms/parameters.py),
the training dialog one field per setting it has no custom widget for (ui/settings_form.py), and
RunConfig.validate checks ranges and choices from it. A new setting is added in core/config/schema.py only.
"""
from __future__ import annotations

import argparse
from dataclasses import fields
from typing import List, Optional

from .schema import BY_KEY, SETTINGS, RunConfig  # noqa: F401 - the registry, built in core/config/schema.py
from .registry import Setting  # noqa: F401 - what each of its entries is

SECTION_TITLES = {f.name: f.metadata.get("title", f.name) for f in fields(RunConfig)}
"""Each section of RunConfig and the title that heads its flags (declared in core/config/schema.py)."""
SECTIONS = tuple(SECTION_TITLES)
TRAIN_SECTIONS = ("bands", "split", "preprocess", "model", "train", "baseline")
"""The sections a training run reads (the CLI's train flags, the Processing train parameters, the dialog)."""


def settings(*sections: str, where: str = "") -> List[Setting]:
    """The settings of `sections` offered in `where` ('cli', 'processing', 'dialog' or '' for all)."""
    return [s for s in SETTINGS if (not sections or s.section in sections) and (not where or getattr(s, where))]


# ------------------------------------------------------------------------------------------------ CLI


def add_arguments(parser: argparse.ArgumentParser, sections, titles: Optional[dict] = None) -> None:
    """One flag per CLI setting of `sections`, grouped by section; unset flags stay None (so a settings file
    and a preset are overridden only by flags actually given)."""
    for sec in sections:
        group = parser.add_argument_group((titles or SECTION_TITLES).get(sec, sec))
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
