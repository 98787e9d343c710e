"""The equivalent low-bit ANN (core/nn/equivalent_ann.py) trains from the CNN stage, reports its accuracy beside the
SNN's, is seeded, and leaves the SNN exactly as it was."""
import numpy as np
import pytest
import torch

import fixtures_data as fd
from hypersnn.core.config.schema import ModelConfig
from hypersnn.core.data.labels import labels_from_array
from hypersnn.core.io.raster import ArrayReader
from hypersnn.core.nn.equivalent_ann import EquivalentANN, quantize_activation
from hypersnn.core.nn.models import HSINet
from hypersnn.core.training import pipeline
from tiny import tiny_config

pytestmark = pytest.mark.timeout(600)


def test_activations_take_at_most_two_to_the_bits_levels_and_the_clip_learns():
    x = torch.linspace(-1, 3, 401, requires_grad=True)
    clip = torch.tensor(2.0, requires_grad=True)
    y = quantize_activation(x, clip, 2)
    assert sorted(set(np.round(y.detach().numpy(), 6))) == pytest.approx([0, 2 / 3, 4 / 3, 2])
    y.sum().backward()
    assert clip.grad > 0  # the values it cuts push it up
    assert torch.all(x.grad[x.detach() < 0] == 0) and torch.all(x.grad[(x.detach() > 0) & (x.detach() < 2)] == 1)


def test_every_hidden_layer_of_the_equivalent_ann_carries_at_most_t_plus_one_levels():
    torch.manual_seed(0)
    cfg = ModelConfig(patch_size=5, conv3d_channels=[2], conv3d_spectral_kernels=[3], conv2d_channels=[3], dense=[4])
    net = HSINet(cfg, in_bands=5, n_classes=2, bits=6, time_steps=3)
    ann = EquivalentANN(net, 2)
    x = torch.randn(16, 5, 5, 5)
    ann.calibrate(x, torch.randint(0, 2, (16,)))
    levels = []
    orig = quantize_activation

    def spy(v, c, b):
        out = orig(v, c, b)
        levels.append(len(torch.unique(out.detach())))
        return out

    import hypersnn.core.nn.equivalent_ann as mod
    mod.quantize_activation = spy
    try:
        ann.eval()
        ann(x)
    finally:
        mod.quantize_activation = orig
    assert len(levels) == len(net.specs) - 1 and max(levels) <= 4 and min(levels) >= 2


def _train(equivalent_ann: bool):
    cube, gt = fd.synthetic_scene()[:2]
    cfg = tiny_config(cnn_epochs=3, snn_epochs=2, threads=1)
    cfg.baseline.equivalent_ann = equivalent_ann
    return pipeline.train(ArrayReader(cube), labels_from_array(gt), cfg)


def test_the_equivalent_ann_is_trained_reported_and_seeded_and_leaves_the_snn_alone():
    plain, a, b = _train(False), _train(True), _train(True)
    assert plain.test_equivalent_ann is None and "equivalent_ann_accuracy" not in plain.energy
    acc = a.energy["equivalent_ann_accuracy"]
    assert acc["oa"] == a.test_equivalent_ann.oa == b.test_equivalent_ann.oa  # seeded
    assert acc["activation_bits"] == 2 and acc["n_test"] == a.test_snn.n  # T=3: ceil(log2 4) = 2 bits
    assert a.test_equivalent_ann.oa > 1.5 / len(a.model.classes)  # it learnt the scene, not chance
    # the SNN is the one a run without it trains, to the last weight
    for k, v in plain.model.net.state_dict().items():
        torch.testing.assert_close(v, a.model.net.state_dict()[k], rtol=0, atol=0)
    assert a.test_snn.oa == plain.test_snn.oa
    assert a.model.meta["metrics"]["test_equivalent_ann"]["oa"] == acc["oa"]
    assert "equivalent_ann" in a.seconds


def test_a_split_without_test_pixels_says_the_equivalent_ann_was_not_trained():
    cube, gt = fd.synthetic_scene()[:2]
    cfg = tiny_config(cnn_epochs=1, snn_epochs=1, threads=1)
    cfg.split.method = "cv"
    cfg.baseline.equivalent_ann = True
    with pytest.warns(UserWarning, match="equivalent low-bit ANN .* was not trained: this split keeps no test pixels"):
        out = pipeline.train(ArrayReader(cube), labels_from_array(gt), cfg)
    assert out.test_equivalent_ann is None and "equivalent_ann_accuracy" not in out.energy


def test_the_progress_bar_never_runs_back_while_the_equivalent_ann_trains():
    cube, gt = fd.synthetic_scene()[:2]
    cfg = tiny_config(cnn_epochs=1, snn_epochs=2, threads=1)
    cfg.baseline.equivalent_ann = True
    seen = []
    pipeline.train(ArrayReader(cube), labels_from_array(gt), cfg, progress=lambda f, m: seen.append((f, m)))
    ann = [f for f, m in seen if m.startswith("equivalent ANN")]
    assert ann and min(ann) >= 0.94 and max(ann) <= 0.95
    assert all(b >= a for a, b in zip([f for f, _ in seen], [f for f, _ in seen][1:]))
