"""Torch plumbing shared by every torch estimator: device, seeds, tensors.

Nothing here is imported by ``skensemble/__init__.py``, so importing the package
stays cheap; torch is loaded the first time a torch estimator is fitted.
"""

import contextlib

import numpy as np
import torch

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
