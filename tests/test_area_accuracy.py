"""Area-adjusted accuracy against the worked example of Olofsson et al. (2014), section 5 / table 8."""
import math

import numpy as np
import pytest

from hypersnn.core.assess.area_accuracy import area_adjusted
from hypersnn.core.errors import InputError

# Sample counts, rows map class, columns reference (the paper's layout): deforestation, forest gain,
# stable forest, stable non-forest. Mapped pixels of 30 m Landsat (0.09 ha).
MAP_BY_REF = np.array([[66, 0, 5, 4], [0, 55, 8, 12], [1, 0, 153, 11], [2, 1, 9, 313]])
MAPPED = [200000, 150000, 3200000, 6450000]


def _example():
    # HyperSNN's confusion matrices are reference x map: hand in the transpose.
    return area_adjusted(MAP_BY_REF.T, MAPPED, pixel_area=0.09, area_unit="ha")


def test_published_class_areas_and_intervals():
    a = _example()
    # Olofsson et al. 2014, p. 54: 21,158 +- 6,158; 11,686 +- 3,756; 285,770 +- 15,510; 581,386 +- 16,282 ha.
    np.testing.assert_allclose(a.area, [21158, 11686, 285770, 581386], rtol=0, atol=1.0)
    np.testing.assert_allclose(a.area_ci95, [6158, 3756, 15510, 16282], rtol=0, atol=2.0)
    assert a.total_area == pytest.approx(sum(MAPPED) * 0.09)
    assert a.area.sum() == pytest.approx(a.total_area)  # the reference areas re-partition the map


def test_published_accuracies():
    a = _example()
    np.testing.assert_allclose(a.users, [0.88, 0.73, 0.93, 0.96], atol=0.005)
    np.testing.assert_allclose(1.96 * a.users_se, [0.07, 0.10, 0.04, 0.02], atol=0.005)
    np.testing.assert_allclose(a.producers, [0.75, 0.85, 0.93, 0.96], atol=0.005)
    assert 1.96 * a.producers_se[0] == pytest.approx(0.21, abs=0.005)
    np.testing.assert_allclose(1.96 * a.producers_se[2:], [0.03, 0.02], atol=0.005)
    assert a.oa == pytest.approx(0.95, abs=0.005) and 1.96 * a.oa_se == pytest.approx(0.02, abs=0.005)


def test_a_perfect_sample_returns_the_mapped_areas_with_no_uncertainty():
    a = area_adjusted(np.diag([10, 20, 30]), [100, 200, 300], pixel_area=900.0, area_unit="m2")
    np.testing.assert_allclose(a.area, [90000, 180000, 270000])
    np.testing.assert_allclose(a.area_ci95, 0)
    assert a.oa == 1.0 and np.allclose(a.producers, 1) and np.allclose(a.users, 1)


def test_proportional_sample_agrees_with_the_plain_confusion_matrix():
    """When each stratum is sampled in proportion to its mapped area, the weights cancel: the area-adjusted
    OA and producer's accuracy equal the unweighted ones."""
    ref_by_map = np.array([[40, 5], [10, 45]])  # columns sum to 50 and 50
    a = area_adjusted(ref_by_map, [1000, 1000])
    assert a.oa == pytest.approx(85 / 100)
    np.testing.assert_allclose(a.producers, [40 / 45, 45 / 55])


def test_a_mapped_class_without_sample_is_refused_by_name():
    with pytest.raises(InputError, match=r"Map class value\(s\) \[7\]"):
        area_adjusted(np.array([[5, 0], [1, 0]]), [100, 50], class_values=[3, 7])


def test_one_sample_in_a_stratum_gives_nan_intervals_and_a_note():
    a = area_adjusted(np.array([[5, 0], [1, 1]]), [100, 50])
    assert math.isnan(a.oa_se) and any("one reference sample" in n for n in a.notes)
    d = a.to_dict(["a", "b"])
    assert d["oa_ci95"] is None and d["per_class"][1]["name"] == "b"


def test_pixel_area_in_hectares_from_projected_wkt_and_pixels_otherwise():
    from hypersnn.core.assess.area_accuracy import pixel_area_ha

    utm = ('PROJCS["WGS 84 / UTM zone 32N",GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,'
           '298.257223563]],PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],'
           'UNIT["metre",1],AXIS["Easting",EAST],AXIS["Northing",NORTH],AUTHORITY["EPSG","32632"]]')
    assert pixel_area_ha((0, 30, 0, 0, 0, -30), utm) == (0.09, "ha")
    feet = utm.replace('UNIT["metre",1]', 'UNIT["US survey foot",0.304800609601219]')
    assert pixel_area_ha((0, 100, 0, 0, 0, -100), feet)[0] == pytest.approx(0.0929, abs=1e-4)
    geo = 'GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563]],UNIT["degree",0.0174532925199433]]'
    assert pixel_area_ha((0, 0.001, 0, 0, 0, -0.001), geo) == (1.0, "pixels")
    assert pixel_area_ha((0, 1, 0, 0, 0, -1), "") == (1.0, "pixels")


def test_evaluate_area_adjusted_on_a_utm_map(tmp_path, capsys):
    """Hand-computed: class 1 maps 300 pixels, class 2 100 (30 m pixels: 27 and 9 ha). A stratified sample of 10
    per map class finds 2 of class 1's samples to be class 2: reference areas 0.6 x 36 = 21.6 ha and 14.4 ha,
    area-adjusted OA 0.75 x 0.8 + 0.25 x 1 = 0.85 (the unweighted OA of the same sample is 0.9)."""
    import json

    import fixtures_data as fd
    from hypersnn.cli import main

    cmap = np.ones((20, 20), np.uint8)
    cmap[15:, :] = 2
    ref = np.zeros_like(cmap)
    ref[0, :10] = [1] * 8 + [2] * 2
    ref[19, :10] = 2
    m = fd.make_geotiff(tmp_path / "map.tif", cmap, nodata=0, wavelengths=None)
    r = fd.make_geotiff(tmp_path / "sample.tif", ref, nodata=0, wavelengths=None)
    assert main(["evaluate", "--map", str(m), "--labels", str(r), "--area-adjusted", "--json",
                 "--report-dir", str(tmp_path / "rep")]) == 0
    out = json.loads(capsys.readouterr().out)
    area = out["accuracy"]["area_adjusted"]
    assert out["accuracy"]["oa"] == pytest.approx(0.9) and area["oa"] == pytest.approx(0.85)
    assert area["area_unit"] == "ha" and area["total_area"] == pytest.approx(36.0)
    assert [p["area"] for p in area["per_class"]] == pytest.approx([21.6, 14.4])
    assert [p["mapped_area"] for p in area["per_class"]] == pytest.approx([27.0, 9.0])
    csv_text = open(out["files"]["area_csv"]).read()
    assert csv_text.splitlines()[0].startswith("value,name,mapped_area,area,area_ci95")
    assert "Area-adjusted accuracy and class areas" in open(out["files"]["html"]).read()
    # A mapped class with no sample: the assessment still runs and says why the estimates are missing.
    ref[19, :10] = 0
    r = fd.make_geotiff(tmp_path / "sample1.tif", ref, nodata=0, wavelengths=None)
    assert main(["evaluate", "--map", str(m), "--labels", str(r), "--area-adjusted", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert "error" in out["accuracy"]["area_adjusted"]
    assert any("Area-adjusted estimates not computed" in w and "[2]" in w for w in out["warnings"])
