"""Classification on a Dask cluster (`--scheduler local[:N]` or `tcp://HOST:PORT`).

Each window with its halo is one task. A worker opens the raster itself by path (with the driver's I/O
backend), gets the model once (its file bytes are scattered to every worker, loaded lazily once per worker
process: an ONNX Runtime session cannot be pickled, and bytes can be re-fetched from a peer when a worker dies),
and runs core.predict.compute_window, the same function the single-process loop runs. Results come back per
window and the driver writes them in window order through core.predict.classify_raster, so the files are
written, checked and made atomic exactly as without Dask, and hold the same bytes.

Dask is optional: nothing imports it unless a scheduler is given, and core/ never imports it.
With the ONNX engine a worker imports numpy, onnxruntime and the reader's library, never torch.
"""
from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import sys
import tempfile
import threading
import uuid
import warnings
from typing import Optional

from ..core.errors import Canceled, HyperSNNError, InputError
from ..core.interpreter import matching_python
from ..core.interpreter import python_identity as _python_identity
from ..core.mapping.predict import WindowClassifier, compute_window

CONNECT_TIMEOUT_S = 15
"""How long to try to reach a tcp:// scheduler before saying it cannot be reached."""
INSTALL_HINT = 'pip install "dask[distributed]"'
_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def parse_scheduler(text: str):
    """('local', worker count) for local or local:N, ('address', address) for tcp://HOST:PORT (or tls://),
    None for "" (this process); InputError for anything else."""
    t = (text or "").strip()
    if not t:
        return None
    m = re.fullmatch(r"local(?::(\d+))?", t)
    if m:
        n = int(m.group(1)) if m.group(1) else max(1, os.cpu_count() or 1)
        if not 1 <= n <= 1024:
            raise InputError(f"--scheduler {t}: the worker count must be 1..1024")
        return "local", n
    if re.fullmatch(r"(tcp|tls)://[^\s:/]+:\d+", t):
        return "address", t
    raise InputError(f"--scheduler {t!r} is not understood: give local, local:N (N worker processes here) or "
                     f"tcp://HOST:PORT (a running Dask scheduler)")


def require_dask():
    """The `distributed` module, or InputError saying what to install."""
    try:
        import dask  # noqa: F401
        import distributed
    except ImportError:
        raise InputError(f"--scheduler needs dask and distributed ({INSTALL_HINT})") from None
    return distributed


@contextlib.contextmanager
def dask_client(scheduler: str):
    """A Client for `scheduler`: a LocalCluster of N single-threaded worker processes for local[:N] (closed
    afterwards), or a connection to a running scheduler."""
    kind, arg = parse_scheduler(scheduler)
    distributed = require_dask()
    with contextlib.ExitStack() as stack:
        if kind == "local":
            stack.enter_context(_spawn_with(worker_python(scheduler)))
            cluster = stack.enter_context(local_cluster(arg))
            client = stack.enter_context(distributed.Client(cluster))
        else:
            try:
                client = distributed.Client(arg, timeout=f"{CONNECT_TIMEOUT_S}s")
            except (OSError, TimeoutError) as e:
                raise InputError(f"--scheduler {arg}: cannot reach the Dask scheduler ({e})") from None
            stack.enter_context(client)
        yield client


def worker_python(scheduler: str = "local") -> str:
    """The Python interpreter that local worker processes are started with: one of this Python's version and
    standard library (its base prefix), since the workers are given this process's module path by
    multiprocessing's spawn start. Outside QGIS that is sys.executable. Inside QGIS (desktop or qgis_process) the
    running program is QGIS, and sys.executable is only a guess from PATH (core/interpreter.py checks each
    candidate). InputError when none matches."""
    exe = matching_python()
    if exe:
        return exe
    v = _python_identity(None)[0]
    raise InputError(f"--scheduler {scheduler}: local workers are Python {v} processes of {sys.base_exec_prefix}, "
                     f"and no such python was found beside this program ({sys.executable}); start a cluster "
                     f"(dask scheduler; dask worker ADDRESS) and give its tcp:// address")


