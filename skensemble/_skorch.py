"""The shared training core for torch modules with ensemble-shaped outputs.

A module returns ``(batch, k, ...)``: one prediction per member. The loss is the
mean of the k per-member losses (never the loss of the mean prediction), each
member may see its own shuffled batches, and the public estimators wrap the
:class:`EnsembleNet` (has-a), so they keep flat scikit-learn parameters while
skorch provides callbacks, history and device handling.
"""

import torch
from skorch import NeuralNet
from skorch.callbacks import Callback, EarlyStopping, GradientNormClipping
from torch.nn import functional as F
from torch.utils.data import Dataset


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
    """

    def __init__(self, data, batch_size, *, k, shuffle, member_batches, generator):
        self.data = data
        self.batch_size = batch_size
        self.k = k
        self.shuffle = shuffle
        self.member_batches = member_batches
        self.generator = generator

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
            yield self.data.batch(index, self.k)


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
            score = self.score_fn(torch.cat(self._preds), torch.cat(self._targets))
            net.history.record("valid_score", float(score))
        self._preds, self._targets = [], []


class ProgressReport(Callback):
    """One line (or one tqdm bar step) per epoch when the estimator is verbose."""

    def __init__(self, max_epochs, name):
        self.max_epochs = max_epochs
        self.name = name

    def on_train_begin(self, net, **kwargs):
        from tqdm.auto import tqdm

        self._bar = tqdm(total=self.max_epochs, desc=self.name, leave=True)

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
        return BatchIterator(
            dataset,
            self.batch_size,
            k=self.k,
            shuffle=training,
            member_batches=training and self.member_batches,
            generator=self.generator,
        )

    def get_loss(self, y_pred, y_true, X=None, training=False):
        per_member = self.criterion_(y_pred, y_true["y"])
        weight = y_true.get("w")
        if weight is None:
            return per_member.mean()
        total = weight.sum(dim=0).clamp_min(torch.finfo(weight.dtype).tiny)
        return ((per_member * weight).sum(dim=0) / total).mean()

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
