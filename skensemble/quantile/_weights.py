"""Torch aggregation heads: softmax weights over base models (and levels).

A head maps base quantiles ``z`` of shape (batch, n_models, n_levels) to
aggregated quantiles (batch, n_levels). Global heads learn one set of logits;
local heads compute the logits from the features with a small MLP, as in the
deep quantile aggregation (DQA) of Fakoor et al. (2023).
"""

import math

import numpy as np
import torch
from joblib import Parallel, delayed
from sklearn.model_selection import ParameterSampler
from torch import nn

from skensemble._torch import (
    as_tensor,
    draw_seed,
    make_generator,
    seeded,
    worker_threads,
)


def _initial_logits(granularity, n_models, n_levels):
    """Logits whose softmax averages the models at the same level.

    For the fine (cross-level) family, same-level inputs start with 90% of the
    weight, so training starts from the equal-weight average instead of an
    average over all levels, which would predict one value for every level.
    """
    if granularity == "coarse":
        return torch.zeros(n_models)
    if granularity == "medium":
        return torch.zeros(n_models, n_levels)
    boost = math.log(9.0 * max(n_levels - 1, 1))
    same_level = torch.eye(n_levels).repeat(n_models, 1)
    return boost * same_level


class AggregationHead(nn.Module):
    """Softmax-weighted combination of base-model quantiles.

    Parameters
    ----------
    n_models, n_levels : int
        Shape of the base predictions per sample.
    granularity : {"coarse", "medium", "fine"}
        One weight per model, per model and level, or per model, input level
        and output level.
    n_features : int or None
        Features of the local weight network; ``None`` for global weights.
    hidden_size, n_layers, dropout : int, int, float
        Size of the local weight network (ignored for global weights).
    """

    def __init__(
        self,
        n_models,
        n_levels,
        granularity,
        n_features=None,
        hidden_size=64,
        n_layers=2,
        dropout=0.0,
    ):
        super().__init__()
        self.n_models = n_models
        self.n_levels = n_levels
        self.granularity = granularity
        initial = _initial_logits(granularity, n_models, n_levels)
        self.logit_shape = tuple(initial.shape)
        if n_features is None:
            self.logits = nn.Parameter(initial)
            self.network = None
        else:
            layers = [nn.Linear(n_features, hidden_size), nn.ELU()]
            for _ in range(n_layers - 1):
                layers += [nn.Dropout(dropout), nn.Linear(hidden_size, hidden_size)]
                layers.append(nn.ELU())
            output = nn.Linear(hidden_size, initial.numel())
            # Zero weights and the initial logits as bias: training starts from
            # the same average as the global heads, whatever the features.
            nn.init.zeros_(output.weight)
            with torch.no_grad():
                output.bias.copy_(initial.reshape(-1))
            layers.append(output)
            self.network = nn.Sequential(*layers)

    def weights(self, x):
        """Softmax weights of shape (batch or 1, *logit_shape)."""
        if self.network is None:
            logits = self.logits.unsqueeze(0)
        else:
            logits = self.network(x).reshape(x.shape[0], *self.logit_shape)
        return torch.softmax(logits, dim=1)

    def forward(self, x, z):
        weights = self.weights(x)
        if self.granularity == "coarse":
            return torch.einsum("bp,bpm->bm", weights.expand(z.shape[0], -1), z)
        if self.granularity == "medium":
            return (weights * z).sum(dim=1)
        flat = z.reshape(z.shape[0], -1)
        if self.network is None:
            return flat @ weights[0]
        return torch.einsum("bk,bkm->bm", flat, weights)


def _average(per_element, weight):
    """Mean of ``per_element`` (rows first); rows weighted when ``weight`` is given."""
    if weight is None:
        return per_element.mean()
    per_row = per_element.mean(dim=1)
    return (per_row * weight).sum() / weight.sum().clamp_min(1e-12)


def pinball(prediction, target, levels, weight=None):
    residual = target[:, None] - prediction
    return _average(torch.maximum(levels * residual, (levels - 1) * residual), weight)


def crossing(prediction, margin=0.0, weight=None):
    """Mean hinge ``(q_i - q_j + margin)_+`` over all level pairs ``i < j``.

    Fakoor et al.'s crossing penalty (eq. 19 of the paper, ``margin_loss`` of
    their code): every pair of levels, not only neighbours, and a margin that
    asks levels to be at least ``margin`` apart (in standardised target units).
    """
    n_levels = prediction.shape[1]
    if n_levels < 2:
        return prediction.new_zeros(())
    lower, upper = torch.triu_indices(n_levels, n_levels, 1, device=prediction.device)
    hinge = torch.relu(prediction[:, lower] - prediction[:, upper] + margin)
    return _average(hinge, weight)


