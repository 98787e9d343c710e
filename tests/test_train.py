"""Trainer details that the end-to-end tests do not pin down."""
import numpy as np
import pytest

from hypersnn.core.config.schema import RunConfig
from hypersnn.core.errors import InputError
from hypersnn.core.training.trainer import class_weights


def test_class_weights_lift_rare_classes_and_average_one():
    y = np.array([0] * 90 + [1] * 9 + [2] * 1)
    assert class_weights(y, 3, "none") is None
    w = class_weights(y, 3, "sqrt_inverse").numpy()
    assert np.isclose(w.mean(), 1) and w[2] > w[1] > w[0]
    np.testing.assert_allclose(w[1] / w[0], np.sqrt(10), rtol=1e-5)
    wi = class_weights(y, 4, "inverse").numpy()
    assert wi[3] == 0 and np.isclose(wi[:3].mean(), 1)  # an absent class gets no weight
    np.testing.assert_allclose(wi[2] / wi[0], 90, rtol=1e-5)


def test_unknown_class_weighting_is_refused():
    cfg = RunConfig()
    cfg.train.class_weighting = "balanced"
    with pytest.raises(InputError, match="class_weighting"):
        cfg.validate()


def test_negative_spike_penalty_is_refused():
    cfg = RunConfig()
    cfg.train.spike_penalty = -1.0
    with pytest.raises(InputError, match="spike_penalty"):
        cfg.validate()


def test_spike_cost_is_the_mac_weighted_spike_rate_and_has_a_gradient():
    import torch
    from hypersnn.core.config.schema import ModelConfig
    from hypersnn.core.nn.models import HSINet
    from hypersnn.core.training.trainer import spike_cost

    torch.manual_seed(0)
    net = HSINet(ModelConfig(patch_size=5, conv3d_channels=[4], conv3d_spectral_kernels=[3],
                             conv2d_channels=[8], dense=[16]), in_bands=6, n_classes=3, bits=6, time_steps=3)
    net.spiking = True
    net.set_thresholds([0.2] * len(net.neurons))
    macs = net.dense_macs()
    net.spike_maps = []
    net(torch.randn(8, 6, 5, 5))
    maps, net.spike_maps = net.spike_maps, None
    assert [i for i, _ in maps] == list(range(len(net.neurons)))
    rates = [float((s != 0).float().mean()) for _, s in maps]
    assert all(0 < r < 1 for r in rates)
    cost = spike_cost(maps, macs)
    expected = sum(r * macs[i + 1] for i, r in enumerate(rates)) / sum(macs[1:])
    assert abs(float(cost.detach()) - expected) < 1e-5
    cost.backward()
    assert float(net.weights[0].grad.abs().sum()) > 0  # surrogate gradient reaches the first layer
    assert all(float(n.threshold.grad) != 0 for n in net.neurons)


def test_spike_penalty_lowers_the_spike_rate_of_a_trained_snn(scene):
    from hypersnn.core.training import pipeline
    from hypersnn.core.data.labels import labels_from_array
    from hypersnn.core.io.raster import ArrayReader
    from tiny import tiny_config

    cube, gt = scene
    labels = labels_from_array(gt, {1: "a", 2: "b", 3: "c"}, nodata=0)
    mean_rate = {}
    for lam in (0.0, 20.0):
        out = pipeline.train(ArrayReader(cube.astype("float32")), labels, tiny_config(snn_epochs=4, spike_penalty=lam))
        rates = [l["spike_rate"] for l in out.energy["layers"] if l["spike_rate"] is not None]
        mean_rate[lam] = sum(rates) / len(rates)
        assert out.model.meta["config"]["train"]["spike_penalty"] == lam
    assert mean_rate[20.0] < 0.7 * mean_rate[0.0], mean_rate


