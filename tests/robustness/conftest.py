"""The robustness matrix (issue 5): bad input, faults and untrusted files. Helpers: robust_helpers.py."""
import pytest
import torch

from robust_helpers import fast_config, scene_labels, scene_reader


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Tiny networks run fastest on one thread, and on a busy machine OpenMP's spinning threads make
    them up to 40x slower: pin one thread here (restored afterwards, so other tests keep theirs)."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture(scope="session")
def reference(tmp_path_factory):
    """One uninterrupted training run of the synthetic scene with `fast_config()` (the yardstick for
    resumed, canceled, streamed and repeated runs): (model path, its bytes, TrainOutcome)."""
    from hypersnn.core.training import pipeline

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        path = tmp_path_factory.mktemp("reference") / "reference.hsnn"
        out = pipeline.train(scene_reader(), scene_labels(), fast_config(), str(path))
    finally:
        torch.set_num_threads(n)
    return path, path.read_bytes(), out
