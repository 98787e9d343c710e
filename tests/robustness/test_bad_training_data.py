"""Bad training data: reprojected, clipped or ignored polygons, empty layers, missing/null/mixed class
fields, tiny and single classes, overlaps (documented rule), and train/test sets that would share pixels."""
import numpy as np
import pytest

import fixtures_data as fd
from hypersnn.workflows import rasterio_backend as io
from hypersnn.core.data import prepare
from hypersnn.core.config.schema import SplitConfig
from hypersnn.core.errors import LabelError, SplitError
from hypersnn.core.data.labels import PolygonFeature, labels_from_array, labels_from_polygons
from hypersnn.core.data.splits import Split, check_disjoint, make_split
from robust_helpers import fast_config, scene_info, scene_reader

INFO = scene_info(crs_wkt="")


def _labels(gpkg, field="klass"):
    from rasterio.crs import CRS
    wkt = CRS.from_string(fd.CRS).to_wkt()
    info = scene_info(crs_wkt=wkt)
    return labels_from_polygons(io.read_polygons(gpkg, field, wkt), info, io.rasterize, source=str(gpkg))


def _feat(box, value, fid):
    return PolygonFeature(geometry=fd.pixel_box(*box), value=value, fid=fid)


def test_polygons_in_another_crs_are_reprojected_onto_their_pixels(tmp_path):
    gpkg = fd.make_polygons_gpkg(tmp_path / "t.gpkg", [((2, 1, 6, 5), 1), ((3, 9, 7, 14), 2)], crs="EPSG:3857")
    lab = _labels(gpkg)
    expect = np.zeros((fd.H, fd.W), np.int32)
    expect[2:6, 1:5], expect[3:7, 9:14] = 1, 2
    np.testing.assert_array_equal(lab.array, expect)


def test_polygon_partly_outside_the_raster_keeps_its_inside_pixels(tmp_path):
    gpkg = fd.make_polygons_gpkg(tmp_path / "t.gpkg", [((-5, -3, 4, 3), 1), ((15, 20, 30, 40), 2)])
    lab = _labels(gpkg)
    assert int((lab.array == 1).sum()) == 4 * 3 and int((lab.array == 2).sum()) == 5 * 4


def test_polygon_wholly_outside_the_raster_is_ignored_with_its_id(tmp_path):
    gpkg = fd.make_polygons_gpkg(tmp_path / "t.gpkg", [((2, 1, 6, 5), 1), ((50, 50, 60, 60), 2), ((3, 9, 7, 14), 2)])
    with pytest.warns(UserWarning, match=r"1 feature\(s\) lie wholly outside the raster .*feature ids: 2\)"):
        lab = _labels(gpkg)
    assert [c.value for c in lab.classes] == [1, 2]


def test_all_polygons_outside_the_raster_is_refused_with_a_crs_hint(tmp_path):
    gpkg = fd.make_polygons_gpkg(tmp_path / "t.gpkg", [((50, 50, 60, 60), 1), ((70, 70, 80, 80), 2)])
    with pytest.warns(UserWarning), pytest.raises(LabelError, match=r"no polygon covers a pixel .*right CRS"):
        _labels(gpkg)


def test_empty_layer_is_refused_naming_the_file(tmp_path):
    gpkg = fd.make_polygons_gpkg(tmp_path / "empty.gpkg", [])
    with pytest.raises(LabelError, match=r"Training vector .*empty\.gpkg has no features"):
        _labels(gpkg)


def test_missing_class_field_lists_the_available_fields(tmp_path):
    gpkg = fd.make_polygons_gpkg(tmp_path / "t.gpkg", [((2, 1, 6, 5), 1)], extra_fields={"name": "str"})
    with pytest.raises(LabelError, match=r"Class field 'landuse' not found in .*t\.gpkg; available fields: klass, name"):
        _labels(gpkg, "landuse")


def test_null_class_values_are_skipped_with_a_warning(tmp_path):
    gpkg = fd.make_polygons_gpkg(tmp_path / "t.gpkg", [((2, 1, 6, 5), 1), ((3, 9, 7, 14), None), ((12, 17, 18, 22), 2)])
    with pytest.warns(UserWarning, match=r"1 feature\(s\) with an empty class value were skipped"):
        lab = _labels(gpkg)
    assert int((lab.array > 0).sum()) == 16 + 30


def test_class_field_null_everywhere_is_refused(tmp_path):
    gpkg = fd.make_polygons_gpkg(tmp_path / "t.gpkg", [((2, 1, 6, 5), None), ((3, 9, 7, 14), None)])
    with pytest.raises(LabelError, match=r"Class field 'klass' of .*t\.gpkg is empty \(null\) in every feature"):
        _labels(gpkg)


