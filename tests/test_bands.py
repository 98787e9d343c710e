"""Band expressions and band selection."""
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hypersnn.core.data.bands import describe_selection, parse_index_ranges, parse_wavelength_windows, select_bands
from hypersnn.core.config.schema import BandSelection
from hypersnn.core.errors import InputError
from hypersnn.core.io.raster import RasterInfo


def _info(n=10, wavelengths=True, bad=None):
    wl = [400.0 + 100 * i for i in range(n)] if wavelengths else None
    return RasterInfo(width=4, height=3, count=n, dtype="int16", wavelengths=wl, bad_bands=bad, path="cube.tif")


def test_index_ranges_are_one_based_sorted_and_unique():
    assert parse_index_ranges("1-3, 8,2 ; 10", 10) == [0, 1, 2, 7, 9]
    assert parse_index_ranges("5\u20136", 10) == [4, 5]  # en dash pasted from a document
    assert parse_index_ranges("", 4) == [0, 1, 2, 3]


@pytest.mark.parametrize("expr, match", [
    ("0-3", r"'0-3'.*1\.\.10"),
    ("5-11", r"'5-11'.*1\.\.10"),
    ("7-3", r"'7-3' is reversed"),
    ("1-3, abc", r"'abc'.*1\.\.10"),
    ("2.5", r"'2.5'"),
])
def test_bad_index_tokens_are_named_with_the_valid_range(expr, match):
    with pytest.raises(InputError, match=match):
        parse_index_ranges(expr, 10)


def test_wavelength_windows_accept_nm_um_and_default_to_nm():
    assert parse_wavelength_windows("400-1340nm, 1.45-1.8um,2000-2100") == [
        (400.0, 1340.0), (1450.0, 1800.0), (2000.0, 2100.0)]
    assert parse_wavelength_windows("0.4 µm - 500 nm") == [(400.0, 500.0)]
    assert parse_wavelength_windows("") == []


@pytest.mark.parametrize("expr, match", [
    ("1340-400nm", "reversed"),
    ("400nm", "not understood"),
    ("blue-red", "not understood"),
    ("400-500 furlongs", "unknown unit"),
])
def test_bad_wavelength_windows_are_refused(expr, match):
    with pytest.raises(InputError, match=match):
        parse_wavelength_windows(expr)


def test_selection_is_the_intersection_of_all_criteria():
    info = _info(bad=[False] * 9 + [True])
    sel = BandSelection(indices="2-10", wavelength_windows="500-1000nm", drop_bad_bands=True)
    assert select_bands(info, sel) == [1, 2, 3, 4, 5, 6]
    assert select_bands(info, BandSelection()) == list(range(9))
    assert select_bands(info, BandSelection(drop_bad_bands=False)) == list(range(10))


def test_wavelength_windows_on_raster_without_wavelengths_say_so():
    with pytest.raises(InputError, match="no wavelength metadata"):
        select_bands(_info(wavelengths=False), BandSelection(wavelength_windows="400-900nm"))


def test_empty_selection_explains_each_criterion():
    with pytest.raises(InputError, match=r"No bands left.*'1-3'.*3 band.*2000-2500nm.*covers 400.0-1300.0 nm"):
        select_bands(_info(), BandSelection(indices="1-3", wavelength_windows="2000-2500nm"))


def test_describe_selection_lists_ranges_and_wavelength_span():
    info = _info()
    assert describe_selection(info, [0, 1, 2, 5, 7, 8]) == "6 of 10 bands: 1-3, 6, 8-9 (400.0-1200.0 nm)"
    assert describe_selection(_info(wavelengths=False), [3]) == "1 of 10 bands: 4"


@given(st.sets(st.integers(0, 199), min_size=1))
def test_describe_then_parse_round_trips(idx):
    info = _info(200, wavelengths=False)
    text = describe_selection(info, sorted(idx)).split(": ", 1)[1]
    if "..." not in text:
        assert parse_index_ranges(text, 200) == sorted(idx)


def test_water_absorption_bands_are_one_rule_for_the_cli_and_the_band_selector():
    wl = [400.0, 1000.0, 1340.0, 1400.0, 1451.0, 1800.0, 1960.0, 2200.0, 2500.0]
    info = RasterInfo(width=2, height=2, count=len(wl), dtype="float32", wavelengths=wl)
    from hypersnn.core.data.bands import water_absorption_bands
    assert water_absorption_bands(info) == [2, 3, 5, 6, 8]
    assert select_bands(info, BandSelection(drop_water_bands=True)) == [0, 1, 4, 7]
    assert select_bands(info, BandSelection()) == list(range(len(wl)))  # off by default
    with pytest.raises(InputError, match="no wavelength metadata"):
        select_bands(RasterInfo(width=2, height=2, count=3, dtype="float32"), BandSelection(drop_water_bands=True))
