"""EnsLossClassifier: a margin classifier trained with random calibrated losses."""

import copy
from numbers import Integral, Real

import numpy as np
import torch
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    check_is_fitted,
    validate_data,
)

from .._distributed import shared_random_state
from .._fitted_net import continue_training, release_training_state
from .._skorch import TensorData, history_arrays
from .._torch import (
    as_tensor,
    check_device,
    draw_seed,
    make_generator,
    resolve_device,
    seeded,
    worker_threads,
)
from .._validation import (
    check_sample_weight,
    check_single_class,
    check_warm_start_params,
    holdout_split,
)
from ._derivatives import CRITERIA
from ._docs import DOCSTRING
from ._multiclass import fit_one_vs_one, one_vs_one_scores
from ._network import make_callbacks, make_net, training_params
from ._training import (
    check_widths,
    decision_to_labels,
    ensemble_decision,
)

EVAL_BATCH_SIZE = 1024
# The training-loop parameters a warm start applies to the continued network;
# every other parameter is built into the network, its inputs or its history.
WARM_START_APPLIED = (
    "max_iter",
    "learning_rate",
    "momentum",
    "weight_decay",
    "lr_schedule",
    "batch_size",
    "n_iter_no_change",
    "gradient_clipping",
    "lambda_redraw_period",
)


