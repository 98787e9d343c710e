"""Classification on a Dask cluster (workflows/distributed.py): the maps are the same bytes as in one process,
with a worker killed in the middle of a run, with the ONNX engine (whose workers never import torch) and with an
energy map; cancel and Ctrl-C leave no output and keep the old one; --cog writes a valid Cloud-Optimized
GeoTIFF with the same classes. Real worker processes on loopback, a tiny trained model, small rasters."""
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import fixtures_data as fd
from checksums import file_sha256
from hypersnn.cli import main
from hypersnn.workflows.rasterio_backend import RasterioBackend
from hypersnn.core.config.schema import ClassifyConfig
from hypersnn.core.errors import Canceled, InputError

distributed = pytest.importorskip("distributed")
pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def big_raster(tmp_path_factory):
    """The synthetic scene tiled 3 x 3 (60 x 72 pixels, nodata pixels included): 72 windows of 8 pixels."""
    cube = np.tile(fd.synthetic_scene()[0], (3, 3, 1))
    return fd.make_geotiff(tmp_path_factory.mktemp("dask-raster") / "scene.tif", cube)


@pytest.fixture(scope="module")
def cluster():
    """Two single-threaded worker processes on loopback, shared by the tests that connect by tcp://."""
    from hypersnn.workflows.distributed import local_cluster

    with local_cluster(2, host="127.0.0.1") as c, distributed.Client(c) as client:
        yield c, client


def _classify(model, raster, folder, *extra, confidence=True, probabilities=False):
    folder.mkdir(exist_ok=True)
    args = ["classify", "--model", str(model), "--raster", str(raster), "--out", str(folder / "c.tif"),
            "--window", "8", "--quiet"] + list(extra)
    if confidence:
        args += ["--confidence", str(folder / "conf.tif")]
    if probabilities:
        args += ["--probabilities", str(folder / "p.tif")]
    assert main(args) == 0
    return folder


def _same_files(a, b, names):
    for n in names:
        assert file_sha256(a / n) == file_sha256(b / n), f"{n} differs between {a} and {b}"


def test_local_two_workers_write_the_same_bytes(model_file, big_raster, tmp_path):
    """local:2 (the CLI's own LocalCluster): class map, confidence and probabilities byte for byte."""
    one = _classify(model_file, big_raster, tmp_path / "one", probabilities=True)
    two = _classify(model_file, big_raster, tmp_path / "two", "--scheduler", "local:2", probabilities=True)
    _same_files(one, two, ("c.tif", "conf.tif", "p.tif"))
    import rasterio
    with rasterio.open(two / "c.tif") as ds:
        cls = ds.read(1)
    assert (cls > 0).sum() == cls.size - 9 * len(fd.NODATA_PIXELS)  # all but the 3 x 3 copies of nodata pixels


def test_onnx_engine_on_workers_without_torch(model_file, big_raster, tmp_path, cluster):
    """tcp:// to a running scheduler, ONNX engine: the same bytes as one process, and no worker imported torch."""
    c, client = cluster
    client.restart()  # fresh worker processes: nothing left over from other tests
    one = _classify(model_file, big_raster, tmp_path / "one", "--engine", "onnx")
    two = _classify(model_file, big_raster, tmp_path / "two", "--engine", "onnx", "--scheduler", c.scheduler_address)
    _same_files(one, two, ("c.tif", "conf.tif"))
    loaded = client.run(lambda: ("torch" in sys.modules, "onnxruntime" in sys.modules))
    assert len(loaded) == 2 and all(v == (False, True) for v in loaded.values()), loaded


def test_energy_map_on_workers(model_file, big_raster, tmp_path, cluster):
    """The energy map (torch engine, operation counting) computed on workers: the same bytes as one process."""
    c, _ = cluster
    one, two = tmp_path / "one", tmp_path / "two"
    _classify(model_file, big_raster, one, "--energy-map", str(one / "e.tif"), confidence=False)
    _classify(model_file, big_raster, two, "--energy-map", str(two / "e.tif"), "--scheduler", c.scheduler_address,
              confidence=False)
    _same_files(one, two, ("c.tif", "e.tif"))


