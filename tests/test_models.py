"""One network definition: CNN and SNN modes, and full-scene (fully convolutional) = patch by patch."""
import numpy as np
import pytest
import torch

from hypersnn.core.config.schema import ModelConfig
from hypersnn.core.errors import InputError
from hypersnn.core.nn.models import HSINet
from oracles import PatchSource, pad_cube, predict_padded
from hypersnn.core.training.trainer import PixelSet, predict_pixels


def small(arch, first_spatial_kernel=3):
    return ModelConfig(arch=arch, patch_size=7, conv3d_channels=[3, 4], conv3d_spectral_kernels=[3, 3],
                       conv2d_channels=[6], dense=[12], first_spatial_kernel=first_spatial_kernel)


@pytest.mark.parametrize("arch", ["hybrid", "3d"])
@pytest.mark.parametrize("spiking", [False, True])
@pytest.mark.parametrize("first", [3, 1])
def test_full_scene_equals_patch_by_patch_including_borders_and_seams(arch, spiking, first):
    torch.manual_seed(0)
    net = HSINet(small(arch, first), in_bands=9, n_classes=4, bits=6, time_steps=4)
    net.spiking = spiking
    net.eval()
    cube = np.random.default_rng(1).normal(size=(23, 19, 9)).astype(np.float32)
    padded = pad_cube(cube, 7)
    rows, cols = np.meshgrid(np.arange(23), np.arange(19), indexing="ij")
    px = PixelSet(rows.ravel(), cols.ravel(), np.zeros(rows.size, np.int64))
    _, patchwise = predict_pixels(net, PatchSource(padded, 7), px, batch=97)
    # window 8 puts seams inside the image; borders are reflect-padded in both paths
    full = predict_padded(net, padded, 7, window=8).reshape(-1, 4)
    np.testing.assert_allclose(full, patchwise, atol=2e-5)


def test_first_layer_is_computed_once_for_all_time_steps():
    net = HSINet(small("hybrid"), 9, 3, time_steps=5)
    net.spiking = True
    calls = []
    orig = net.apply_layer
    net.apply_layer = lambda i, x, bias=True: (calls.append((i, x.shape[0])), orig(i, x, bias))[1]
    net(torch.randn(2, 9, 7, 7))
    assert calls[0] == (0, 2)  # batch of 2, not 2 x 5 steps
    assert calls[1] == (1, 10)  # later layers run all 5 steps as one batch


def test_too_few_bands_for_the_spectral_kernels_is_explained():
    with pytest.raises(InputError, match="too few for the spectral kernels"):
        HSINet(small("hybrid"), in_bands=4, n_classes=3)


def test_too_small_patch_is_explained():
    cfg = small("hybrid")
    cfg.patch_size = 5
    with pytest.raises(InputError, match="patch_size 5 is too small"):
        HSINet(cfg, 9, 3)


def test_a_1x1_first_layer_keeps_the_receptive_field_and_cuts_its_macs():
    k3 = HSINet(small("hybrid", 3), 9, 3)
    k1 = HSINet(small("hybrid", 1), 9, 3)
    assert k1.specs[0].kernel == (3, 1, 1) and k3.specs[0].kernel == (3, 3, 3)
    # the dense layer grows to cover what the first layer no longer does: a 7x7 patch still maps to one pixel
    assert k1(torch.randn(2, 9, 7, 7)).shape == (2, 3, 1, 1)
    m1, m3 = k1.dense_macs(), k3.dense_macs()
    assert m1[0] < m3[0] / 4 and sum(m1[1:]) > sum(m3[1:])


def test_first_spatial_kernel_other_than_1_or_3_is_refused():
    from hypersnn.core.config.schema import RunConfig
    cfg = RunConfig()
    cfg.model.first_spatial_kernel = 5
    with pytest.raises(InputError, match="first_spatial_kernel"):
        cfg.validate()