class EnsLossClassifier(ClassifierMixin, BaseEstimator):
    __doc__ = DOCSTRING

    _parameter_constraints = {
        "loss": [StrOptions(set(CRITERIA))],
        "backbone": [StrOptions({"mlp", "tabm"})],
        "hidden_layer_sizes": ["array-like"],
        "k": [Interval(Integral, 1, None, closed="left")],
        "dropout": [Interval(Real, 0.0, 1.0, closed="left")],
        "boxcox_lambda": [Interval(Real, None, None, closed="neither")],
        "lambda_redraw_period": [Interval(Integral, 1, None, closed="left"), None],
        "multi_class": [StrOptions({"ovr", "ovo"})],
        "optimizer": [StrOptions({"sgd", "adamw"})],
        "learning_rate": [Interval(Real, 0.0, None, closed="neither")],
        "momentum": [Interval(Real, 0.0, 1.0, closed="left")],
        "weight_decay": [Interval(Real, 0.0, None, closed="left")],
        "lr_schedule": [StrOptions({"cosine", "constant"})],
        "batch_size": [
            Interval(Integral, 1, None, closed="left"),
            StrOptions({"auto"}),
        ],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0.0, 1.0, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "gradient_clipping": [Interval(Real, 0.0, None, closed="neither"), None],
        "device": [str],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
    }

    def __init__(
        self,
        *,
        loss="ensloss",
        backbone="mlp",
        hidden_layer_sizes=(1024,),
        k=32,
        dropout=0.1,
        boxcox_lambda=0.0,
        lambda_redraw_period=None,
        multi_class="ovr",
        optimizer="sgd",
        learning_rate=1e-4,
        momentum=0.9,
        weight_decay=5e-6,
        lr_schedule="cosine",
        batch_size="auto",
        max_iter=300,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        gradient_clipping=None,
        device="auto",
        random_state=None,
        verbose=0,
        warm_start=False,
    ):
        self.loss = loss
        self.backbone = backbone
        self.hidden_layer_sizes = hidden_layer_sizes
        self.k = k
        self.dropout = dropout
        self.boxcox_lambda = boxcox_lambda
        self.lambda_redraw_period = lambda_redraw_period
        self.multi_class = multi_class
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.lr_schedule = lr_schedule
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.gradient_clipping = gradient_clipping
        self.device = device
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Train the network with the chosen loss.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Numeric training data (standardise it, e.g. with a
            :class:`~sklearn.preprocessing.StandardScaler` in a pipeline).
        y : array-like of shape (n_samples,)
            Class labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the rows in every mini-batch's mean loss.

        Returns
        -------
        self : EnsLossClassifier
            The fitted estimator.
        """
        check_device(self.device)
        widths = check_widths(self.hidden_layer_sizes, self.backbone)
        continuing = self.warm_start and (
            hasattr(self, "net_") or hasattr(self, "estimators_")
        )
        check_warm_start_params(self, continuing, WARM_START_APPLIED)
        X, y = validate_data(self, X, y, reset=not continuing, dtype=np.float32)
        check_classification_targets(y)
        classes, y_index = np.unique(y, return_inverse=True)
        check_single_class(classes)
        if continuing and not np.array_equal(classes, self.classes_):
            raise ValueError(
                f"warm_start=True needs the classes of the first fit "
                f"{self.classes_.tolist()}; got {classes.tolist()}."
            )
        self.classes_ = classes
        if sample_weight is not None:
            sample_weight = check_sample_weight(sample_weight, X, dtype=np.float32)
        random_state = shared_random_state(self.random_state)
        self.device_ = resolve_device(self.device)
        if self.multi_class == "ovo" and len(classes) > 2:
            self.estimators_, self.pairs_ = fit_one_vs_one(
                self,
                X,
                y_index,
                sample_weight,
                random_state,
                previous=self.estimators_ if continuing else None,
            )
            self.n_iter_ = max(est.n_iter_ for est in self.estimators_)
            self.loss_curve_ = None
            self.validation_scores_ = None
            return self
        self._fit_network(X, y_index, sample_weight, random_state, widths, continuing)
        return self

    def _fit_network(self, X, y_index, sample_weight, random_state, widths, continuing):
        if self.early_stopping:
            train, valid = holdout_split(
                X,
                y_index,
                sample_weight,
                self.validation_fraction,
                random_state,
                stratify=y_index,
            )
        else:
            train, valid = (X, y_index, sample_weight), None
        train_data = self._tensor_data(*train)
        valid_data = None if valid is None else self._tensor_data(*valid)
        seed, loss_seed = draw_seed(random_state), draw_seed(random_state)
        with seeded(seed, self.device_), worker_threads():
            params = self._training_params(len(train_data))
            if continuing:
                continue_training(self.net_, valid_data, seed, **params)
                if hasattr(self.net_.criterion_, "generator"):
                    self.net_.criterion_.generator = make_generator(loss_seed)
            else:
                self.net_ = make_net(
                    self, train_data, valid_data, seed, loss_seed, widths, params
                )
                self.net_.initialize()
            self.net_.partial_fit(train_data)
        release_training_state(self.net_)
        self.loss_curve_, self.validation_scores_, self.n_iter_ = history_arrays(
            self.net_
        )

    def _tensor_data(self, X, y_index, sample_weight):
        weight = None
        if sample_weight is not None:
            weight = as_tensor(sample_weight, self.device_)
        return TensorData(
            {"x_num": as_tensor(X, self.device_)},
            as_tensor(y_index, self.device_, torch.long),
            weight,
        )

    def _training_params(self, n_rows):
        params = training_params(self, n_rows, self._callbacks())
        self.batch_size_ = params["batch_size"]
        return params

    def _callbacks(self):
        # A method, so that a subclass can add callbacks (benchmarks/ensloss.py).
        return make_callbacks(self)

    # -- predict ----------------------------------------------------------------------
    def predict_margins(self, X):
        """Raw margins of every member.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        margins : ndarray of shape (n_samples, k, n_columns)
            ``k`` is 1 for the MLP backbone; ``n_columns`` is 1 for binary
            problems (the margin of ``classes_[1]``) and ``n_classes`` for
            one-vs-rest.
        """
        check_is_fitted(self)
        if hasattr(self, "estimators_"):
            raise AttributeError(
                "multi_class='ovo' fits one network per pair of classes; read "
                "their margins from estimators_."
            )
        X = validate_data(self, X, reset=False, dtype=np.float64)
        # A float64 copy of the network: float32 matrix products change in the
        # last bits with the number of rows, float64 ones far below any margin.
        module = copy.deepcopy(self.net_.module_).double().eval()
        inputs = as_tensor(X, self.device_, torch.float64)
        with torch.no_grad(), worker_threads():
            outputs = [module(x_num=rows) for rows in inputs.split(EVAL_BATCH_SIZE)]
        return torch.cat(outputs).cpu().numpy()

    def decision_function(self, X):
        """Margins of the ensemble (not probabilities).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        decision : ndarray of shape (n_samples,) or (n_samples, n_classes)
            Binary: the margin of ``classes_[1]`` (positive means
            ``classes_[1]``). One-vs-rest: one margin per class. With several
            members, the logit of the members' mean sigmoid (one member gives
            its margin back). One-vs-one: each class's mean pairwise sigmoid.
        """
        check_is_fitted(self)
        if hasattr(self, "estimators_"):
            X = validate_data(self, X, reset=False, dtype=np.float32)
            return one_vs_one_scores(self.estimators_, self.pairs_, X)
        decision = ensemble_decision(self.predict_margins(X))
        return decision[:, 0] if decision.shape[1] == 1 else decision

    def predict_proba(self, X):
        """Sigmoid of the margins; NOT calibrated probabilities.

        EnsLoss trains with random losses that are not proper scoring rules, so
        these numbers rank the classes but are not calibrated probabilities
        (wrap the estimator in :class:`~sklearn.calibration.CalibratedClassifierCV`
        if you need them). Binary: ``[1 - s, s]`` with ``s`` the members' mean
        sigmoid; one-vs-rest: the per-class sigmoids normalised to sum to 1;
        one-vs-one: the normalised mean pairwise sigmoids.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Columns follow ``classes_``.
        """
        check_is_fitted(self)
        decision = self.decision_function(X)
        if hasattr(self, "estimators_"):
            return decision / decision.sum(axis=1, keepdims=True)
        if decision.ndim == 1:
            positive = expit(decision)
            return np.column_stack([1.0 - positive, positive])
        scores = expit(decision)
        return scores / scores.sum(axis=1, keepdims=True)

    def predict(self, X):
        """Class of every row: the sign of the margin, or the largest margin.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Labels from ``classes_``.
        """
        check_is_fitted(self)
        decision = self.decision_function(X)
        if decision.ndim == 1:
            decision = decision[:, None]
        return self.classes_[decision_to_labels(decision)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = self.device != "cpu" and torch.cuda.is_available()
        return tags
