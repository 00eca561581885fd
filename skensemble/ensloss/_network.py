"""The skorch network an ``EnsLossClassifier`` trains: module, criterion, loop."""

import torch
from skorch.callbacks import LRScheduler
from skorch.helper import predefined_split

from .._skorch import EnsembleNet, training_callbacks
from .._torch import make_generator
from ..tabm._modules import TabMModule
from ._derivatives import CRITERIA
from ._modules import MarginMLP
from ._training import BoxCoxLambdaSchedule, margin_accuracy

PAPER_BATCH_SIZE = 128


def n_columns(classes):
    """One margin for two classes, one per class (one-vs-rest) otherwise."""
    return 1 if len(classes) == 2 else len(classes)


def make_module(estimator, widths):
    """The margin network of the estimator's ``backbone``."""
    columns = n_columns(estimator.classes_)
    if estimator.backbone == "mlp":
        return MarginMLP(estimator.n_features_in_, widths, columns)
    return TabMModule(
        n_num_features=estimator.n_features_in_,
        d_out=columns,
        k=estimator.k,
        n_blocks=len(widths),
        d_block=widths[0],
        dropout=estimator.dropout,
    )


def make_criterion(estimator, loss_seed):
    """The fixed loss, or EnsLoss's random calibrated one seeded by ``loss_seed``."""
    criterion = CRITERIA[estimator.loss]
    columns = n_columns(estimator.classes_)
    if estimator.loss != "ensloss":
        return criterion(columns)
    return criterion(
        columns,
        boxcox_lambda=float(estimator.boxcox_lambda),
        generator=make_generator(loss_seed),
    )


def make_callbacks(estimator):
    """Early stopping, clipping, progress, the cosine schedule, the lambda redraws."""
    callbacks = training_callbacks(
        score_fn=margin_accuracy if estimator.early_stopping else None,
        lower_is_better=False,
        patience=estimator.n_iter_no_change,
        gradient_clipping=estimator.gradient_clipping,
        verbose=estimator.verbose,
        max_epochs=estimator.max_iter,
        name=type(estimator).__name__,
    )
    if estimator.lr_schedule == "cosine":
        # last_epoch=-1: every fit, a warm start too, anneals from learning_rate
        # to 0 over its max_iter epochs (skorch would otherwise resume the
        # curve at the history's length, climbing back up from 0).
        schedule = LRScheduler(
            policy=torch.optim.lr_scheduler.CosineAnnealingLR,
            T_max=estimator.max_iter,
            last_epoch=-1,
        )
        callbacks.append(("lr_schedule", schedule))
    if estimator.loss == "ensloss" and estimator.lambda_redraw_period is not None:
        period = estimator.lambda_redraw_period
        callbacks.append(("boxcox_lambda", BoxCoxLambdaSchedule(period)))
    return callbacks


def training_params(estimator, n_rows, callbacks):
    """The net's training-loop settings: at the first fit and at a warm start."""
    batch_size = estimator.batch_size
    if batch_size == "auto":
        batch_size = PAPER_BATCH_SIZE
    params = dict(
        lr=estimator.learning_rate,
        optimizer__weight_decay=estimator.weight_decay,
        max_epochs=estimator.max_iter,
        batch_size=min(batch_size, n_rows),
        callbacks=callbacks,
    )
    if estimator.optimizer == "sgd":
        params["optimizer__momentum"] = estimator.momentum
    return params


def make_net(estimator, train_data, valid_data, seed, loss_seed, widths, params):
    """The uninitialised skorch net with the training settings ``params``."""
    k = estimator.k if estimator.backbone == "tabm" else 1
    optimizer = torch.optim.SGD if estimator.optimizer == "sgd" else torch.optim.AdamW
    return EnsembleNet(
        make_module(estimator, widths),
        make_criterion(estimator, loss_seed),
        k=k,
        member_batches=k > 1,
        generator=make_generator(seed),
        optimizer=optimizer,
        train_split=None if valid_data is None else predefined_split(valid_data),
        device=estimator.device_,
        verbose=0,
        **params,
    )
