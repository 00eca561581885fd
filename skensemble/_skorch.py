"""The shared training core for torch modules with ensemble-shaped outputs.

A module returns ``(batch, k, ...)``: one prediction per member. The loss is the
mean of the k per-member losses (never the loss of the mean prediction), each
member may see its own shuffled batches, and the public estimators wrap the
:class:`EnsembleNet` (has-a), so they keep flat scikit-learn parameters while
skorch provides callbacks, history and device handling.

Under a ``torch.distributed`` process group of several ranks (``torchrun``) the
same loop trains data-parallel: see :mod:`skensemble._distributed`.
"""

import torch
from skorch import NeuralNet
from skorch.callbacks import Callback, EarlyStopping, GradientNormClipping
from torch.nn import functional as F
from torch.utils.data import Dataset

from . import _distributed as distributed


class TensorData(Dataset):
    """Model inputs, targets and sample weights held as tensors on one device.

    ``inputs`` is a dict of ``(n, ...)`` tensors passed to the module as keyword
    arguments; ``y`` and ``sample_weight`` may be None (prediction).
    """

    def __init__(self, inputs, y=None, sample_weight=None):
        self.inputs = {key: value for key, value in inputs.items() if value is not None}
        self.y = y
        self.sample_weight = sample_weight

    def __len__(self):
        return len(next(iter(self.inputs.values())))

    def __getitem__(self, index):
        raise TypeError("TensorData is read in batches by BatchIterator only.")

    def batch(self, index, k):
        """Rows ``index`` of every tensor; a (b, k) index gives member batches.

        Targets and weights always get a member axis, so the criterion sees
        predictions and targets of matching leading shape ``(b, k)``.
        """
        inputs = {key: value[index] for key, value in self.inputs.items()}
        target = {}
        if self.y is not None:
            target["y"] = self._with_member_axis(self.y[index], index, k)
        if self.sample_weight is not None:
            target["w"] = self._with_member_axis(self.sample_weight[index], index, k)
        return inputs, target

    @staticmethod
    def _with_member_axis(values, index, k):
        if index.ndim == 2:
            return values
        return values.unsqueeze(1).expand(len(values), k, *values.shape[1:])


