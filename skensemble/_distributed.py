"""Data-parallel training over a ``torch.distributed`` process group.

When a process group is initialised (as under ``torchrun``) and holds more than
one process, the shared training core (:mod:`skensemble._skorch`) trains one
model on several processes ("ranks"): every rank draws the same global batch
order, takes its contiguous shard of every global batch, and the gradients of
the shards are summed so each step equals the step of one process on the whole
global batch. Everything rank-related lives here, once:

* who am I (:func:`rank_and_world_size`), which device is mine
  (:func:`local_device`), which rows of a global batch are mine (:func:`shard`);
* collectives: summing gradients (:func:`all_reduce_gradients`), broadcasting
  the initial model (:func:`broadcast_module`), one random seed for all
  (:func:`shared_random_state`), a guard against ranks that fit different data
  (:func:`check_same_on_all_ranks`);
* :func:`batch_shard` / :func:`gather_batch` for criteria that need the whole
  global batch (EnsLoss ranks the margins of a batch).

Without a process group every function is a cheap no-op, so single-process
training is unchanged.
"""

import contextlib
import os
from dataclasses import dataclass

import numpy as np
import torch
from sklearn.utils import check_random_state
from torch import distributed as dist
from torch.nn.modules.batchnorm import _BatchNorm

_MAX_SEED = 2**31 - 1