def test_training_puts_torch_global_state_back():
    """Inside QGIS a training run must not reseed, re-thread or make deterministic torch for everyone else."""
    import numpy as np
    import torch

    import fixtures_data as fd
    from hypersnn.core.training import pipeline
    from hypersnn.core.data.labels import labels_from_array
    from hypersnn.core.io.raster import ArrayReader
    from tiny import tiny_config

    cube, gt = fd.synthetic_scene()[:2]
    cfg = tiny_config(cnn_epochs=1, snn_epochs=1, threads=1)
    torch.manual_seed(1234)
    np.random.seed(99)
    before = (torch.get_rng_state().clone(), np.random.get_state()[1].copy(), torch.get_num_threads(),
              torch.are_deterministic_algorithms_enabled())
    pipeline.train(ArrayReader(cube), labels_from_array(gt), cfg)
    after = (torch.get_rng_state(), np.random.get_state()[1], torch.get_num_threads(),
             torch.are_deterministic_algorithms_enabled())
    assert torch.equal(before[0], after[0]) and np.array_equal(before[1], after[1])
    assert before[2:] == after[2:] and before[2] != 1


def test_mixup_draw_is_seeded_and_off_at_zero():
    from hypersnn.core.training.trainer import mixup_draw

    assert mixup_draw(0.0, 8, np.random.default_rng(0)) == (1.0, None)
    assert mixup_draw(0.4, 1, np.random.default_rng(0)) == (1.0, None)  # a batch of one has no partner
    lam, perm = mixup_draw(0.4, 8, np.random.default_rng(3))
    lam2, perm2 = mixup_draw(0.4, 8, np.random.default_rng(3))
    assert 0.0 < lam < 1.0 and lam == lam2
    assert sorted(perm.tolist()) == list(range(8)) and perm.tolist() == perm2.tolist()


def test_epochs_are_counted_for_epoch_pixels_training_pixels():
    """A larger training set trains proportionally fewer epochs (the same patches seen in all), so training time
    stops growing with the labels; never more epochs than asked, at least one, and 0 turns it off."""
    from hypersnn.core.config.schema import TrainConfig
    from hypersnn.core.training.checkpoints import CNN_FIELDS
    from hypersnn.core.training.trainer import scaled_epochs

    assert TrainConfig().epoch_pixels == 1000 and "epoch_pixels" in CNN_FIELDS
    assert scaled_epochs(30, 800, 1000) == 30 and scaled_epochs(30, 1000, 1000) == 30
    assert scaled_epochs(30, 3000, 1000) == 10 and scaled_epochs(10, 3500, 1000) == 3
    assert scaled_epochs(10, 10 ** 6, 1000) == 1 and scaled_epochs(30, 3000, 0) == 30


def test_spectral_augmentation_scales_illumination_adds_noise_and_is_seeded():
    """Each patch gets one illumination factor within 1 +/- illumination (in feature space, through the offset),
    noise scales with each feature's standard deviation, and the same generator state gives the same draw."""
    import torch

    from hypersnn.core.data.patches import SpectralAugment

    x = torch.ones(64, 3, 5, 5)
    aug = SpectralAugment(0.2, 0.0, offset=np.zeros(3), feature_std=np.ones(3))
    y = aug(x, torch.Generator().manual_seed(1))
    a = y[:, 0, 0, 0]
    assert torch.all((a >= 0.8) & (a <= 1.2)) and a.std() > 0.05
    assert torch.equal(y, y[:, :1, :1, :1].expand_as(y))  # one factor per patch, for every feature and pixel
    assert torch.equal(y, aug(x, torch.Generator().manual_seed(1)))
    shifted = SpectralAugment(0.2, 0.0, offset=np.array([1.0, 0.0, 0.0]), feature_std=np.ones(3))(
        x, torch.Generator().manual_seed(1))
    torch.testing.assert_close(shifted[:, 0], y[:, 0] + (y[:, 0] - 1.0))  # + (a - 1) * c
    noisy = SpectralAugment(0.0, 0.5, offset=np.zeros(3), feature_std=np.array([0.0, 1.0, 4.0]))(
        torch.zeros(4000, 3, 1, 1), torch.Generator().manual_seed(2))
    sd = noisy.std(dim=(0, 2, 3))
    assert sd[0] == 0 and abs(float(sd[1]) - 0.5) < 0.03 and abs(float(sd[2]) - 2.0) < 0.1
    assert not SpectralAugment(0.0, 0.0, np.zeros(3), np.ones(3)).active


def test_distillation_loss_is_zero_when_the_student_matches_and_grows_apart():
    import torch

    from hypersnn.core.training.trainer import distillation_loss

    t = torch.tensor([[2.0, 0.0, -1.0], [0.5, 0.3, 0.1]])
    assert float(distillation_loss(t, t)) < 1e-7
    near, far = distillation_loss(t + torch.tensor([0.1, 0, 0]), t), distillation_loss(t.flip(1), t)
    assert 0 < float(near) < float(far)