class BatchIterator:
    """Mini-batches over a :class:`TensorData`, re-shuffled on every pass.

    With ``member_batches=True`` each of the k members gets its own permutation
    of the rows (the TabM paper's training), so batch ``b`` is a ``(b, k)``
    index: k full-sized batches, not one batch split k ways.

    With ``ranks=(rank, world_size)`` every rank draws the same global order
    (the generators are seeded alike) and yields only its shard of every global
    batch; the targets then also carry ``shard`` (where the rows sit in the
    global batch) and, with sample weights, ``total``: every member's weight
    sum over the global batch, the denominator of its weighted mean.
    """

    def __init__(
        self, data, batch_size, *, k, shuffle, member_batches, generator, ranks=None
    ):
        self.data = data
        self.batch_size = batch_size
        self.k = k
        self.shuffle = shuffle
        self.member_batches = member_batches
        self.generator = generator
        self.ranks = ranks

    def __len__(self):
        return -(-len(self.data) // self.batch_size)

    def __iter__(self):
        n = len(self.data)
        device = next(iter(self.data.inputs.values())).device
        if not self.shuffle:
            order = torch.arange(n)
        elif self.member_batches:
            order = torch.rand(n, self.k, generator=self.generator).argsort(dim=0)
        else:
            order = torch.randperm(n, generator=self.generator)
        for index in order.to(device).split(self.batch_size):
            if self.ranks is None:
                yield self.data.batch(index, self.k)
            else:
                yield self._shard_batch(index)

    def _shard_batch(self, index):
        local, where = distributed.shard(index, *self.ranks)
        inputs, target = self.data.batch(local, self.k)
        target["shard"] = where
        if self.data.sample_weight is not None:
            weight = self.data.sample_weight[index]
            target["total"] = self.data._with_member_axis(weight, index, self.k).sum(0)
        return inputs, target


class MemberSquaredError(torch.nn.Module):
    """Squared error of every member, averaged over outputs: ``(b, k)``."""

    def forward(self, y_pred, y_true):
        return (y_pred - y_true.reshape(y_pred.shape)).square().mean(dim=-1)


class MemberCrossEntropy(torch.nn.Module):
    """Cross-entropy of every member's logits: ``(b, k)``."""

    def forward(self, y_pred, y_true):
        loss = F.cross_entropy(
            y_pred.flatten(0, 1), y_true.flatten(0, 1), reduction="none"
        )
        return loss.view(y_pred.shape[:2])


class MemberPinball(torch.nn.Module):
    """Pinball loss over all quantile levels for every member: ``(b, k)``.

    Predictions are ``(b, k, n_outputs * n_quantiles)`` with the quantile axis
    last; targets are ``(b, k, n_outputs)``.
    """

    def __init__(self, quantiles):
        super().__init__()
        self.register_buffer("quantiles", torch.as_tensor(quantiles).float())

    def forward(self, y_pred, y_true):
        levels = len(self.quantiles)
        y_pred = y_pred.unflatten(-1, (-1, levels))
        diff = y_true.reshape(*y_pred.shape[:-1], 1) - y_pred
        loss = torch.maximum(self.quantiles * diff, (self.quantiles - 1) * diff)
        return loss.mean(dim=(-2, -1))


class ValidationScore(Callback):
    """Score the validation predictions of every epoch into ``valid_score``.

    ``score_fn(y_pred, y_true)`` receives the concatenated ``(n, k, ...)``
    member outputs and the targets (without member axis) as CPU tensors and
    returns a float. Predictions are collected from the validation steps, so
    nothing is computed twice.
    """

    def __init__(self, score_fn):
        self.score_fn = score_fn

    def on_epoch_begin(self, net, **kwargs):
        self._preds, self._targets = [], []

    def on_batch_end(self, net, batch, training, y_pred=None, **kwargs):
        if not training:
            self._preds.append(y_pred.detach())
            self._targets.append(batch[1]["y"][:, 0])

    def on_epoch_end(self, net, **kwargs):
        if self._preds:
            y_pred, y_true = torch.cat(self._preds), torch.cat(self._targets)
            score = self.score_fn(y_pred.cpu(), y_true.cpu())
            if distributed.is_distributed():  # early stopping must agree
                distributed.check_same_on_all_ranks(
                    [len(net.history), *_float_bits(score)], "validation score"
                )
            net.history.record("valid_score", float(score))
        self._preds, self._targets = [], []


class ProgressReport(Callback):
    """One line (or one tqdm bar step) per epoch when the estimator is verbose."""

    def __init__(self, max_epochs, name):
        self.max_epochs = max_epochs
        self.name = name

    def on_train_begin(self, net, **kwargs):
        from tqdm.auto import tqdm

        rank = distributed.rank_and_world_size()[0]  # one bar, not one per rank
        self._bar = tqdm(
            total=self.max_epochs, desc=self.name, leave=True, disable=rank > 0
        )

    def on_epoch_end(self, net, **kwargs):
        row = net.history[-1]
        shown = {"loss": row.get("train_loss")}
        if "valid_score" in row:
            shown["valid"] = row["valid_score"]
        self._bar.set_postfix(
            {k: f"{v:.4f}" for k, v in shown.items() if v is not None}
        )
        self._bar.update(1)

    def on_train_end(self, net, **kwargs):
        self._bar.close()

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("_bar", None)
        return state


class EnsembleNet(NeuralNet):
    """skorch ``NeuralNet`` for modules whose output is ``(batch, k, ...)``.

    The criterion returns the ``(b, k)`` per-sample, per-member losses; the loss
    of a batch is the mean over members of each member's (sample-weighted) mean
    loss, so the k members are trained as k models, not as one averaged model.

    Parameters
    ----------
    k : int
        Number of members (the size of the second output axis).
    batch_size : int
    member_batches : bool
        Give every member its own batch order (otherwise all share one).
    generator : torch.Generator
        Source of the batch orders.
    **kwargs
        Passed to :class:`skorch.NeuralNet` (module, criterion, optimizer,
        callbacks, device, ...).
    """

    def __init__(self, module, criterion, *, k, member_batches, generator, **kwargs):
        super().__init__(module, criterion, **kwargs)
        self.k = k
        self.member_batches = member_batches
        self.generator = generator

    def _set_training(self, training=True):
        # skorch switches the mode on every step; walking the module tree costs
        # as much as a small model's forward pass, so only switch on a change.
        if self.module_.training != training:
            super()._set_training(training)

    def get_dataset(self, X, y=None):
        if not isinstance(X, TensorData):
            raise TypeError("EnsembleNet reads TensorData only.")
        return X

    def get_iterator(self, dataset, training=False):
        rank, world_size = distributed.rank_and_world_size()
        return BatchIterator(
            dataset,
            self.batch_size,
            k=self.k,
            shuffle=training,
            member_batches=training and self.member_batches,
            generator=self.generator,
            ranks=(rank, world_size) if training and world_size > 1 else None,
        )

    def get_loss(self, y_pred, y_true, X=None, training=False):
        where = y_true.get("shard")
        if where is not None:
            return self._shard_loss(y_pred, y_true, where)
        per_member = self.criterion_(y_pred, y_true["y"])
        weight = y_true.get("w")
        if weight is None:
            return per_member.mean()
        total = weight.sum(dim=0).clamp_min(torch.finfo(weight.dtype).tiny)
        return ((per_member * weight).sum(dim=0) / total).mean()

    def _shard_loss(self, y_pred, y_true, where):
        """This rank's share of the global batch loss: sums over ranks to it."""
        with distributed.batch_shard(where):
            per_member = self.criterion_(y_pred, y_true["y"])
        weight = y_true.get("w")
        if weight is None:
            return (per_member.sum(dim=0) / where.size).mean()
        total = y_true["total"].clamp_min(torch.finfo(weight.dtype).tiny)
        return ((per_member * weight).sum(dim=0) / total).mean()

    # -- data-parallel training (no-ops without a process group) ---------------------
    def on_train_begin(self, net, X=None, y=None, **kwargs):
        super().on_train_begin(net, X=X, y=y, **kwargs)
        rank, world_size = distributed.rank_and_world_size()
        if world_size == 1:
            return
        n_params = sum(p.numel() for _, p in self.get_all_learnable_params())
        distributed.check_same_on_all_ranks(
            [len(X), n_params, self.batch_size, self.k, self.max_epochs],
            "training rows, parameter count, batch size, k and max_iter",
        )
        distributed.broadcast_module(self.module_)
        if rank:  # rank 0 keeps the single-process dropout stream
            torch.manual_seed((torch.initial_seed() + rank) % 2**63)

    def train_step_single(self, batch, **fit_params):
        step = super().train_step_single(batch, **fit_params)
        if batch[1].get("shard") is not None:
            parameters = [p for _, p in self.get_all_learnable_params()]
            step["loss"] = distributed.all_reduce_gradients(
                parameters, step["loss"], self.module_
            )
        return step

    def on_batch_end(self, net, batch=None, training=None, **kwargs):
        super().on_batch_end(net, batch=batch, training=training, **kwargs)
        where = batch[1].get("shard") if training else None
        if where is not None:  # the epoch's train_loss weights global batches
            self.history.record_batch("train_batch_size", where.size)

    def predict_members(self, data):
        """Raw module outputs ``(n, k, ...)`` for every row, in eval mode, on CPU."""
        return torch.cat(list(self.forward_iter(data, training=False)))

    def __getstate__(self):
        state = super().__getstate__()
        state["generator"] = self.generator.get_state()
        return state

    def __setstate__(self, state):
        generator_state = state.pop("generator")
        super().__setstate__(state)
        self.generator = torch.Generator()
        self.generator.set_state(generator_state)


def _float_bits(value):
    """A float as an integer with the same bits, for exact comparisons across ranks."""
    return [torch.tensor(float(value), dtype=torch.float64).view(torch.int64).item()]


def _silent(*args, **kwargs):
    """Discard EarlyStopping's messages; progress is shown by ProgressReport."""


def training_callbacks(
    *,
    score_fn,
    lower_is_better,
    patience,
    gradient_clipping,
    verbose,
    max_epochs,
    name,
):
    """The callbacks every ensemble estimator uses, in the order they must run."""
    callbacks = []
    if score_fn is not None:
        callbacks.append(("valid_score", ValidationScore(score_fn)))
        callbacks.append(
            (
                "early_stopping",
                EarlyStopping(
                    monitor="valid_score",
                    patience=patience,
                    threshold=0.0,
                    threshold_mode="abs",
                    lower_is_better=lower_is_better,
                    load_best=True,
                    sink=_silent,
                ),
            )
        )
    if gradient_clipping is not None:
        callbacks.append(
            ("clip", GradientNormClipping(gradient_clip_value=gradient_clipping))
        )
    if verbose:
        callbacks.append(("progress", ProgressReport(max_epochs, name)))
    return callbacks


def mean_member_proba(logits):
    """Average of the members' softmax probabilities: ``(n, k, C) -> (n, C)``."""
    return logits.softmax(dim=-1).mean(dim=1)


def history_arrays(net):
    """Loss curve, validation scores and the number of epochs run of a trained net."""
    loss_curve = [float(v) for v in net.history[:, "train_loss"]]
    scores = [row["valid_score"] for row in net.history if "valid_score" in row]
    return loss_curve, [float(s) for s in scores], len(net.history)


def member_accuracy(y_pred, y_true):
    """Accuracy of the averaged member probabilities (higher is better)."""
    hits = mean_member_proba(y_pred).argmax(dim=-1) == y_true
    return hits.double().mean().item()


def member_rmse(y_pred, y_true):
    """RMSE of the averaged member outputs, in the model's target scale."""
    error = y_pred.mean(dim=1) - y_true.reshape(len(y_true), -1)
    return error.double().square().mean().sqrt().item()
