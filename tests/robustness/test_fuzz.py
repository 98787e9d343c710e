"""Property-based fuzzing of the parsers that see untrusted or hand-typed input: the model-file loader,
the ENVI header parser and opener, band/wavelength expressions and the split functions. Whatever the
input, they either succeed with a sane result or raise one of the project's own errors (HyperSNNError)."""
import hashlib
import io
import json
import math
import os
import string
import sys
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fixtures_data as fd
from hypersnn.core.io import spectral_meta
from hypersnn.workflows import rasterio_reader as io_rasterio
from hypersnn.core.data.bands import parse_index_ranges, parse_wavelength_windows, select_bands
from hypersnn.core.config.schema import BandSelection, SplitConfig
from hypersnn.core.errors import HyperSNNError, ModelFileError
from hypersnn.core.models.torch_model import HyperSNNModel
from hypersnn.core.mapping.predict import WindowClassifier
from hypersnn.core.io.raster import ArrayReader, RasterInfo
from hypersnn.core.data.splits import check_disjoint, make_split

# HYPERSNN_FUZZ_SCALE=20 for a deeper (slower) hunt; the default keeps each test to a few seconds
SCALE = float(os.environ.get("HYPERSNN_FUZZ_SCALE", "1"))
FUZZ = settings(max_examples=int(60 * SCALE), deadline=None, suppress_health_check=list(HealthCheck))

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10 ** 12, 10 ** 12) | st.floats(allow_nan=True)
    | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner, max_size=5),
    max_leaves=12)


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz")


@pytest.fixture(scope="module")
def ref_file(reference):
    """The reference model file's path (a short argument for Hypothesis to print)."""
    return reference[0]


def _load_only_project_errors(path):
    """Load; a model that loads must also check a raster and classify a window without foreign errors."""
    try:
        m = HyperSNNModel.load(path)
    except ModelFileError:
        return None
    try:
        info = RasterInfo(width=6, height=5, count=m.bands.source_count, dtype="float32",
                          wavelengths=list(fd.WAVELENGTHS_NM) if m.bands.source_count == fd.B else None)
        reader = ArrayReader(np.ones((5, 6, info.count), np.float32), info)
        WindowClassifier(m, reader).logits((0, 0, 5, 6))
    except HyperSNNError:
        pass
    return m


def _zip(members) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in members:
            z.writestr(name, data)
    return buf.getvalue()


def _npz(arrays) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


# -- model files -------------------------------------------------------------------------------------

@FUZZ
@given(data=st.binary(max_size=3000), prefix=st.sampled_from([b"", b"PK\x03\x04", b"PK", b"\x80\x04", b"ENVI"]))
def test_model_loader_on_random_bytes(work, data, prefix):
    p = work / "random.hsnn"
    p.write_bytes(prefix + data)
    assert _load_only_project_errors(p) is None


arrays = st.dictionaries(
    st.sampled_from(["w0", "b0", "w1", "b1", "cnn/weights.0", "x"]),
    st.tuples(st.sampled_from(["int8", "int16", "float32", "float64", "uint8", "bool"]),
              st.lists(st.integers(0, 4), max_size=4)).map(lambda t: np.zeros(t[1], t[0])),
    max_size=4)
member_names = st.sampled_from(["hypersnn.json", "tensors.npz", "archive/data.pkl", "other.bin"])


@FUZZ
@given(members=st.lists(st.tuples(member_names, st.one_of(
           st.binary(max_size=200),
           json_values.map(lambda v: json.dumps(v).encode()),
           st.builds(lambda extra: json.dumps(dict({"format": "hypersnn-model", "format_version": 1}, **extra)).encode(),
                     st.dictionaries(st.sampled_from(["architecture", "in_features", "layers", "classes", "bands",
                                                      "tensors_sha256", "format_version"]), json_values, max_size=4)),
           arrays.map(_npz))), max_size=4),
       matching_checksum=st.booleans())
