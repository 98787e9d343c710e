"""Streaming training data: the patch bank gives the whole-cube patches bit for bit, borders included,
and training through it is identical whatever the window; assessment needs no whole cube either."""
import numpy as np
import pytest
import torch

from hypersnn.core.mapping import evaluation

from hypersnn.core.training import pipeline

from hypersnn.core.data import prepare
from hypersnn.core.nn.models import HSINet
from hypersnn.core.data.patches import PatchBank
from hypersnn.core.data.valid_pixels import valid_mask
from oracles import PatchSource, pad_cube, predict_padded
from hypersnn.core.data.preprocess import Preprocessor
from hypersnn.core.data.splits import make_split
from robust_helpers import LimitedReader, fast_config, scene_labels, scene_reader


def _bank_from_cube(x, patch, tile, needed=None):
    h, w, f = x.shape
    bank = PatchBank(h, w, f, patch, tile, needed)
    for r in range(0, h, tile):
        for c in range(0, w, tile):
            if bank.holds((r, c, tile, tile)):
                bank.put((r, c, min(tile, h - r), min(tile, w - c)), x[r:r + tile, c:c + tile])
    return bank


@pytest.mark.parametrize("shape, patch", [((23, 19), 5), ((23, 19), 7), ((3, 5), 9), ((1, 1), 3), ((6, 4), 3)])
@pytest.mark.parametrize("tile", [1, 4, 7, 64])
def test_bank_patches_equal_the_padded_cube_everywhere_including_borders(shape, patch, tile):
    x = np.random.default_rng(0).normal(size=shape + (6,)).astype(np.float32)
    whole = PatchSource(pad_cube(x, patch), patch)
    bank = _bank_from_cube(x, patch, tile)
    rows, cols = np.meshgrid(np.arange(shape[0]), np.arange(shape[1]), indexing="ij")
    rows, cols = rows.ravel(), cols.ravel()
    assert torch.equal(bank.gather(rows, cols), whole.gather(rows, cols))
    r = patch // 2
    padded = pad_cube(x, patch)
    for r0, c0, h, w in [(0, 0, shape[0], shape[1]), (0, 0, 1, 1), (shape[0] - 1, shape[1] - 1, 1, 1)]:
        np.testing.assert_array_equal(bank.block(r0, c0, h, w).numpy(), padded[:, r0:r0 + h + 2 * r, c0:c0 + w + 2 * r])


def test_bank_holds_only_tiles_that_patches_touch():
    rows, cols = np.array([0, 50]), np.array([0, 99])
    need = PatchBank.tiles_for(rows, cols, 64, 100, 5, 8)
    assert need.sum() == 2 and need[0, 0] and need[6, 12]
    x = np.random.default_rng(1).normal(size=(64, 100, 3)).astype(np.float32)
    bank = _bank_from_cube(x, 5, 8, need)
    assert torch.equal(bank.gather(rows, cols), PatchSource(pad_cube(x, 5), 5).gather(rows, cols))
    assert bank.nbytes < 0.05 * x.nbytes
    with pytest.raises(RuntimeError, match="not loaded"):
        bank.gather(np.array([30]), np.array([30]))


def _whole_cube_prepare(reader, labels, cfg):
    """The former (whole cube in memory) preparation, as the reference."""
    info = reader.info
    cube = reader.read(None, list(range(info.count)))
    valid = valid_mask(cube, info.nodata)
    split = make_split(labels.array, cfg.split, valid_mask=valid, patch_size=cfg.model.patch_size)
    train = cube[split.train].astype(np.float64)
    pre = Preprocessor.from_config(cfg.preprocess, info.count, len(train)).fit(train)
    x = pre.transform(np.where(valid[..., None], cube, 0))
    x[~valid] = 0.0
    return split, pre, pad_cube(x, cfg.model.patch_size)


@pytest.mark.parametrize("window", [3, 8, 256])
def test_streamed_preparation_equals_the_whole_cube_one(window):
    cfg = fast_config()
    reader = LimitedReader(scene_reader(), window)
    prep = prepare.prepare(reader, scene_labels(), cfg, window=window)
    split, pre, padded = _whole_cube_prepare(scene_reader(), scene_labels(), cfg)
    for name in ("train", "val", "test"):
        np.testing.assert_array_equal(getattr(prep.split, name), getattr(split, name))
    assert prep.preprocessor.to_dict() == pre.to_dict()
    whole = PatchSource(padded, cfg.model.patch_size)
    for px in (prep.train, prep.val, prep.test):
        assert torch.equal(prep.source.gather(px.rows, px.cols), whole.gather(px.rows, px.cols))
    # assessment from the bank = the former full-scene pass over the padded cube, at every test pixel
    torch.manual_seed(0)
    net = HSINet(cfg.model, pre.n_out, 3, bits=6, time_steps=3)
    for spiking in (False, True):
        net.spiking = spiking
        full = predict_padded(net, padded, cfg.model.patch_size)[prep.test.rows, prep.test.cols]
        np.testing.assert_array_equal(evaluation.predict_at(net, prep.source, prep.test.rows, prep.test.cols), full)


def test_streamed_training_gives_the_same_model_file_for_any_window(reference, tmp_path):
    path = tmp_path / "streamed.hsnn"
    reader = LimitedReader(scene_reader(), 6)
    pipeline.train(reader, scene_labels(), fast_config(), str(path), window=6)
    assert max(h for _, _, h, _ in reader.reads) <= 6
    assert path.read_bytes() == reference[1]
