"""Labels from label rasters and from polygons (with the real rasterio rasterizer)."""
import numpy as np
import pytest

import fixtures_data as fd
from hypersnn.core.errors import LabelError
from hypersnn.workflows.rasterio_vectors import rasterize
from hypersnn.core.data.labels import (
    ClassInfo, PolygonFeature, default_colors, labels_from_array, labels_from_polygons, read_class_table,
    write_class_table,
)
from hypersnn.core.io.raster import RasterInfo

INFO = RasterInfo(width=fd.W, height=fd.H, count=1, dtype="int16", transform=fd.GDAL_TRANSFORM, path="scene.tif")


def _feat(box, value, fid):
    return PolygonFeature(geometry=fd.pixel_box(*box), value=value, fid=fid)


def test_label_array_treats_zero_and_nodata_as_unlabelled():
    a = np.array([[0, 1, 255], [3, 3, 255]], np.uint8)
    lab = labels_from_array(a, names={1: "water", "3": "crop"}, colors={3: "#00ff00"}, nodata=255, source="gt.tif")
    assert lab.array.dtype == np.int32
    assert lab.array.tolist() == [[0, 1, 0], [3, 3, 0]]
    assert [(c.value, c.name) for c in lab.classes] == [(1, "water"), (3, "crop")]
    assert lab.classes[1].color == (0, 255, 0)
    assert lab.class_table() == [{"value": 1, "name": "water", "color": list(lab.classes[0].color)},
                                 {"value": 3, "name": "crop", "color": [0, 255, 0]}]


def test_label_array_refuses_negative_and_fractional_values():
    with pytest.raises(LabelError, match="negative"):
        labels_from_array(np.array([[1, -1]]))
    with pytest.raises(LabelError, match="non-integer"):
        labels_from_array(np.array([[1.0, 2.5]]))
    with pytest.raises(LabelError, match="no labelled pixels"):
        labels_from_array(np.zeros((2, 2), np.uint8))


def test_float_label_array_with_nan_is_accepted():
    lab = labels_from_array(np.array([[np.nan, 2.0], [1.0, 0.0]], np.float32))
    assert lab.array.tolist() == [[0, 2], [1, 0]]


def test_integer_class_values_are_kept_and_polygon_ids_recorded():
    feats = [_feat((2, 1, 6, 5), 4, 10), _feat((3, 9, 7, 14), 9, 11)]
    lab = labels_from_polygons(feats, INFO, rasterize, source="train.gpkg")
    assert [c.value for c in lab.classes] == [4, 9]
    assert (lab.array[2:6, 1:5] == 4).all() and (lab.array[3:7, 9:14] == 9).all()
    assert (lab.polygon_ids[2:6, 1:5] == 1).all() and (lab.polygon_ids[3:7, 9:14] == 2).all()
    assert ((lab.array > 0) == (lab.polygon_ids > 0)).all()


def test_text_class_values_map_to_sorted_codes_with_names():
    feats = [_feat((2, 1, 6, 5), "wheat", 1), _feat((3, 9, 7, 14), "corn", 2), _feat((10, 1, 12, 3), "wheat", 3)]
    lab = labels_from_polygons(feats, INFO, rasterize)
    assert [(c.value, c.name) for c in lab.classes] == [(1, "corn"), (2, "wheat")]
    assert lab.array[3, 10] == 1 and lab.array[2, 1] == 2 and lab.array[10, 1] == 2


def test_class_value_below_one_names_the_feature():
    with pytest.raises(LabelError, match="feature 7 has class value 0"):
        labels_from_polygons([_feat((2, 1, 6, 5), 1, 6), _feat((3, 9, 7, 14), 0, 7)], INFO, rasterize)


def test_mixed_numbers_and_text_are_refused():
    with pytest.raises(LabelError, match="mixes numbers"):
        labels_from_polygons([_feat((2, 1, 6, 5), 1, 1), _feat((3, 9, 7, 14), "corn", 2)], INFO, rasterize)


def test_overlap_of_different_classes_is_dropped_and_same_class_kept():
    feats = [
        _feat((0, 0, 4, 4), 1, 1),
        _feat((2, 2, 6, 6), 2, 2),     # overlaps class 1 on rows 2-3, cols 2-3: 4 pixels dropped
        _feat((0, 10, 4, 14), 3, 3),
        _feat((2, 12, 6, 16), 3, 4),   # same class overlap: kept
    ]
    with pytest.warns(UserWarning, match="4 pixel"):
        lab = labels_from_polygons(feats, INFO, rasterize)
    assert (lab.array[2:4, 2:4] == 0).all() and (lab.polygon_ids[2:4, 2:4] == 0).all()
    assert lab.array[0, 0] == 1 and lab.array[5, 5] == 2
    assert (lab.array[2:4, 12:14] == 3).all()
    assert (lab.array > 0).sum() == 16 - 4 + 16 - 4 + 16 + 16 - 4