def test_model_loader_on_random_zips(work, members, matching_checksum):
    names = dict(members)
    if matching_checksum and "hypersnn.json" in names and "tensors.npz" in names:
        try:
            meta = json.loads(names["hypersnn.json"])
        except ValueError:
            meta = None
        if isinstance(meta, dict):
            meta["tensors_sha256"] = hashlib.sha256(names["tensors.npz"]).hexdigest()
            names["hypersnn.json"] = json.dumps(meta).encode()
    p = work / "zip.hsnn"
    p.write_bytes(_zip(names.items()))
    _load_only_project_errors(p)


@FUZZ
@given(st.data())
def test_model_loader_on_mutated_valid_files(work, ref_file, data):
    raw = bytearray(ref_file.read_bytes())
    for _ in range(data.draw(st.integers(1, 8))):
        op = data.draw(st.sampled_from(["flip", "cut", "insert", "zero"]))
        i = data.draw(st.integers(0, len(raw) - 1))
        if op == "flip":
            raw[i] ^= 1 << data.draw(st.integers(0, 7))
        elif op == "cut":
            del raw[i:i + data.draw(st.integers(1, 64))]
        elif op == "insert":
            raw[i:i] = data.draw(st.binary(min_size=1, max_size=16))
        else:
            raw[i:i + 8] = bytes(len(raw[i:i + 8]))
        if not raw:
            break
    p = work / "mutated.hsnn"
    p.write_bytes(bytes(raw))
    _load_only_project_errors(p)


def _paths(obj, prefix=()):
    yield prefix
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(obj, list):
        for i, v in enumerate(obj[:3]):
            yield from _paths(v, prefix + (i,))


@FUZZ
@given(st.data())
def test_model_loader_on_valid_files_with_edited_metadata(work, ref_file, data):
    """Edits with a matching checksum: what a hand-edited or maliciously crafted file looks like."""
    with zipfile.ZipFile(ref_file) as z:
        meta, blob = json.loads(z.read("hypersnn.json")), z.read("tensors.npz")
    paths = [p for p in _paths(meta) if p and p[0] not in ("tensors_sha256", "format")]
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(paths))
        node = meta
        try:
            for k in path[:-1]:
                node = node[k]
            if data.draw(st.booleans()) and isinstance(node, dict):
                node.pop(path[-1], None)
            else:
                node[path[-1]] = data.draw(json_values)
        except (KeyError, IndexError, TypeError):
            continue
    p = work / "edited.hsnn"
    p.write_bytes(_zip([("hypersnn.json", json.dumps(meta)), ("tensors.npz", blob)]))
    _load_only_project_errors(p)


# -- ENVI headers ------------------------------------------------------------------------------------

def _header_text():
    """An ENVI header as instruments and ENVI write them: lists spread over lines, with a blank line and a
    comment line inside braces; bad-band list, band names, no-data value and scale factor."""
    um = [w / 1000 for w in fd.WAVELENGTHS_NM]
    return ("ENVI\ndescription = {\n  HyperSNN synthetic scene [Mon Jun 02 10:01:22 1997]}\n"
            f"samples = {fd.W}\nlines   = {fd.H}\nbands   = {fd.B}\nheader offset = 0\nfile type = ENVI Standard\n"
            "data type = 2\ninterleave = bsq\nByte Order = 0\nwavelength units = Micrometers\n"
            "wavelength = {\n " + ", ".join(map(repr, um[:6])) + ",\n\n; SWIR detector\n "
            + ", ".join(map(repr, um[6:])) + "}\n"
            "bbl = {" + ", ".join(["1"] * 10) + ",\n 0, 0}\n"
            "band names = {" + ", ".join(f"band {i + 1}" for i in range(fd.B)) + "}\n"
            f"data ignore value = {fd.NODATA}\nreflectance scale factor = 10000.000000\n")