def auto_batch_size(n_samples):
    """The paper's rule 2**(3 + floor(log10 n)), kept between 32 and 512."""
    size = 2 ** (3 + int(math.floor(math.log10(max(n_samples, 1)))))
    return int(min(max(size, 32), 512, max(n_samples, 1)))


class _EarlyStopping:
    """Validation pinball loss, best parameters and patience of one training."""

    def __init__(self, head, validation, levels, settings):
        self.head, self.validation, self.levels = head, validation, levels
        self.settings = settings
        self.scores, self.best_score, self.best_state, self.waited = [], np.inf, None, 0

    def check(self, label):
        """Score the head; return True when the patience is used up."""
        self.head.eval()
        with torch.no_grad():
            features, base, target, weight = self.validation
            prediction = self.head(features, base)
            score = float(pinball(prediction, target, self.levels, weight))
        self.head.train()
        self.scores.append(score)
        if self.settings["verbose"] > 0:
            print(f"{label}  validation pinball {score:.5f}")
        if score < self.best_score - self.settings["tol"]:
            self.best_score, self.waited = score, 0
            self.best_state = {
                k: v.detach().clone() for k, v in self.head.state_dict().items()
            }
            return False
        self.waited += 1
        return self.waited >= self.settings["n_iter_no_change"]


def train_head(head, train, validation, levels, settings, seed, device):
    """Fit ``head`` by Adam on the pinball loss with early stopping.

    ``train`` and ``validation`` are (features, base predictions, targets,
    sample weights or None) numpy tuples. The validation loss is computed
    after every epoch, or every ``settings["validation_interval"]`` optimizer
    steps when that is set (the paper's schedule: every 100 steps, stopping
    after 5 checks = 500 steps without gain). The head keeps the parameters
    of its best check. Returns (loss_curve, validation_scores) as lists of
    floats: the training loss per epoch and the validation loss per check.
    """
    head.to(device)
    levels_t = as_tensor(levels, device)
    features, base, target, weight = (_tensor(part, device) for part in train)
    stopping = _EarlyStopping(
        head,
        tuple(_tensor(part, device) for part in validation),
        levels_t,
        settings,
    )
    optimizer = torch.optim.Adam(
        head.parameters(),
        lr=settings["learning_rate"],
        weight_decay=settings["weight_decay"],
        amsgrad=True,
    )
    generator = make_generator(seed)
    n_samples = target.shape[0]
    batch_size = settings["batch_size"]
    if batch_size == "auto":
        batch_size = auto_batch_size(n_samples)
    batch_size = min(batch_size, n_samples)
    penalty = settings["crossing_penalty"]
    margin = settings["crossing_margin"]
    interval = settings["validation_interval"]
    loss_curve, steps, stop = [], 0, False
    for epoch in range(settings["max_iter"]):
        head.train()
        order = torch.randperm(n_samples, generator=generator).to(device)
        epoch_loss, seen = 0.0, 0
        for start in range(0, n_samples, batch_size):
            batch = order[start : start + batch_size]
            prediction = head(features[batch], base[batch])
            batch_weight = None if weight is None else weight[batch]
            loss = pinball(prediction, target[batch], levels_t, batch_weight)
            if penalty > 0:
                loss = loss + penalty * crossing(prediction, margin, batch_weight)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            epoch_loss += float(loss.detach()) * batch.shape[0]
            seen += batch.shape[0]
            steps += 1
            if interval is not None and steps % interval == 0:
                stop = stopping.check(f"step {steps:6d}")
                if stop:
                    break
        loss_curve.append(epoch_loss / seen)
        if interval is None:
            stop = stopping.check(
                f"epoch {epoch + 1:4d}  train pinball {loss_curve[-1]:.5f}"
            )
        if stop:
            break
    if stopping.best_state is not None:
        head.load_state_dict(stopping.best_state)
    head.eval()
    return loss_curve, stopping.scores


_TRAINING_SETTINGS = (
    "learning_rate",
    "weight_decay",
    "batch_size",
    "max_iter",
    "n_iter_no_change",
    "validation_interval",
    "tol",
    "crossing_penalty",
    "crossing_margin",
    "verbose",
)


# Fakoor et al.'s random-search space: their code's NETWORK_PARAM_GRID plus
# QUANTILE_LOSS_PARAM_GRID_FIX, the grid of the crossing penalty with a
# single margin (the code's default, `--margin single`), which fixes the
# learning rate at 1e-3 and the weight decay at 1e-7. Their other grid
# (learning rate in {1e-3, 5e-4}, margin *scales*) belongs to the adaptive
# margin and to runs without a penalty, which this package does not implement,
# so the learning rate is not searched here.
SEARCH_SPACE = {
    "crossing_penalty": [0.5, 1.0, 2.0, 5.0, 10.0],
    "crossing_margin": [1e-4, 1e-3, 5e-3, 7.5e-3, 9.9e-3],
}
LOCAL_SEARCH_SPACE = {
    "hidden_size": [64, 128],
    "n_layers": [2, 3],
    "dropout": [0.0, 0.05, 0.1],
}