@contextlib.contextmanager
def _spawn_with(python: str):
    """Start multiprocessing's spawned processes (Dask's nannies and workers) with `python`, put back afterwards:
    inside QGIS the default would be the QGIS program itself."""
    import multiprocessing.spawn as spawn

    before = spawn.get_executable()
    if before and os.path.abspath(python) == os.path.abspath(os.fsdecode(before)):
        yield
        return
    spawn.set_executable(python)
    try:
        yield
    finally:
        spawn.set_executable(before)


NANNY_ENVIRON_UNSET = ("MALLOC_TRIM_THRESHOLD_",)
"""Dask's nanny starts workers with MALLOC_TRIM_THRESHOLD_=65536 (return freed memory to the system at once).
Measured on the Indian Pines model (9 windows of 64 pixels, torch, one thread): 2.5-2.9 s in a plain process,
6.3-6.7 s with that variable set, in a worker or not: every window's large temporary arrays are then given back
and faulted in again. Local workers are started without it; start remote workers the same way
(DASK_DISTRIBUTED__NANNY__PRE_SPAWN_ENVIRON__MALLOC_TRIM_THRESHOLD_ unset in their dask config)."""


def local_cluster(n_workers: int, **kw):
    """A LocalCluster of `n_workers` single-threaded worker processes as classification wants them: no memory
    trimming (NANNY_ENVIRON_UNSET), no dashboard, quiet. The nanny also writes its start-up variables into
    this process's environment; they are put back, so later child processes of the driver are not slowed."""
    import dask
    import distributed

    saved = dict(os.environ)
    try:
        with dask.config.set({f"distributed.nanny.pre-spawn-environ.{k}": None for k in NANNY_ENVIRON_UNSET}):
            return distributed.LocalCluster(**{"n_workers": n_workers, "threads_per_worker": 1, "processes": True,
                                               "dashboard_address": None, "silence_logs": logging.ERROR, **kw})
    finally:
        os.environ.clear()
        os.environ.update(saved)


def model_payload(model, source=None):
    """(what is shipped to the workers, its key): the model file's bytes when the model came from a file
    (`source`) or can save itself (torch), else its checked record (an ONNX Runtime model built in memory)."""
    if isinstance(source, (str, os.PathLike)):
        with open(source, "rb") as f:
            data = f.read()
    elif hasattr(model, "save"):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "model.hsnn")
            model.save(path)
            with open(path, "rb") as f:
                data = f.read()
    else:
        return model.record, "record-" + uuid.uuid4().hex
    return data, "sha256-" + hashlib.sha256(data).hexdigest()


# ---------------------------------------------------------------------------------------------- worker side
_MODELS: dict = {}
_MODELS_LOCK = threading.Lock()
_LOCAL = threading.local()


def _load_payload(payload, engine: str):
    """The model on a worker, for the driver's engine, with one ONNX Runtime thread (one task per worker
    thread; ONNX Runtime gives the same scores for any thread count, measured in core/mapping/predict.py)."""
    from ..core.models.engines import OnnxModel, load_classifier

    if not isinstance(payload, (bytes, bytearray)):
        return OnnxModel(payload, threads=1)
    with tempfile.TemporaryDirectory(prefix="hypersnn-model-") as d:
        path = os.path.join(d, "model.hsnn")
        with open(path, "wb") as f:
            f.write(payload)
        return load_classifier(path, engine, threads=1)