def rank_and_world_size():
    """``(rank, world_size)`` of this process; ``(0, 1)`` without a process group."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def is_distributed():
    """Whether training runs data-parallel: a process group of two or more ranks."""
    return rank_and_world_size()[1] > 1


def local_device(device):
    """The device of this rank for a ``device`` parameter, or None to keep it.

    Under a process group "auto" and "cuda" mean "my GPU": ``cuda:LOCAL_RANK``
    (``torchrun`` sets ``LOCAL_RANK``). An explicit ``cuda:N`` is kept. The
    nccl backend only moves CUDA tensors, so a CPU device raises an error.
    """
    if not is_distributed():
        return None
    nccl = dist.get_backend() == "nccl"
    if device in ("auto", "cuda") and torch.cuda.is_available():
        return _local_gpu()
    if nccl and (device == "cpu" or not torch.cuda.is_available()):
        raise ValueError(
            "The process group uses the nccl backend, which needs CUDA tensors, "
            f"but device={device!r} resolves to the CPU. Use device='auto' on a "
            "machine with GPUs, or initialise the group with backend='gloo'."
        )
    return None


def _local_gpu():
    local_rank = int(os.environ.get("LOCAL_RANK", 0))
    return torch.device("cuda", local_rank % torch.cuda.device_count())


def _comm_device():
    """Device of the tensors a collective runs on (gloo: CPU, nccl: this rank's GPU)."""
    if dist.get_backend() == "nccl":
        return _local_gpu()
    return torch.device("cpu")


@dataclass(frozen=True)
class Shard:
    """This rank's contiguous rows ``[start, stop)`` of a global batch of ``size``."""

    start: int
    stop: int
    size: int
    world_size: int


def shard(index, rank, world_size):
    """This rank's rows of a global batch index and where they sit in it.

    The first ``size % world_size`` ranks get one row more (as
    ``torch.tensor_split``); a rank may get no rows when the global batch has
    fewer rows than there are ranks.

    Parameters
    ----------
    index : torch.Tensor of shape (size,) or (size, k)
        Global batch rows (one column per member for member batches).
    rank, world_size : int

    Returns
    -------
    local : torch.Tensor
        ``index[start:stop]``.
    where : Shard
    """
    size = len(index)
    base, extra = divmod(size, world_size)
    start = rank * base + min(rank, extra)
    stop = start + base + (1 if rank < extra else 0)
    return index[start:stop], Shard(start, stop, size, world_size)


_current_shard = None


@contextlib.contextmanager
def batch_shard(where):
    """Mark the running loss computation as the shard ``where`` of a global batch."""
    global _current_shard
    previous, _current_shard = _current_shard, where
    try:
        yield
    finally:
        _current_shard = previous


def gather_batch(local):
    """The whole global batch of a per-row tensor, and the rows that are this rank's.

    Inside :func:`batch_shard` the rows of every rank are all-gathered (no
    gradient flows through the result); outside, ``local`` itself is returned
    with ``slice(None)``. A criterion that needs the whole batch (EnsLoss ranks
    the margins of a batch) computes on the first value and keeps the second's
    rows, so it gives exactly the single-process values.
    """
    where = _current_shard
    if where is None:
        return local, slice(None)
    width = -(-where.size // where.world_size)
    padded = local.new_zeros((width, *local.shape[1:]))
    padded[: len(local)] = local.detach()
    device = _comm_device()
    parts = [torch.empty_like(padded, device=device) for _ in range(where.world_size)]
    dist.all_gather(parts, padded.to(device))
    rows = []
    for rank, part in enumerate(parts):
        _, bounds = shard(torch.empty(where.size), rank, where.world_size)
        rows.append(part[: bounds.stop - bounds.start])
    return torch.cat(rows).to(local.device), slice(where.start, where.stop)


def all_reduce_gradients(parameters, loss, module):
    """Sum gradients and the loss over ranks; average BatchNorm running statistics.

    Every rank's loss is its shard's share of the global batch loss (divided by
    the global batch size or weight total), so the sum of the shards' gradients
    is the gradient of the global batch. A parameter without a gradient counts
    as zeros. Everything travels in one flat buffer: one collective per step.

    Returns
    -------
    loss : torch.Tensor
        The loss of the global batch (a detached scalar).
    """
    parameters = list(parameters)
    for param in parameters:
        if param.grad is None:
            param.grad = torch.zeros_like(param)
    world_size = rank_and_world_size()[1]
    stats = running_statistics(module)
    flat = torch.cat(
        [param.grad.reshape(-1) for param in parameters]
        + [stat.reshape(-1) / world_size for stat in stats]
        + [loss.detach().reshape(1).to(parameters[0].grad.dtype)]
    )
    device = flat.device
    flat = flat.to(_comm_device())
    dist.all_reduce(flat, op=dist.ReduceOp.SUM)
    flat = flat.to(device)
    offset = 0
    for tensor in [param.grad for param in parameters] + stats:
        tensor.copy_(flat[offset : offset + tensor.numel()].view_as(tensor))
        offset += tensor.numel()
    return flat[offset]


def running_statistics(module):
    """Running means and variances of the BatchNorm layers of ``module``.

    Each rank normalises with the statistics of its own shard (as plain DDP
    does); these running estimates are averaged over ranks after every step so
    that all ranks keep the same model.
    """
    stats = []
    for layer in module.modules():
        if isinstance(layer, _BatchNorm) and layer.track_running_stats:
            stats += [layer.running_mean, layer.running_var]
    return stats


def broadcast_module(module):
    """Copy rank 0's parameters and buffers to every rank."""
    for tensor in list(module.parameters()) + list(module.buffers()):
        device = _comm_device()
        data = tensor.detach().to(device)
        dist.broadcast(data, src=0)
        with torch.no_grad():
            tensor.copy_(data)


def shared_random_state(random_state):
    """``check_random_state`` whose result is the same on every rank.

    An integer seeds every rank alike already; otherwise (None, a
    ``RandomState``) rank 0 draws a seed and broadcasts it, so the validation
    split, the preprocessing and the batch order agree across ranks.
    """
    if not is_distributed() or isinstance(random_state, (int, np.integer)):
        return check_random_state(random_state)
    seed = torch.tensor([check_random_state(random_state).randint(0, _MAX_SEED)])
    seed = seed.to(_comm_device())
    dist.broadcast(seed, src=0)
    return np.random.RandomState(int(seed.item()))


def check_same_on_all_ranks(values, what):
    """Raise the same error on every rank if the integers ``values`` differ.

    Ranks that fit different data would otherwise wait for each other's
    collectives forever (or silently train on mismatched batches).
    """
    mine = torch.tensor([int(v) for v in values], device=_comm_device())
    parts = [torch.empty_like(mine) for _ in range(rank_and_world_size()[1])]
    dist.all_gather(parts, mine)
    parts = [part.cpu() for part in parts]
    if any(not torch.equal(part, parts[0]) for part in parts):
        table = ", ".join(
            f"rank {rank}: {part.tolist()}" for rank, part in enumerate(parts)
        )
        raise RuntimeError(
            f"Data-parallel fit needs the same {what} on every rank; got {table}. "
            "Give every rank the same data and parameters."
        )