def search_candidates(params, seed):
    """The aggregator's own settings, then ``n_search - 1`` random draws.

    Draws come from :data:`SEARCH_SPACE` (and :data:`LOCAL_SEARCH_SPACE` for
    local weights); every candidate keeps the other settings of ``params``.
    """
    candidates = [dict(params)]
    if params["n_search"] > 1:
        space = dict(SEARCH_SPACE)
        if params["weights"] == "local":
            space.update(LOCAL_SEARCH_SPACE)
        sampler = ParameterSampler(space, params["n_search"] - 1, random_state=seed)
        candidates += [{**params, **draw} for draw in sampler]
    return candidates


def _train_candidate(
    features, base, target, weight, rows, levels, params, seed, device
):
    train, validation = rows
    with seeded(seed, device), worker_threads():
        head = AggregationHead(
            n_models=base.shape[1],
            n_levels=base.shape[2],
            granularity=params["granularity"],
            n_features=features.shape[1] if params["weights"] == "local" else None,
            hidden_size=params["hidden_size"],
            n_layers=params["n_layers"],
            dropout=params["dropout"],
        )
        curves = train_head(
            head,
            _rows((features, base, target, weight), train),
            _rows((features, base, target, weight), validation),
            levels,
            {key: params[key] for key in _TRAINING_SETTINGS},
            seed,
            device,
        )
    return head.cpu(), curves


def _rows(parts, rows):
    return tuple(None if part is None else part[rows] for part in parts)


def _tensor(part, device):
    return None if part is None else as_tensor(part, device)


def fit_head(
    features, base, target, levels, params, random_state, device, sample_weight=None
):
    """Build and train the head described by the aggregator's ``params``.

    Inputs are standardised. A random ``validation_fraction`` of the rows is
    held out for early stopping; with ``n_search > 1`` the same rows also pick
    the candidate of :func:`search_candidates` with the lowest validation
    pinball loss, as in the paper's random search. ``sample_weight`` weights
    the rows in the training and the validation loss. Candidates train in
    parallel over ``params["n_jobs"]`` joblib workers on a CPU (one at a time on
    a GPU); each has its own seed drawn beforehand, so the result does not
    depend on ``n_jobs``. Returns the head (on the CPU), its
    (loss_curve, validation_scores) and the chosen settings.
    """
    order = random_state.permutation(target.size)
    n_validation = max(1, round(params["validation_fraction"] * target.size))
    rows = order[n_validation:], order[:n_validation]
    # Training seeds first: the first candidate (the given settings) trains
    # exactly as without a search, so a search can only lower the kept loss.
    seeds = [draw_seed(random_state) for _ in range(params["n_search"])]
    candidates = search_candidates(params, draw_seed(random_state))
    # One candidate (no search) or a GPU: train here, without a joblib dispatch.
    parallel = len(candidates) > 1 and torch.device(device).type == "cpu"
    n_jobs = params.get("n_jobs") if parallel else 1
    trained = Parallel(n_jobs=n_jobs)(
        delayed(_train_candidate)(
            features, base, target, sample_weight, rows, levels, candidate, seed, device
        )
        for candidate, seed in zip(candidates, seeds, strict=True)
    )
    best = None
    for candidate, (head, curves) in zip(candidates, trained, strict=True):
        score = min(curves[1])
        if best is None or score < best[0]:
            best = (score, head, curves, candidate)
    return best[1], best[2], best[3]


def predict_head(head, features, base, device, batch_size=4096):
    """Aggregated predictions of ``head`` as a float64 numpy array."""
    outputs = []
    with torch.no_grad(), worker_threads():
        for start in range(0, base.shape[0], batch_size):
            stop = start + batch_size
            prediction = head(
                as_tensor(features[start:stop], device),
                as_tensor(base[start:stop], device),
            )
            outputs.append(prediction.cpu().numpy().astype(np.float64))
    return np.concatenate(outputs, axis=0)


def head_weights(head, features, device, batch_size=4096):
    """Softmax weights of ``head`` for each row of ``features`` (global: one row)."""
    with torch.no_grad():
        if head.network is None:
            return head.weights(None)[0].cpu().numpy().astype(np.float64)
        chunks = [
            head.weights(as_tensor(features[start : start + batch_size], device))
            for start in range(0, features.shape[0], batch_size)
        ]
        return torch.cat(chunks).cpu().numpy().astype(np.float64)