def _worker_classifier(payload, key: str, engine: str, backend, raster_path: str, mode: str) -> WindowClassifier:
    """This worker thread's WindowClassifier for (model, raster, mode): the model loaded once per process,
    the raster opened once per thread (readers are not thread-safe), the previous raster closed."""
    with _MODELS_LOCK:
        model = _MODELS.get((key, engine))
        if model is None:
            if len(_MODELS) >= 2:
                _MODELS.clear()
            model = _MODELS[key, engine] = _load_payload(payload, engine)
    cur = getattr(_LOCAL, "current", None)
    if cur is None or cur[0] != (key, engine, raster_path, mode):
        if cur is not None:
            with contextlib.suppress(Exception):
                cur[1].close()
        reader = backend.open_raster(raster_path)
        try:
            cur = ((key, engine, raster_path, mode), reader, WindowClassifier(model, reader, mode))
        except BaseException:
            reader.close()
            raise
        _LOCAL.current = cur
    return cur[2]


def window_task(payload, key, engine, backend, raster_path, job, window):
    """One Dask task: core.predict.compute_window on this worker, with the engine's warnings returned to the
    driver (a worker's warnings would reach no one)."""
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        wc = _worker_classifier(payload, key, engine, backend, raster_path, job.mode)
        res = compute_window(wc, job, window)
    res.warnings = tuple(dict.fromkeys(
        str(w.message) for w in rec
        if os.path.abspath(w.filename or "").startswith(_PACKAGE_DIR)
        and not issubclass(w.category, (DeprecationWarning, PendingDeprecationWarning))))
    return res


def worker_pid() -> int:
    """For tests and benchmarks: the process a task ran in."""
    return os.getpid()


# ---------------------------------------------------------------------------------------------- driver side
class DaskRunner:
    """A core.predict.classify_raster runner: submits one task per window (at most `max_in_flight` unwritten at
    once, so the driver's memory stays bounded by windows, not the image), yields results in window order (so
    the writers see the same sequence of writes as the local loop), polls cancel while it waits, and cancels
    every outstanding future when stopped, failed or interrupted."""

    POLL_S = 0.2

    def __init__(self, client, payload, key: str, engine: str, backend, raster_path: str,
                 max_in_flight: Optional[int] = None, on_result=None):
        self.client, self.payload, self.key, self.engine = client, payload, key, engine
        self.backend, self.raster_path = backend, os.path.abspath(os.fspath(raster_path))
        self.max_in_flight = max_in_flight
        self.on_result = on_result
        """called with (window index, result) as each task's result arrives (tests, benchmarks)"""
        self.tasks = 0

    def __call__(self, wc, job, windows, is_canceled):
        from distributed import KilledWorker, wait

        client, n = self.client, len(windows)
        limit = self.max_in_flight or max(4, 2 * sum(client.nthreads().values()))
        model_f = client.scatter(self.payload, broadcast=True, hash=False)
        run = uuid.uuid4().hex[:8]
        inflight, ready = {}, {}
        nxt = done = 0
        try:
            while done < n:
                if is_canceled():
                    raise Canceled(f"classification canceled at window {done + 1}/{n}")
                while nxt < n and len(inflight) + len(ready) < limit:
                    r0, c0, _, _ = windows[nxt]
                    f = client.submit(window_task, model_f, self.key, self.engine, self.backend, self.raster_path,
                                      job, windows[nxt], pure=False, key=f"hypersnn-window-{run}-{r0}-{c0}")
                    inflight[f] = nxt
                    nxt += 1
                    self.tasks += 1
                if done in ready:
                    res = ready.pop(done)
                    done += 1
                    yield res
                    continue
                try:
                    wait(list(inflight), timeout=self.POLL_S, return_when="FIRST_COMPLETED")
                except TimeoutError:
                    continue
                for f in [f for f in inflight if f.done()]:
                    i = inflight.pop(f)
                    try:
                        ready[i] = f.result()
                    except KilledWorker as e:
                        raise HyperSNNError(f"window {windows[i]} of {self.raster_path}: every worker that ran it "
                                            f"died ({e}); see the workers' logs") from None
                    if self.on_result:
                        self.on_result(i, ready[i])
        finally:
            if inflight:
                client.cancel(list(inflight))
            model_f.release()
