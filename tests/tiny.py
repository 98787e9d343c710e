"""A tiny training configuration: real pipeline, seconds instead of minutes."""
from hypersnn.core.config.schema import RunConfig


def tiny_config(**train) -> RunConfig:
    cfg = RunConfig()
    cfg.model.patch_size = 5
    cfg.model.conv3d_channels = [4]
    cfg.model.conv3d_spectral_kernels = [3]
    cfg.model.conv2d_channels = [8]
    cfg.model.dense = [16]
    cfg.preprocess.pca_components = 6
    cfg.split.method = "auto"  # a hold-out split: tests read its test accuracy (the default, cv, has none)
    cfg.split.train_fraction = 0.3
    cfg.train.cnn_epochs = 8
    cfg.train.cnn_lr = 5e-3
    cfg.train.snn_lr = 2e-3
    cfg.train.snn_epochs = 2
    cfg.train.time_steps = 3
    cfg.train.weight_bits = 6
    cfg.train.batch_size = 32
    for k, v in train.items():
        if not hasattr(cfg.train, k):  # a misspelled setting must fail the test, not train at the default
            raise TypeError(f"tiny_config: the train section has no setting {k!r}")
        setattr(cfg.train, k, v)
    return cfg.validate()


def tiny_model_file(folder, cfg: RunConfig = None):
    """A tiny SNN trained on the synthetic scene (a few seconds) and saved as `folder`/m.hsnn."""
    import fixtures_data as fd
    from hypersnn.core.training import pipeline
    from hypersnn.core.data.labels import labels_from_array
    from hypersnn.core.io.raster import ArrayReader, RasterInfo

    cube, gt = fd.synthetic_scene()[:2]
    h, w, b = cube.shape
    reader = ArrayReader(cube, RasterInfo(width=w, height=h, count=b, dtype=str(cube.dtype), nodata=fd.NODATA))
    out = pipeline.train(reader, labels_from_array(gt), cfg or tiny_config(cnn_epochs=2, snn_epochs=1, threads=1))
    path = folder / "m.hsnn"
    out.model.save(path)
    return path