def test_class_field_mixing_numbers_and_text_is_refused(tmp_path):
    gpkg = fd.make_polygons_gpkg(tmp_path / "t.gpkg", [((2, 1, 6, 5), "3"), ((3, 9, 7, 14), "forest")],
                                 field="cls", field_type="str")
    with pytest.raises(LabelError, match=r"mixes numbers \(3\) and text \('forest'\)"):
        _labels(gpkg, "cls")


def test_fractional_class_value_names_the_feature():
    with pytest.raises(LabelError, match=r"Feature 7: class value 2.5 is not a whole number"):
        labels_from_polygons([_feat((2, 1, 6, 5), 1, 1), _feat((3, 9, 7, 14), 2.5, 7)], INFO, io.rasterize)


def test_labels_on_another_grid_are_refused():
    with pytest.raises(LabelError, match=r"labels gt have shape \(5, 5\) but raster scene\.tif is 20 x 24"):
        prepare.prepare(scene_reader(), labels_from_array(np.ones((5, 5), np.uint8), source="gt"), fast_config())


def _gt_with_single_pixel_class():
    gt = fd.synthetic_scene()[1].copy()
    gt[15, 12] = 4  # class 4: one pixel
    return gt


def test_a_class_with_one_pixel_is_named_as_too_small_for_a_random_split():
    with pytest.raises(SplitError, match=r"Class 4 has 1 labelled pixel; a random split needs at least 2 per class"):
        prepare.prepare(scene_reader(), labels_from_array(_gt_with_single_pixel_class()), fast_config())


def test_a_class_with_one_pixel_gets_a_valid_block_split_that_says_it_cannot_be_tested():
    cfg = fast_config()
    cfg.split.method, cfg.split.block_size = "blocks", 4
    prep = prepare.prepare(scene_reader(), labels_from_array(_gt_with_single_pixel_class()), cfg)
    check_disjoint(prep.split)
    assert prep.split.train[15, 12] and "Class 4 has no test pixels" in " ".join(prep.split.protocol["warnings"])


def test_one_class_only_is_refused():
    gt = (fd.synthetic_scene()[1] == 1).astype(np.uint8)
    with pytest.raises(SplitError, match=r"at least 2 classes; the labels have only class 1"):
        prepare.prepare(scene_reader(), labels_from_array(gt), fast_config())


def test_overlapping_polygons_of_different_classes_leave_the_overlap_unlabelled():
    """Documented rule (labels_from_polygons): a pixel covered by polygons of different classes is
    ambiguous and left unlabelled; overlapping polygons of the same class keep it."""
    feats = [_feat((2, 2, 8, 8), 1, 1), _feat((5, 5, 11, 11), 2, 2), _feat((6, 6, 10, 10), 2, 3)]
    with pytest.warns(UserWarning, match=r"9 pixel\(s\) covered by polygons of different classes were left unlabelled"):
        lab = labels_from_polygons(feats, INFO, io.rasterize)
    assert (lab.array[5:8, 5:8] == 0).all()
    assert (lab.array[8:10, 8:10] == 2).all() and (lab.array[2:5, 2:5] == 1).all()


def test_train_and_test_sets_sharing_pixels_are_refused():
    train = np.zeros((4, 4), bool)
    train[1, 2] = train[0, 0] = True
    test = np.zeros((4, 4), bool)
    test[1, 2] = test[3, 3] = True
    with pytest.raises(SplitError, match=r"'train' and 'test' share 1 pixel\(s\), e.g. row 1, col 2"):
        check_disjoint(Split(train, np.zeros((4, 4), bool), test))


def test_a_split_whose_sets_share_pixels_never_reaches_training(monkeypatch):
    real = prepare.make_split

    def leaky(*a, **k):
        s = real(*a, **k)
        s.test = s.test | s.train  # as a faulty custom split would
        return s
    monkeypatch.setattr(prepare, "make_split", leaky)
    with pytest.raises(SplitError, match=r"'train' and 'test' share \d+ pixel"):
        prepare.prepare(scene_reader(), labels_from_array(fd.synthetic_scene()[1]), fast_config())


@pytest.mark.parametrize("method", ["random", "count", "blocks", "given"])
def test_every_split_method_keeps_train_val_and_test_apart(method):
    gt = fd.synthetic_scene()[1]
    given = np.where(np.arange(fd.H)[:, None] < 10, 1, 2) * (gt > 0)
    s = make_split(gt, SplitConfig(method=method, train_count=10, block_size=4, val_fraction=0.2),
                   given_map=given, patch_size=5)
    check_disjoint(s)
    assert not (s.train & s.test).any() and not (s.val & s.test).any() and not (s.train & s.val).any()