class _Transitions:
    """Scheduler plugin recording the transitions of this run's window tasks."""

    def __init__(self):
        self.log = []

    def transition(self, key, start, finish, *args, **kwargs):
        if "hypersnn-window" in str(key):
            self.log.append((str(key), start, finish))


def test_worker_killed_mid_run_is_retried_and_the_map_is_unchanged(model_file, big_raster, tmp_path, cluster):
    """SIGKILL one of the two workers while it runs window tasks: Dask reruns them on the other worker (and the
    restarted one), and class map and confidence are still the single-process bytes."""
    from distributed.diagnostics.plugin import SchedulerPlugin

    from hypersnn.workflows.callbacks import Callbacks
    from hypersnn.workflows.classify import ClassifyJob, run_classify

    c, client = cluster
    one = _classify(model_file, big_raster, tmp_path / "one")
    rec = type("Rec", (_Transitions, SchedulerPlugin), {})()
    c.scheduler.add_plugin(rec, name="hypersnn-test-transitions")
    killed = {}

    def progress(f, m):
        if killed or f < 0.2:
            return
        busy = {w: keys for w, keys in client.processing().items() if keys}
        if not busy:
            return
        worker, keys = next(iter(busy.items()))
        pid = client.run(os.getpid, workers=[worker])[worker]
        os.kill(pid, signal.SIGKILL)
        killed.update(worker=worker, pid=pid, keys=[str(k) for k in keys])

    two = tmp_path / "two"
    two.mkdir()
    job = ClassifyJob(str(big_raster), str(model_file), str(two / "c.tif"), str(two / "conf.tif"),
                      cfg=ClassifyConfig(window=8))
    t0 = time.perf_counter()
    try:
        run_classify(job, RasterioBackend(), Callbacks(progress=progress), client=client)
    finally:
        c.scheduler.remove_plugin(name="hypersnn-test-transitions")
    assert killed, "no worker was busy when the run passed 20 %"
    assert time.perf_counter() - t0 < 90
    # the killed worker's tasks left 'processing' without a result and ran again to 'memory'
    retried = [k for k in killed["keys"]
               if sum(1 for key, _, fin in rec.log if key == k and fin == "processing") >= 2]
    assert retried, (killed, [t for t in rec.log if t[0] in killed["keys"]])
    assert all(any(key == k and fin == "memory" for key, _, fin in rec.log) for k in retried)
    _same_files(one, two, ("c.tif", "conf.tif"))


@pytest.mark.parametrize("how", ["cancel", "ctrl-c"])
def test_cancel_leaves_no_output_and_keeps_the_old_one(model_file, big_raster, tmp_path, cluster, how):
    from hypersnn.workflows.callbacks import Callbacks
    from hypersnn.workflows.classify import ClassifyJob, run_classify

    c, client = cluster
    out = tmp_path / "c.tif"
    out.write_bytes(b"old map")
    calls = []

    def progress(f, m):
        calls.append(f)
        if how == "ctrl-c" and len(calls) == 3:
            raise KeyboardInterrupt

    job = ClassifyJob(str(big_raster), str(model_file), str(out), str(tmp_path / "conf.tif"),
                      cfg=ClassifyConfig(window=8, scheduler=c.scheduler_address))
    cb = Callbacks(progress=progress, is_canceled=lambda: len(calls) >= 3)
    window_tasks = lambda: set(client.run_on_scheduler(  # noqa: E731
        lambda dask_scheduler: [str(k) for k in dask_scheduler.tasks if "hypersnn-window" in str(k)]))
    before = window_tasks()  # another test's run may leave a released task behind for a moment
    with pytest.raises(KeyboardInterrupt if how == "ctrl-c" else Canceled):
        run_classify(job, RasterioBackend(), cb)
    assert 3 <= len(calls) < 72
    assert out.read_bytes() == b"old map" and sorted(p.name for p in tmp_path.iterdir()) == ["c.tif"]
    deadline = time.time() + 10  # the outstanding futures were cancelled: the scheduler forgets them
    while time.time() < deadline and window_tasks() - before:
        time.sleep(0.2)
    assert not window_tasks() - before


