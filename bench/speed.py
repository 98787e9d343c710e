"""Inference speed: fully convolutional windows vs the patch-by-patch path, same model, same run."""
from __future__ import annotations

import time

import numpy as np

from tests.oracles import PatchSource, pad_cube
from hypersnn.core.mapping.predict import classify_raster, preprocess_block
from hypersnn.core.io.raster import ArrayWriter
from hypersnn.core.training.trainer import PixelSet, predict_pixels


def fc_vs_patchwise(model, reader, max_patch_pixels: int = None, repeats: int = 1) -> dict:
    """Time both paths on the same pixels; with `repeats` > 1 each path's best time (the quick smoke test
    times a tiny crop, where one scheduling hiccup on a busy machine would otherwise decide the ratio)."""
    info = reader.info
    h, w = info.height, info.width
    fc_s = float("inf")
    for _ in range(repeats):
        holder = {}

        def open_writer(spec):
            holder.setdefault(spec.path, ArrayWriter(spec))
            return holder[spec.path]

        t0 = time.perf_counter()
        res = classify_raster(model, reader, open_writer, "class", None)
        fc_s = min(fc_s, time.perf_counter() - t0)
    fc_map = holder["class"].array[:, :, 0]

    x, ok = preprocess_block(model, reader.read(None, model.bands.indices), info.nodata)
    src = PatchSource(pad_cube(x, model.net.cfg.patch_size), model.net.cfg.patch_size)
    rows, cols = np.nonzero(ok)
    if max_patch_pixels and len(rows) > max_patch_pixels:  # time a seeded subset, compare on it
        pick = np.sort(np.random.default_rng(0).choice(len(rows), max_patch_pixels, replace=False))
        rows, cols = rows[pick], cols[pick]
    pw_s = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        pred, _ = predict_pixels(model.net, src, PixelSet(rows, cols, np.zeros(len(rows), np.int64)), batch=512)
        pw_s = min(pw_s, time.perf_counter() - t0)
    values = np.array(model.class_values)
    agree = float((values[pred] == fc_map[rows, cols]).mean())
    fc_pps, pw_pps = res.pixels / fc_s, len(rows) / pw_s
    return {"scene_pixels": h * w, "fc_seconds": fc_s, "fc_pixels_per_s": fc_pps,
            "patchwise_pixels_timed": int(len(rows)), "patchwise_seconds": pw_s, "patchwise_pixels_per_s": pw_pps,
            "speedup": fc_pps / pw_pps, "class_agreement": agree}
