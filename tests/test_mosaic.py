"""`hypersnn batch --mosaic` (workflows/mosaic.py, core/io/grids.mosaic_grid): overlapping scenes cut from one
raster are mosaicked onto the union grid; each mosaic pixel is the pixel of the most confident scene (ties: the
first), in every map kind; colour table, class names and nodata are kept; scenes on another pixel grid are
refused with both named; a rerun keeps an unchanged mosaic and rebuilds it when a scene changed; a failed scene
leaves the mosaic unbuilt; a mosaic interrupted while it is written leaves the old one."""
import json

import numpy as np
import pytest
import rasterio

import fixtures_data as fd
from hypersnn.cli import main
from hypersnn.core.config.schema import ClassifyConfig
from hypersnn.core.errors import InputError
from hypersnn.core.io.grids import mosaic_grid
from hypersnn.workflows.rasterio_reader import read_class_metadata
from hypersnn.core.io.raster import RasterInfo
from hypersnn.workflows.batch import BatchJob, run_batch
from hypersnn.workflows.rasterio_backend import RasterioBackend

pytestmark = pytest.mark.timeout(300)
X0, Y0 = fd.GDAL_TRANSFORM[0], fd.GDAL_TRANSFORM[3]
PX = fd.PIXEL
# (row, col, rows, cols) of each scene in the 40 x 48 cube: four overlapping pieces and one apart
PIECES = {"nw": (0, 0, 24, 28), "ne": (0, 20, 24, 28), "sw": (16, 0, 24, 28), "se": (16, 20, 24, 28)}


@pytest.fixture
def cube():
    return np.tile(fd.synthetic_scene()[0], (2, 2, 1))


def _cut(folder, cube, pieces=PIECES):
    folder.mkdir(exist_ok=True)
    out = []
    for name, (r, c, h, w) in pieces.items():
        t = (X0 + c * PX, PX, 0.0, Y0 - r * PX, 0.0, -PX)
        out.append(fd.make_geotiff(folder / f"{name}.tif", cube[r:r + h, c:c + w], transform=t))
    return out


def _read(path):
    with rasterio.open(path) as ds:
        return ds.read(), ds.transform.to_gdal(), ds.nodata, ds.colormap(1) if ds.count == 1 and \
            ds.dtypes[0] in ("uint8", "uint16") else None


def test_mosaic_takes_the_most_confident_scene_in_every_map(model_file, cube, tmp_path):
    scenes = _cut(tmp_path / "scenes", cube)
    out = tmp_path / "maps"
    rc = main(["batch", "--model", str(model_file), "--out-dir", str(out), "--window", "8", "--probabilities",
               "--mosaic", str(out / "mosaic.tif"), "--quiet", *map(str, scenes)])
    assert rc == 0
    m = json.loads((out / "manifest.json").read_text())["mosaic"]
    assert m["status"] == "built" and (m["width"], m["height"], m["scenes"]) == (48, 40, 4)
    cls, t, nodata, cmap = _read(out / "mosaic.tif")
    conf = _read(out / "mosaic_confidence.tif")[0][0]
    prob = _read(out / "mosaic_probabilities.tif")[0]
    assert t == fd.GDAL_TRANSFORM and nodata == 0 and cls.shape == (1, 40, 48) and prob.shape[1:] == (40, 48)
    # expected, from the scene maps: per pixel the highest confidence, ties to the scene listed first
    best = np.full((40, 48), -np.inf)
    held = np.zeros((40, 48), int)
    want_c, want_p = np.zeros((40, 48), np.uint8), np.full(prob.shape, -1.0, np.float32)
    for s in scenes:
        r, c, h, w = PIECES[s.stem]
        sc = _read(out / f"{s.stem}_classes.tif")[0][0]
        sf = _read(out / f"{s.stem}_confidence.tif")[0][0]
        sp = _read(out / f"{s.stem}_probabilities.tif")[0]
        held[r:r + h, c:c + w] += sc != 0
        win = (sc != 0) & (sf > best[r:r + h, c:c + w])
        best[r:r + h, c:c + w][win] = sf[win]
        want_c[r:r + h, c:c + w][win] = sc[win]
        want_p[:, r:r + h, c:c + w][:, win] = sp[:, win]
    assert (cls[0] == want_c).all() and (prob == want_p).all()
    assert (conf[want_c > 0] == best[want_c > 0]).all() and (conf[want_c == 0] == -1).all()
    assert (want_c == 0).sum() == 4 * len(fd.NODATA_PIXELS)  # the cube's nodata pixels stay nodata
    assert m["overlap_pixels"] == (held > 1).sum() == 640 - 6  # 8-pixel bands where pieces meet, less nodata
    assert read_class_metadata(out / "mosaic.tif") == read_class_metadata(out / "nw_classes.tif")
    assert cmap == _read(out / "nw_classes.tif")[3]


def test_rerun_keeps_or_rebuilds_the_mosaic_and_a_failed_scene_stops_it(model_file, cube, tmp_path):
    scenes = _cut(tmp_path / "scenes", cube)
    out = tmp_path / "maps"
    job = BatchJob([str(p) for p in scenes], str(model_file), str(out), cfg=ClassifyConfig(window=8),
                   mosaic=str(out / "all.tif"))
    first = run_batch(job, RasterioBackend())
    assert first.mosaic["status"] == "built" and (out / "all_confidence.tif").exists()  # confidence forced on
    stamp = (out / "all.tif").stat().st_mtime_ns
    again = run_batch(job, RasterioBackend())
    assert again.skipped == 4 and again.mosaic["status"] == "unchanged" and (out / "all.tif").stat().st_mtime_ns == stamp
    fd.make_geotiff(scenes[0], cube[:24, :28][::-1].copy(), transform=(X0, PX, 0.0, Y0, 0.0, -PX))
    third = run_batch(job, RasterioBackend())
    assert third.done == 1 and third.mosaic["status"] == "built"
    with rasterio.open(out / "all.tif") as a, rasterio.open(out / "nw_classes.tif") as nw:
        assert not (a.read(1)[:16, :20] == 0).all() and (a.read(1)[:16, :20] == nw.read(1)[:16, :20]).all()
    before = (out / "all.tif").read_bytes()
    bad = fd.make_geotiff(tmp_path / "scenes" / "zz_bad.tif", cube[:10, :10, :5], wavelengths=None)
    job.inputs.append(str(bad))
    res = run_batch(job, RasterioBackend())
    assert res.failed == 1 and res.mosaic["status"] == "not built" and "1 scene(s) failed" in res.mosaic["reason"]
    assert (out / "all.tif").read_bytes() == before  # the old mosaic is kept


