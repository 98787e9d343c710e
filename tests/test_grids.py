"""Label and reference rasters are placed by their georeferencing, not by their pixel count."""
import json

import numpy as np
import pytest

import fixtures_data as fd
from hypersnn.cli import main
from hypersnn.core.errors import LabelError
from hypersnn.core.io.grids import align_to
from hypersnn.core.io.raster import RasterInfo

X0, Y0 = fd.ORIGIN
P = fd.PIXEL


def _info(h, w, t, crs="EPSG:32633-wkt"):
    return RasterInfo(width=w, height=h, count=1, dtype="uint8", transform=t, crs_wkt=crs)


def test_a_shifted_a_finer_and_a_foreign_grid():
    gt = fd.synthetic_scene()[1]
    h, w = gt.shape
    image = _info(h, w, fd.GDAL_TRANSFORM)
    # 10 pixels further east: the same places hold the same labels
    shifted = np.zeros_like(gt)
    shifted[:, :w - 10] = gt[:, 10:]
    with pytest.warns(UserWarning, match="resampled to the image grid .* 200 image pixels lie outside"):
        out = align_to(shifted, _info(h, w, (X0 + 10 * P, P, 0, Y0, 0, -P)), image, "label raster s.tif")
    np.testing.assert_array_equal(out[:, 10:], gt[:, 10:])
    assert (out[:, :10] == 0).all()
    # 10 m pixels instead of 30 m: nearest resampling at the image's pixel centres
    fine = np.repeat(np.repeat(gt, 3, axis=0), 3, axis=1)
    with pytest.warns(UserWarning, match="by nearest pixel"):
        out = align_to(fine, _info(3 * h, 3 * w, (X0, P / 3, 0, Y0, 0, -P / 3)), image, "label raster f.tif")
    np.testing.assert_array_equal(out, gt)
    with pytest.raises(LabelError, match=r"label raster o\.tif \(20 x 24 pixels .*EPSG:32632.*\) and the image "
                                         r"\(.*\) are in different coordinate reference systems"):
        align_to(gt, _info(h, w, fd.GDAL_TRANSFORM, "EPSG:32632-wkt"), image, "label raster o.tif")
    with pytest.raises(LabelError, match="do not overlap"):
        align_to(gt, _info(h, w, (X0 + 100 * P, P, 0, Y0, 0, -P)), image, "label raster far.tif")
    # no georeferencing at all: pixel for pixel, as before
    plain = (0.0, 1.0, 0.0, 0.0, 0.0, -1.0)
    assert align_to(gt, _info(h, w, plain, ""), _info(h, w, plain, ""), "x") is gt


def test_evaluate_scores_a_shifted_reference_where_it_lies(tmp_path, capsys):
    """The defect: a reference shifted by 10 pixels was compared pixel by pixel (OA about 25 %)."""
    gt = fd.synthetic_scene()[1]
    cmap = fd.make_geotiff(tmp_path / "map.tif", gt, nodata=0, wavelengths=None)
    shifted = np.zeros_like(gt)
    shifted[:, :-10] = gt[:, 10:]
    ref = fd.make_geotiff(tmp_path / "ref.tif", shifted, nodata=0, wavelengths=None,
                          transform=(X0 + 10 * P, P, 0.0, Y0, 0.0, -P))
    assert main(["evaluate", "--map", str(cmap), "--labels", str(ref), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["accuracy"]["oa"] == 1.0 and out["accuracy"]["n_test"] == int((gt[:, 10:] > 0).sum())
    assert any("resampled to the image grid" in w for w in out["warnings"])
    other = fd.make_geotiff(tmp_path / "other.tif", gt, nodata=0, wavelengths=None, crs="EPSG:32632")
    assert main(["train", "--raster", str(fd.make_geotiff(tmp_path / "scene.tif")), "--labels", str(other),
                 "--out", str(tmp_path / "m.hsnn"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "different coordinate reference systems" in err and "zone 32N" in err and "zone 33N" in err and not (tmp_path / "m.hsnn").exists()
