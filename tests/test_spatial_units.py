"""Spatial clusters of polygons: neighbours move together, so the leakage guard keeps the scene."""
from pathlib import Path

import numpy as np
import pytest

from hypersnn.core.config.schema import ModelConfig, SplitConfig
from hypersnn.core.data.spatial_units import cluster_units, label_regions, seam_drops
from hypersnn.core.data.splits import make_split

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "enmap_potsdam_west"


def _tiling(h=60, w=90, cell=6, k=4, seed=0):
    """A polygonised land-cover map: small polygons that tile the ground, classes at random."""
    rng = np.random.default_rng(seed)
    r, c = np.indices((h, w))
    pid = (r // cell) * (w // cell + 1) + c // cell + 1
    lab = rng.integers(1, k + 1, pid.max() + 1)[pid]
    return lab.astype(np.int64), pid.astype(np.int64)


def test_clusters_keep_polygons_whole_and_join_polygons_closer_than_the_guard():
    pid = np.zeros((30, 60), np.int64)
    pid[2:8, 2:8], pid[2:8, 10:16] = 1, 2      # 2 px apart: within a radius of 3, one cluster
    pid[20:26, 40:46], pid[20:26, 52:58] = 3, 4  # 6 px apart: two clusters
    cl = cluster_units(pid, radius=3, n_target=1)
    for p in range(1, 5):
        assert np.unique(cl[pid == p]).size == 1, f"polygon {p} was cut"
    assert cl[3, 3] == cl[3, 11] and cl[21, 41] != cl[21, 53]
    assert (cl > 0).sum() == (pid > 0).sum() and cl.max() == 3


def test_a_tiled_polygon_layer_is_cut_into_few_compact_clusters_so_the_guard_drops_little():
    lab, pid = _tiling()
    by_polygon = make_split(lab, SplitConfig(method="polygons", train_fraction=0.3, val_fraction=0.0, seed=0),
                            polygon_ids=np.where(True, pid, 0), patch_size=11)
    share = by_polygon.protocol["dropped_share"]
    assert share <= 0.30, share
    assert by_polygon.protocol["clusters"] < pid.max() // 10
    # the same layer split polygon by polygon (every polygon its own unit) would lose most of the test side
    cl = np.arange(pid.max() + 1)[pid]
    side = np.random.default_rng(0).random(pid.max() + 1) < 0.3
    assert seam_drops(cl, side, 5).sum() / cl.size > 0.5


def test_label_regions_are_connected_areas_of_one_class():
    lab = np.zeros((6, 6), np.int64)
    lab[0, :3], lab[5, :3], lab[0, 4:] = 1, 1, 2
    reg = label_regions(lab, lab > 0)
    assert np.unique(reg[lab > 0]).size == 3 and reg[0, 0] != reg[5, 0] and (reg[lab == 0] == 0).all()


@pytest.mark.skipif(not (SHARED / "enmap_potsdam_west_landcover.gpkg").is_file(), reason="../shared data absent")
def test_potsdam_west_polygons_at_defaults_keep_at_least_70_percent_of_the_labels():
    from hypersnn.workflows.backend import LabelSource
    from hypersnn.workflows.labels import training_labels
    from hypersnn.workflows.rasterio_backend import RasterioBackend

    backend = RasterioBackend()
    reader = backend.open_raster(str(SHARED / "enmap_potsdam_west.tif"))
    try:
        labels, _ = training_labels(backend, LabelSource(path=str(SHARED / "enmap_potsdam_west_landcover.gpkg"),
                                                         class_field="level_3"), reader.info)
    finally:
        reader.close()
    for seed in (0, 1, 2):  # the default (map production: the folds' guard) and the polygon hold-out
        for method in ("cv", "polygons"):
            cfg = SplitConfig(seed=seed) if method == "cv" else SplitConfig(method=method, seed=seed)
            s = make_split(labels.array, cfg, polygon_ids=labels.polygon_ids, patch_size=ModelConfig().patch_size)
            p = s.protocol
            assert p["method"] == method and p["dropped_share"] <= 0.30, (seed, method, p["dropped_share"])
            assert p["dropped_for_leakage"] == sum(r["dropped_for_leakage"] for r in p["per_class"])
            what = "of another fold's training pixels" if method == "cv" else "% of the usable labelled pixels"
            assert any(what in n for n in p["notes"]), (method, p["notes"])
