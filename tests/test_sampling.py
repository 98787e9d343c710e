"""Stratified random validation points: allocation, the draw, and the points evaluated back."""
import json

import numpy as np
import pytest

from hypersnn.core.errors import InputError, OutputError
from hypersnn.core.data.sampling import SampleDesign, allocate, draw


def _strips(a, rows=3):
    return lambda: (a[r:r + rows] for r in range(0, a.shape[0], rows))


def test_equal_and_proportional_allocation():
    counts = {1: 9000, 2: 900, 3: 100}
    assert allocate(counts, SampleDesign(per_class=50))[0] == {1: 50, 2: 50, 3: 50}
    alloc, notes = allocate(counts, SampleDesign(per_class=None, total=100))
    assert alloc == {1: 90, 2: 9, 3: 1} and not notes
    alloc, notes = allocate(counts, SampleDesign(per_class=None, total=100, min_per_class=20))
    assert alloc == {1: 90, 2: 20, 3: 20} and "raises the sample to 130" in notes[0]
    alloc, notes = allocate({1: 5, 2: 500}, SampleDesign(per_class=50))
    assert alloc == {1: 5, 2: 50} and "1 (5 pixels)" in notes[0]
    # largest remainder: shares that do not divide evenly still sum to the total
    assert allocate({1: 100, 2: 100, 3: 100}, SampleDesign(per_class=None, total=10))[0] == {1: 4, 2: 3, 3: 3}
    for bad in (SampleDesign(per_class=0), SampleDesign(per_class=5, total=10), SampleDesign(per_class=None)):
        with pytest.raises(InputError):
            allocate(counts, bad)


def test_draw_is_stratified_seeded_and_independent_of_the_strip_height():
    rng = np.random.default_rng(1)
    cmap = rng.choice([0, 1, 2, 3], size=(40, 30), p=[0.1, 0.6, 0.25, 0.05]).astype(np.uint8)
    design = SampleDesign(per_class=20, seed=7)
    rows, cols, values, alloc, counts, _ = draw(_strips(cmap, 3), 0, design)
    assert alloc == {1: 20, 2: 20, 3: 20}
    assert counts == {v: int((cmap == v).sum()) for v in (1, 2, 3)}
    np.testing.assert_array_equal(cmap[rows, cols], values)  # every point lies on its class
    assert len(set(zip(rows.tolist(), cols.tolist()))) == 60  # without replacement
    again = draw(_strips(cmap, 7), 0, design)  # another strip height, the same sample
    np.testing.assert_array_equal(again[0], rows)
    np.testing.assert_array_equal(again[1], cols)
    other = draw(_strips(cmap, 3), 0, SampleDesign(per_class=20, seed=8))
    assert not np.array_equal(other[0], rows)


def test_draw_is_uniform_within_a_class():
    """Each pixel of a class is equally likely: over many seeds, pixel inclusion frequencies are flat."""
    cmap = np.ones((4, 5), np.uint8)
    hits = np.zeros(cmap.shape)
    for seed in range(2000):
        r, c, *_ = draw(_strips(cmap, 3), None, SampleDesign(per_class=5, seed=seed))
        hits[r, c] += 1
    freq = hits / 2000  # expected 5 / 20 = 0.25 each
    assert abs(freq.mean() - 0.25) < 1e-12 and np.abs(freq - 0.25).max() < 0.05