def test_scheduler_errors_are_plain(model_file, big_raster, tmp_path, capsys, monkeypatch):
    from hypersnn.workflows import distributed as dist
    from hypersnn.workflows.distributed import parse_scheduler

    monkeypatch.setattr(dist, "CONNECT_TIMEOUT_S", 2)

    assert parse_scheduler("") is None and parse_scheduler("local:3") == ("local", 3)
    assert parse_scheduler("tcp://10.0.0.5:8786") == ("address", "tcp://10.0.0.5:8786")
    for bad in ("local:0", "remote", "tcp://host", "local:two"):
        with pytest.raises(InputError, match="--scheduler"):
            parse_scheduler(bad)
    rc = main(["classify", "--model", str(model_file), "--raster", str(big_raster), "--out", str(tmp_path / "c.tif"),
               "--scheduler", "tcp://127.0.0.1:9", "--quiet"])
    assert rc == 2 and "cannot reach the Dask scheduler" in capsys.readouterr().err
    assert not (tmp_path / "c.tif").exists()


def test_missing_dask_is_a_plain_error(model_file, big_raster, tmp_path):
    code = ("import sys; sys.modules['distributed'] = None; from hypersnn.cli import main; "
            "sys.exit(main(sys.argv[1:]))")
    r = subprocess.run([sys.executable, "-c", code, "classify", "--model", str(model_file), "--raster",
                        str(big_raster), "--out", str(tmp_path / "c.tif"), "--scheduler", "local:2"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "--scheduler needs dask and distributed (pip install" in r.stderr, r.stderr


def test_cog_output_is_a_valid_cog_with_the_same_classes(model_file, tmp_path):
    """A raster larger than one 256-pixel tile, so that the COG has overviews: tiled, overviews, LAYOUT=COG,
    colour table, class names and nodata kept, full-resolution classes identical to the plain GeoTIFF."""
    import rasterio

    from hypersnn.workflows.rasterio_reader import read_class_metadata

    raster = fd.make_geotiff(tmp_path / "wide.tif", np.tile(fd.synthetic_scene()[0], (15, 12, 1)))  # 300 x 288
    plain = _classify(model_file, raster, tmp_path / "plain", "--window", "128")
    cog = _classify(model_file, raster, tmp_path / "cog", "--window", "128", "--cog")
    with rasterio.open(plain / "c.tif") as p, rasterio.open(cog / "c.tif") as c:
        assert (c.read(1) == p.read(1)).all() and c.nodata == p.nodata == 0
        assert c.profile["tiled"] and c.block_shapes[0] == (256, 256)
        assert c.overviews(1), "no overviews"
        assert c.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"
        assert c.colormap(1) == p.colormap(1)
    with rasterio.open(plain / "conf.tif") as p, rasterio.open(cog / "conf.tif") as c:
        assert (c.read(1) == p.read(1)).all() and c.nodata == p.nodata and c.overviews(1)
    assert read_class_metadata(cog / "c.tif") == read_class_metadata(plain / "c.tif")
    assert (cog / "c.tif.aux.xml").read_text() == (plain / "c.tif.aux.xml").read_text()
    assert sorted(p.name for p in cog.iterdir()) == ["c.tif", "c.tif.aux.xml", "conf.tif"]


def test_local_workers_start_with_a_checked_python_and_spawn_is_put_back(tmp_path, monkeypatch):
    """Inside QGIS sys.executable is a guess (on Debian 12's qgis_process: a pyenv shim of another Python). A
    sys.executable that is another Python is not used for the workers; one of this version and standard library
    is; multiprocessing's spawn executable is put back once the cluster is closed."""
    import multiprocessing.spawn as spawn

    from hypersnn.workflows.distributed import _python_identity, dask_client, worker_python

    fake = tmp_path / "python3"
    fake.write_text("#!/bin/sh\necho 2.7\necho /opt/other\n")
    fake.chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(fake))
    exe = worker_python()
    assert exe != str(fake) and _python_identity(exe) == _python_identity(None)
    before = spawn.get_executable()
    with dask_client("local:1") as client:
        assert client.submit(os.getpid, pure=False).result() != os.getpid()
        assert os.fsdecode(spawn.get_executable()) == exe
    assert spawn.get_executable() == before