def test_null_values_skipped_and_outside_features_reported_by_id():
    far = {"type": "Polygon", "coordinates": [[(0, 0), (10, 0), (10, 10), (0, 0)]]}
    feats = [_feat((2, 1, 6, 5), 1, 1), _feat((3, 9, 7, 14), None, 2), PolygonFeature(far, 2, 99)]
    with pytest.warns(UserWarning) as rec:
        lab = labels_from_polygons(feats, INFO, rasterize)
    text = " | ".join(str(w.message) for w in rec)
    assert "1 feature(s) with an empty class value" in text
    assert "outside the raster" in text and "99" in text
    assert [c.value for c in lab.classes] == [1]


def test_nothing_on_the_raster_is_an_error():
    far = {"type": "Polygon", "coordinates": [[(0, 0), (10, 0), (10, 10), (0, 0)]]}
    with pytest.raises(LabelError, match="no polygon covers a pixel"):
        with pytest.warns(UserWarning):
            labels_from_polygons([PolygonFeature(far, 1, 5)], INFO, rasterize)


def test_default_colors_are_distinct_deterministic_and_prefix_stable():
    a, b = default_colors(40), default_colors(40)
    assert a == b and len(set(a)) == 40
    assert default_colors(5) == a[:5]
    assert all(len(c) == 3 and all(0 <= x <= 255 for x in c) for c in a)
    assert (0, 0, 0) not in a


def test_class_table_round_trips_through_json(tmp_path):
    classes = [ClassInfo(2, "Wheat", (1, 2, 3)), ClassInfo(1, "Maïs", (250, 0, 10))]
    p = tmp_path / "classes.json"
    write_class_table(p, classes)
    assert read_class_table(p) == sorted(classes, key=lambda c: c.value)


def test_bad_class_table_is_refused(tmp_path):
    p = tmp_path / "bad.json"
    p.write_text('{"classes": [{"value": 1}, {"value": 1}]}')
    with pytest.raises(LabelError, match="repeated"):
        read_class_table(p)
    p.write_text("not json")
    with pytest.raises(LabelError, match="not valid JSON"):
        read_class_table(p)


def test_points_and_multipolygons_label_the_pixels_they_cover():
    """A point labels the pixel it falls in (anywhere inside it), a multi-part polygon all its parts' pixels."""
    x0, y0, p = fd.ORIGIN[0], fd.ORIGIN[1], fd.PIXEL
    a, b = fd.pixel_box(2, 1, 4, 3), fd.pixel_box(10, 10, 12, 13)
    multi = {"type": "MultiPolygon", "coordinates": [a["coordinates"], b["coordinates"]]}
    point = {"type": "Point", "coordinates": (x0 + 7.9 * p, y0 - 15.2 * p)}  # row 15, col 7, off centre
    mpoint = {"type": "MultiPoint", "coordinates": [(x0 + 20.5 * p, y0 - 1.5 * p), (x0 + 21.5 * p, y0 - 18.5 * p)]}
    feats = [PolygonFeature(multi, 1, 1), PolygonFeature(point, 2, 2), PolygonFeature(mpoint, 3, 3)]
    lab = labels_from_polygons(feats, INFO, rasterize, source="mixed.gpkg")
    assert (lab.array[2:4, 1:3] == 1).all() and (lab.array[10:12, 10:13] == 1).all() and (lab.array == 1).sum() == 10
    assert np.argwhere(lab.array == 2).tolist() == [[15, 7]]
    assert np.argwhere(lab.array == 3).tolist() == [[1, 20], [18, 21]]
    assert (lab.polygon_ids[lab.array == 1] == 1).all()  # both parts are one polygon for the split


def test_points_buffered_in_pixels_or_map_units():
    from hypersnn.core.data.labels import buffer_points

    x0, y0, p = fd.ORIGIN[0], fd.ORIGIN[1], fd.PIXEL
    pt = PolygonFeature({"type": "Point", "coordinates": (x0 + 7.9 * p, y0 - 10.2 * p)}, 1, 1)  # pixel (10, 7)
    box = _feat((2, 1, 4, 3), 2, 2)
    feats = buffer_points([pt, box], INFO, 1, "pixels")
    assert feats[1] is box  # polygons are left alone
    lab = labels_from_polygons(feats, INFO, rasterize)
    assert np.argwhere(lab.array == 1).tolist() == [[r, c] for r in (9, 10, 11) for c in (6, 7, 8)]
    # 40 m around the point: the centres within 40 m, and always its own pixel
    lab = labels_from_polygons(buffer_points([pt], INFO, 40.0, "map units"), INFO, rasterize)
    rr, cc = np.nonzero(lab.array == 1)
    d = np.hypot((cc + 0.5 - 7.9) * p, (rr + 0.5 - 10.2) * p)
    centres = np.hypot((np.arange(20)[:, None] + 0.5 - 10.2) * p, (np.arange(24)[None, :] + 0.5 - 7.9) * p)
    assert set(zip(rr.tolist(), cc.tolist())) == set(map(tuple, np.argwhere(centres < 40.0).tolist())) | {(10, 7)}
    assert d.max() < 40.0
    tiny = labels_from_polygons(buffer_points([pt], INFO, 1.0, "map units"), INFO, rasterize)
    assert np.argwhere(tiny.array == 1).tolist() == [[10, 7]]
    with pytest.raises(LabelError, match="unit 'feet'"):
        buffer_points([pt], INFO, 1, "feet")