def _read_both_ways(data, hdr, monkeypatch):
    """(header, RasterInfo) as the command line reads them with `spectral` importable, and hidden as in a
    QGIS Python without it."""
    def read():
        with io_rasterio.open_raster(data) as r:
            return spectral_meta.read_envi_header(str(hdr)), r.info

    seen = read()
    with monkeypatch.context() as m:
        for name in [n for n in sys.modules if n == "spectral" or n.startswith("spectral.")] + ["spectral"]:
            m.setitem(sys.modules, name, None)  # `import spectral` now raises ImportError
        hidden = read()
    return seen, hidden


def test_envi_header_reads_the_same_with_or_without_spectral(tmp_path, monkeypatch):
    data, hdr = fd.make_envi(tmp_path / "scene.img")
    hdr.write_text(_header_text())
    (h1, info1), (h2, info2) = _read_both_ways(data, hdr, monkeypatch)
    assert h1 == h2 and info1 == info2
    assert h1["wavelength"] == [repr(w / 1000) for w in fd.WAVELENGTHS_NM]  # the comment line is no value
    assert h1["bbl"] == ["1"] * 10 + ["0", "0"] and h1["byte order"] == "0"
    assert h1["reflectance scale factor"] == "10000.000000" and h1["data ignore value"] == str(fd.NODATA)
    assert h1["description"] == "HyperSNN synthetic scene [Mon Jun 02 10:01:22 1997]"
    assert info1.wavelengths == pytest.approx(fd.WAVELENGTHS_NM)
    assert info1.bad_bands == [False] * 10 + [True, True] and info1.nodata == fd.NODATA
    assert info1.band_names == [f"band {i + 1}" for i in range(fd.B)]


@FUZZ
@given(text=st.text(max_size=400), envi=st.booleans())
def test_envi_header_parser_on_random_text(work, text, envi):
    p = work / "random.hdr"
    p.write_text(("ENVI\n" if envi else "") + text, encoding="utf-8", errors="surrogatepass")
    try:
        hdr = spectral_meta.read_envi_header(str(p))
    except HyperSNNError:
        return
    assert isinstance(hdr, dict)
    assert all(isinstance(v, (str, list)) for v in hdr.values())


_FIELDS = ["samples", "lines", "bands", "data type", "interleave", "byte order", "header offset", "wavelength",
           "wavelength units", "fwhm", "bbl", "band names", "data ignore value", "map info", "file type"]
field_value = st.one_of(st.integers(-3, 40).map(str), st.sampled_from(["bsq", "bil", "bip", "4", "12", "1", "0"]),
                        st.text(string.printable, max_size=20),
                        st.lists(st.one_of(st.floats(-1e4, 1e4), st.just(math.nan)).map(repr), max_size=14)
                        .map(lambda v: "{" + ", ".join(v) + "}"))


@settings(FUZZ, max_examples=int(40 * SCALE))
@given(fields=st.dictionaries(st.sampled_from(_FIELDS), field_value, max_size=8),
       size=st.integers(0, 2000))
def test_envi_opener_on_random_headers(work, fields, size):
    base = {"samples": "4", "lines": "3", "bands": "2", "data type": "4", "interleave": "bil", "byte order": "0"}
    base.update(fields)
    data = work / "cube.bil"
    data.write_bytes(bytes(size))
    (work / "cube.bil.hdr").write_text("ENVI\n" + "".join(f"{k} = {v}\n" for k, v in base.items()))
    try:
        with _quiet():
            r = io_rasterio.open_raster(data)
    except HyperSNNError:
        return
    try:
        a = r.read()
        assert a.shape == (r.info.height, r.info.width, r.info.count)
    except HyperSNNError:
        pass
    finally:
        r.close()


class _quiet:
    def __enter__(self):
        import warnings
        self.c = warnings.catch_warnings()
        self.c.__enter__()
        warnings.simplefilter("ignore")

    def __exit__(self, *exc):
        self.c.__exit__(*exc)


# -- band and wavelength expressions ----------------------------------------------------------------

expr_chars = st.text(alphabet="0123456789-,;. nmuµμ\u2013eE+" + "abcxyz", max_size=40)


