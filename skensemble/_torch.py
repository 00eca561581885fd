"""Torch plumbing shared by every torch estimator: device, seeds, tensors.

Nothing here is imported by ``skensemble/__init__.py``, so importing the package
stays cheap; torch is loaded the first time a torch estimator is fitted.
"""

import contextlib
import sys

import numpy as np
import torch
from joblib import cpu_count

from ._distributed import local_device

_MAX_SEED = 2**31 - 1


def resolve_device(device):
    """Turn ``device`` ("auto", "cpu", "cuda", "cuda:N", "mps") into a ``torch.device``.

    "auto" picks CUDA when it is available and the CPU otherwise. A device that
    is named explicitly but not available raises a ``ValueError`` that says so.
    Under a data-parallel process group "auto" and "cuda" are this rank's GPU
    (``cuda:LOCAL_RANK``).
    """
    mine = local_device(device)
    if mine is not None:
        return mine
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    resolved = torch.device(device)
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} was requested but CUDA is not available.")
    if resolved.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"device={device!r} was requested but MPS is not available.")
    return resolved


def valid_device_string(device):
    """Whether ``device`` is a device name we accept (used in parameter checks)."""
    if not isinstance(device, str):
        return False
    if device in ("auto", "cpu", "cuda", "mps"):
        return True
    return device.startswith("cuda:") and device[5:].isdigit()


def check_device(device):
    """Raise a ``ValueError`` naming the accepted values if ``device`` is not one."""
    if not valid_device_string(device):
        raise ValueError(
            f"device must be 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps'; got {device!r}."
        )


def draw_seed(random_state):
    """Draw one integer seed from a ``numpy.random.RandomState``."""
    return int(random_state.randint(0, _MAX_SEED))


def make_generator(seed, device="cpu"):
    """A ``torch.Generator`` on ``device`` seeded with ``seed``."""
    generator = torch.Generator(device=device)
    generator.manual_seed(int(seed))
    return generator


@contextlib.contextmanager
def seeded(seed, device):
    """Seed torch's global RNG for the block without leaking into the caller's RNG.

    Module initialisation and dropout draw from the global generator; forking it
    keeps results reproducible from ``random_state`` while leaving the user's own
    torch random stream untouched.
    """
    devices = [device] if torch.device(device).type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(int(seed))
        yield


def as_tensor(array, device, dtype=torch.float32):
    """A contiguous tensor on ``device`` from a numpy array, copying only if needed.

    Read-only arrays (memory maps, arrays shared by joblib) are copied, since
    torch cannot share memory it may not write.
    """
    array = np.ascontiguousarray(array)
    if not array.flags.writeable:
        array = array.copy()
    return torch.as_tensor(array, dtype=dtype, device=device)


def _dask_threads_in_process():
    """Task threads of the Dask workers in this process, or 0 outside a worker.

    Only looks at ``distributed`` if something already imported it: a process
    that never started a worker must not pay for the import.
    """
    distributed = sys.modules.get("distributed")
    if distributed is None:
        return 0
    try:
        worker = distributed.get_worker()
    except ValueError:
        return 0
    # Several workers may share one process (LocalCluster(processes=False));
    # they all run tasks at once, so their threads share the cores.
    workers = getattr(type(worker), "_instances", None) or [worker]
    return sum(w.state.nthreads for w in list(workers) if w.status.name == "running")


def worker_thread_budget():
    """Intra-op torch threads one task may use here, or None outside a worker.

    Inside a Dask worker every task thread of the process runs at once, so a
    task's fair share is the CPUs this process may use divided by those
    threads (at least 1). Worker processes started by a Dask nanny or by
    joblib's loky backend already get ``OMP_NUM_THREADS`` set to their share,
    which torch reads at import; the budget never exceeds what torch would use
    anyway.
    """
    threads = _dask_threads_in_process()
    if threads == 0:
        return None
    return max(1, min(torch.get_num_threads(), cpu_count() // threads))


@contextlib.contextmanager
def worker_threads():
    """Limit torch's intra-op threads to the task's share for the block.

    Outside a Dask worker, or when torch already uses no more threads than the
    share, nothing changes. The previous setting is restored on exit, so no
    global state outlives the block.
    """
    budget = worker_thread_budget()
    previous = torch.get_num_threads()
    if budget is None or budget >= previous:
        yield
        return
    torch.set_num_threads(budget)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