TRAINING_OPTIONS_OFF = {"mixup": 0.0, "label_smoothing": 0.0, "illumination": 0.0, "spectral_noise": 0.0,
                        "distillation": 0.0, "weight_averaging": 0.0, "context_dropout": 0.0}


def test_each_training_option_trains_reproducibly_and_changes_the_model():
    """Every regulariser and augmentation reaches training through the pipeline (the weights differ from a run with
    all of them off), a seed still fixes the run (two runs agree bit for bit), and the model file records it."""
    import fixtures_data as fd
    from hypersnn.core.training import pipeline
    from hypersnn.core.data.labels import labels_from_array
    from hypersnn.core.io.raster import ArrayReader
    from tiny import tiny_config

    cube, gt = fd.synthetic_scene()[:2]

    def weights(**kw):
        out = pipeline.train(ArrayReader(cube), labels_from_array(gt),
                             tiny_config(cnn_epochs=2, snn_epochs=1, threads=1, **dict(TRAINING_OPTIONS_OFF, **kw)))
        return out.model.meta["config"]["train"], [w.detach().numpy().copy() for w in out.model.net.weights]

    _, plain = weights()
    for kw in ({"mixup": 0.4}, {"label_smoothing": 0.1}, {"illumination": 0.2}, {"spectral_noise": 0.1},
               {"distillation": 0.5}, {"weight_averaging": 1.0}, {"context_dropout": 0.5}):
        rec, a = weights(**kw)
        _, b = weights(**kw)
        assert all(rec[k] == v for k, v in kw.items())
        assert all(np.array_equal(x, y) for x, y in zip(a, b)), kw
        assert not all(np.array_equal(x, y) for x, y in zip(a, plain)), kw


def test_tiny_config_refuses_a_misspelled_setting():
    """The tests' own helper: `cnn_epoch=1` used to set an attribute nobody reads and train at the default."""
    from tiny import tiny_config

    with pytest.raises(TypeError, match="no setting 'cnn_epoch'"):
        tiny_config(cnn_epoch=1)
    assert tiny_config(cnn_epochs=1).train.cnn_epochs == 1


def test_the_cnn_checkpoint_fingerprint_covers_every_setting_but_those_declared_snn_only():
    """The CNN fields were a hand-kept allow-list (CNN_FIELDS): a new CNN setting missing from it would have reused a
    stale CNN checkpoint. Now every training setting is in the CNN's fingerprint unless core/config/schema.py declares it
    `stage="snn"`, so a new one fails safe (the CNN retrains)."""
    import dataclasses

    import numpy as np

    from hypersnn.core.config.schema import ModelConfig, TrainConfig
    from hypersnn.core.training.checkpoints import SNN_ONLY_FIELDS
    from hypersnn.core.training.trainer import PixelSet, Trainer

    snn_only = {"snn_epochs", "snn_lr", "distillation", "time_steps", "spike_penalty", "threshold_percentile",
                "leak_init", "leak_mode", "membrane_bits", "surrogate_slope"}
    names = {f.name for f in dataclasses.fields(TrainConfig)}
    assert SNN_ONLY_FIELDS == snn_only and snn_only < names
    pixels = PixelSet(np.arange(4), np.arange(4), np.array([0, 1, 0, 1]))

    def fp(**changes):
        return Trainer(ModelConfig(), dataclasses.replace(TrainConfig(), **changes), 12, 2)._fingerprint(
            pixels, cnn_only=True)

    base = fp()
    assert fp(time_steps=3) == base and fp(leak_mode="pow2") == base and fp(snn_epochs=1) == base
    assert fp(cnn_epochs=3) != base and fp(mixup=0.4) != base and fp(seed=1) != base

    @dataclasses.dataclass
    class WithNewSetting(TrainConfig):  # a setting added without any stage tag
        new_cnn_knob: float = 0.0

    t = Trainer(ModelConfig(), WithNewSetting(), 12, 2)
    before = t._fingerprint(pixels, cnn_only=True)
    t.tcfg.new_cnn_knob = 1.0
    assert t._fingerprint(pixels, cnn_only=True) != before