@FUZZ
@given(expr=st.one_of(expr_chars, st.text(max_size=30)), count=st.integers(1, 300))
def test_band_index_expressions(expr, count):
    try:
        idx = parse_index_ranges(expr, count)
    except HyperSNNError:
        return
    assert idx == sorted(set(idx)) and all(0 <= i < count for i in idx)


@FUZZ
@given(expr=st.one_of(expr_chars, st.text(max_size=30)))
def test_wavelength_window_expressions(expr):
    try:
        wins = parse_wavelength_windows(expr)
    except HyperSNNError:
        return
    assert all(0 <= lo <= hi for lo, hi in wins)


@FUZZ
@given(n=st.integers(1, 40), indices=expr_chars, windows=expr_chars, drop=st.booleans(),
       wl=st.one_of(st.none(), st.lists(st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True)),
                                        min_size=40, max_size=40)),
       bad=st.one_of(st.none(), st.lists(st.booleans(), min_size=40, max_size=40)))
def test_band_selection(n, indices, windows, drop, wl, bad):
    info = RasterInfo(width=2, height=2, count=n, dtype="int16", wavelengths=wl[:n] if wl else None,
                      bad_bands=bad[:n] if bad else None)
    try:
        idx = select_bands(info, BandSelection(indices=indices, wavelength_windows=windows, drop_bad_bands=drop))
    except HyperSNNError:
        return
    assert idx and idx == sorted(set(idx)) and all(0 <= i < n for i in idx)


# -- splits ------------------------------------------------------------------------------------------

weird = st.one_of(st.none(), st.text(max_size=4), st.booleans(), st.floats(allow_nan=True, allow_infinity=True),
                  st.integers(-5, 50), st.lists(st.integers(), max_size=2))


@settings(FUZZ, max_examples=int(80 * SCALE))
@given(h=st.integers(0, 9), w=st.integers(0, 9), k=st.integers(1, 4), data_seed=st.integers(0, 2 ** 16),
       label_kind=st.sampled_from(["int", "negative", "float", "1d", "3d", "bool"]),
       method=st.one_of(st.sampled_from(["random", "count", "blocks", "polygons", "given"]), weird),
       frac=st.one_of(st.floats(0.05, 0.95), weird), vf=st.one_of(st.floats(0, 0.5), weird),
       tc=st.one_of(st.integers(1, 10), weird), bs=st.one_of(st.integers(1, 5), weird),
       seed=st.one_of(st.integers(0, 9), weird), patch=st.one_of(st.none(), st.integers(1, 7), weird),
       aux_shape=st.booleans(), given_values=st.sampled_from([3, 4, 2.5]))
def test_splits_on_random_labels_and_settings(h, w, k, data_seed, label_kind, method, frac, vf, tc, bs, seed, patch,
                                              aux_shape, given_values):
    rng = np.random.default_rng(data_seed)
    lab = rng.integers(0, k + 1, (h, w))
    if label_kind == "negative":
        lab = lab - 1
    elif label_kind == "float":
        lab = lab.astype(float)
    elif label_kind == "1d":
        lab = lab.ravel()
    elif label_kind == "3d":
        lab = lab[..., None]
    elif label_kind == "bool":
        lab = lab > 0
    shape = (h, w) if aux_shape else (h + 1, w)
    pid = rng.integers(0, 4, shape)
    given_map = rng.integers(0, 3, shape) if given_values != 2.5 else rng.integers(0, 3, shape) + 0.5
    valid = rng.random(shape) > 0.1
    cfg = SplitConfig(method=method, train_fraction=frac, val_fraction=vf, train_count=tc, block_size=bs, seed=seed)
    try:
        s = make_split(lab, cfg, polygon_ids=pid, given_map=given_map, valid_mask=valid, patch_size=patch)
    except HyperSNNError:
        return
    check_disjoint(s)
    assert s.train.shape == lab.shape and s.train.any() and s.test.any()
    assert not (s.train & (lab <= 0)).any() and not (s.test & ~valid).any()
    json.dumps(s.protocol)