def test_cli_sample_then_evaluate_the_points_area_adjusted(tmp_path, capsys):
    import fiona

    import fixtures_data as fd
    from hypersnn.cli import main

    cmap = np.ones((30, 30), np.uint8)
    cmap[20:, :] = 2
    cmap[:, 25:] = 3
    m = fd.make_geotiff(tmp_path / "map.tif", cmap, nodata=0, wavelengths=None)
    out = tmp_path / "points.gpkg"
    assert main(["sample", "--map", str(m), "--out", str(out), "--per-class", "12", "--seed", "3", "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["n"] == 36 and res["allocation"] == {"1": 12, "2": 12, "3": 12}
    with fiona.open(out) as src:
        feats = list(src)
        assert src.crs.to_epsg() == 32633 and src.schema["geometry"] == "Point"
    x0, y0, p = fd.ORIGIN[0], fd.ORIGIN[1], fd.PIXEL
    for f in feats:
        x, y = f.geometry.coordinates
        r, c = int((y0 - y) // p), int((x - x0) // p)
        assert (r, c) == (f.properties["row"], f.properties["col"]) and cmap[r, c] == f.properties["map_value"]
        assert f.properties["ref_value"] is None
    # The analyst fills ref_value: every class-1 point is really class 1 except two, found to be class 2.
    with fiona.open(out) as src:
        schema, crs = src.schema, src.crs
    filled = tmp_path / "filled.gpkg"
    wrong = [f.properties["sample_id"] for f in feats if f.properties["map_value"] == 1][:2]
    with fiona.open(filled, "w", driver="GPKG", schema=schema, crs=crs) as dst:
        for f in feats:
            props = dict(f.properties)
            props["ref_value"] = 2 if props["sample_id"] in wrong else props["map_value"]
            dst.write({"geometry": f.geometry, "properties": props})
    assert main(["evaluate", "--map", str(m), "--polygons", str(filled), "--class-field", "ref_value",
                 "--area-adjusted", "--json"]) == 0
    acc = json.loads(capsys.readouterr().out)["accuracy"]
    assert acc["n_test"] == 36
    w1 = (cmap == 1).sum() / cmap.size  # map class 1's share: 10 of its 12 points correct
    assert acc["area_adjusted"]["oa"] == pytest.approx(1 - w1 * 2 / 12)
    # an existing file is replaced whole; a wrong extension is refused before any work
    assert main(["sample", "--map", str(m), "--out", str(out), "--per-class", "2", "--quiet"]) == 0
    with fiona.open(out) as src:
        assert len(src) == 6
    with pytest.raises(OutputError, match=r"must end in \.gpkg"):
        from hypersnn.workflows.rasterio_backend import RasterioBackend
        from hypersnn.workflows.sample import SampleJob, run_sample
        run_sample(SampleJob(str(m), str(tmp_path / "p.shp")), RasterioBackend())


def test_cli_trains_from_points_with_a_pixel_buffer(tmp_path, geotiff, capsys):
    """Field points as training data: each point grown to its 3 x 3 pixels ('1px'), six points per class."""
    import fiona

    import fixtures_data as fd
    from tiny import tiny_config

    from hypersnn.cli import main
    from hypersnn.core.models.torch_model import HyperSNNModel

    x0, y0, p = fd.ORIGIN[0], fd.ORIGIN[1], fd.PIXEL
    pts = [((r, c), k + 1) for k in range(3) for r in (3, 7, 11, 15) for c in (8 * k + 2, 8 * k + 5)]
    path = tmp_path / "points.gpkg"
    with fiona.open(path, "w", driver="GPKG", crs="EPSG:32633",
                    schema={"geometry": "Point", "properties": {"cls": "int"}}) as dst:
        for (r, c), v in pts:
            dst.write({"geometry": {"type": "Point", "coordinates": (x0 + (c + 0.5) * p, y0 - (r + 0.5) * p)},
                       "properties": {"cls": v}})
    cfg = tmp_path / "tiny.json"
    cfg.write_text(json.dumps(tiny_config().to_dict()))
    model = tmp_path / "m.hsnn"
    assert main(["train", "--raster", str(geotiff), "--polygons", str(path), "--class-field", "cls",
                 "--point-buffer", "1px", "--out", str(model), "--config", str(cfg), "--quiet"]) == 0
    proto = HyperSNNModel.load(model).meta["split_protocol"]
    assert proto["method"] == "polygons"  # each buffered point is a unit: whole 3 x 3 blocks to one side
    assert proto["totals"]["labelled"] == 24 * 9  # 24 points, 3 x 3 pixels each
    assert proto["excluded_invalid"] == 1  # the nodata pixel (10, 5) lies in one of the blocks
    assert main(["train", "--raster", str(geotiff), "--polygons", str(path), "--class-field", "cls",
                 "--point-buffer", "one", "--out", str(model), "--quiet"]) == 2
    assert "--point-buffer 'one' is not understood" in capsys.readouterr().err
