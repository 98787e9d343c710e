"""What the parsed flags become: the settings (file, preset, flags, the one seed rule) and the label source.

Shared by the commands and by tests that build settings the way `hypersnn train` does.
"""
from __future__ import annotations

from typing import Optional

from ..core.config.schema import RunConfig, apply_preset
from ..core.config.settings import apply_arguments
from ..core.errors import InputError


def point_buffer(text: Optional[str]):
    """(size, unit) from --point-buffer: 'Npx' in pixels, a bare number in map units."""
    if not text:
        return 0.0, "pixels"
    t = text.strip().lower()
    try:
        return (float(t[:-2]), "pixels") if t.endswith("px") else (float(t), "map units")
    except ValueError:
        raise InputError(f"--point-buffer {text!r} is not understood: give e.g. 1px (pixels) or 45 (map units)"
                         ) from None


def label_source(args):
    from ..workflows.backend import LabelSource

    if bool(args.labels) == bool(args.polygons):
        raise InputError("give exactly one of --labels (label raster) or --polygons (vector layer)")
    if args.polygons and not args.class_field:
        raise InputError("--polygons needs --class-field (the attribute holding the class)")
    size, unit = point_buffer(args.point_buffer)
    if size and not args.polygons:
        raise InputError("--point-buffer applies to point labels given with --polygons (a vector file)")
    return LabelSource(path=args.labels or args.polygons, class_field=args.class_field if args.polygons else None,
                       layer=args.layer, class_table=args.classes, point_buffer=size, point_buffer_unit=unit)


def config_from_args(args, base: RunConfig = None) -> RunConfig:
    """Settings file (or the defaults), then the preset, then the flags given; the one seed rule."""
    cfg = RunConfig.load(args.config) if getattr(args, "config", None) else (base or RunConfig())
    split_seed = cfg.split.seed if getattr(args, "config", None) else None
    if getattr(args, "preset", None):
        apply_preset(cfg, args.preset)
    given = apply_arguments(cfg, args)
    cfg.couple_seeds(split_seed, "train.seed" in given)
    return cfg.validate()