def test_scenes_on_other_grids_are_refused_with_both_named(model_file, cube, tmp_path):
    base = RasterInfo(width=10, height=10, count=1, dtype="uint8", transform=(X0, PX, 0, Y0, 0, -PX), crs_wkt="A")
    shifted = RasterInfo(width=10, height=10, count=1, dtype="uint8", transform=(X0 + PX / 3, PX, 0, Y0, 0, -PX),
                         crs_wkt="A")
    with pytest.raises(InputError, match=r"b\.tif .* and a\.tif .*not aligned"):
        mosaic_grid([("a.tif", base), ("b.tif", shifted)])
    coarse = RasterInfo(width=10, height=10, count=1, dtype="uint8", transform=(X0, 2 * PX, 0, Y0, 0, -2 * PX),
                        crs_wkt="A")
    with pytest.raises(InputError, match="different pixel sizes"):
        mosaic_grid([("a.tif", base), ("c.tif", coarse)])
    other = RasterInfo(width=10, height=10, count=1, dtype="uint8", transform=base.transform, crs_wkt="B")
    with pytest.raises(InputError, match="different coordinate reference systems"):
        mosaic_grid([("a.tif", base), ("d.tif", other)])
    # through the batch: the scenes are classified, the mosaic is refused and says which scene
    scenes = _cut(tmp_path / "scenes", cube, {"nw": PIECES["nw"]})
    odd = fd.make_geotiff(tmp_path / "scenes" / "odd.tif", cube[:8, :8],
                          transform=(X0 + PX / 2, PX, 0.0, Y0, 0.0, -PX))
    out = tmp_path / "maps"
    rc = main(["batch", "--model", str(model_file), "--out-dir", str(out), "--window", "8", "--quiet",
               "--mosaic", str(out / "m.tif"), str(scenes[0]), str(odd)])
    assert rc != 0 and not (out / "m.tif").exists() and (out / "odd_classes.tif").exists()
    assert not list(out.glob(".*tmp*"))


def test_a_mosaic_path_that_is_a_scene_map_is_refused(model_file, cube, tmp_path):
    scenes = _cut(tmp_path / "scenes", cube, {"nw": PIECES["nw"]})
    out = tmp_path / "maps"
    with pytest.raises(InputError, match="would overwrite a scene"):
        run_batch(BatchJob([str(scenes[0])], str(model_file), str(out), mosaic=str(out / "nw_classes.tif")),
                  RasterioBackend())
    with pytest.raises(InputError, match=r"\.tif extension"):
        run_batch(BatchJob([str(scenes[0])], str(model_file), str(out), mosaic=str(out / "m.png")),
                  RasterioBackend())


def test_ties_go_to_the_scene_listed_first(tmp_path):
    """Two scenes on one grid with equal confidence and different classes: the first listed wins; where only the
    second holds a class, it is taken; a pixel no scene holds stays nodata."""
    from hypersnn.workflows.rasterio_writer import RasterioWriter
    from hypersnn.core.io.raster import OutputSpec
    from hypersnn.workflows.mosaic import write_mosaic

    grid = RasterInfo(width=4, height=3, count=1, dtype="uint8", transform=fd.GDAL_TRANSFORM, crs_wkt="")
    maps = []
    for name, cls, conf in (("a", 1, 0.7), ("b", 2, 0.7)):
        c = np.full((3, 4), cls, np.uint8)
        f = np.full((3, 4), conf, np.float32)
        if name == "a":
            c[0, 0], f[0, 0] = 0, -1  # a has no class here: b's pixel
        c[2, 3], f[2, 3] = 0, -1  # nobody has this one
        if name == "b":
            f[1, 1] = 0.9  # b more confident here
        paths = {}
        for kind, arr, dtype, nodata in (("class_map", c, "uint8", 0), ("confidence", f, "float32", -1.0)):
            spec = OutputSpec(str(tmp_path / f"{name}_{kind}.tif"), grid, 1, dtype, nodata=nodata,
                              colors={1: (255, 0, 0), 2: (0, 255, 0)} if kind == "class_map" else None,
                              category_names={1: "one", 2: "two"} if kind == "class_map" else None)
            w = RasterioWriter(spec)
            w.write((0, 0, 3, 4), arr)
            w.close()
            paths[kind] = spec.path
        maps.append(paths)
    out = {"class_map": str(tmp_path / "m.tif"), "confidence": str(tmp_path / "m_confidence.tif")}
    res = write_mosaic(maps, out, RasterioBackend(), RasterioBackend().open_writer)
    got = _read(out["class_map"])[0][0]
    assert got.tolist() == [[2, 1, 1, 1], [1, 2, 1, 1], [1, 1, 1, 0]]
    assert _read(out["confidence"])[0][0][1, 1] == np.float32(0.9)
    assert (res.valid_pixels, res.overlap_pixels) == (11, 10)
