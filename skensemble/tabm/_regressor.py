"""TabMRegressor: TabM for (multi-output, quantile) regression."""

import functools

import numpy as np
from sklearn.base import RegressorMixin, _fit_context
from sklearn.utils._available_if import available_if
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.validation import check_is_fitted

from .._quantile_levels import check_quantile_grid, interpolate_levels, interval_levels
from .._skorch import MemberPinball, MemberSquaredError, member_rmse
from ._base import BaseTabM
from ._docs import COMMON_ATTRIBUTES, COMMON_PARAMETERS, REFERENCES

DEFAULT_QUANTILES = (0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95)


class TabMRegressor(RegressorMixin, BaseTabM):
    _parameter_constraints = {
        **BaseTabM._parameter_constraints,
        "loss": [StrOptions({"squared_error", "quantile"})],
        "quantiles": ["array-like", None],
    }

    def __init__(
        self,
        *,
        loss="squared_error",
        quantiles=None,
        k=32,
        arch="tabm",
        n_blocks="auto",
        d_block=512,
        dropout=0.1,
        num_embeddings=None,
        d_embedding="auto",
        n_bins=48,
        categorical_features="auto",
        learning_rate=2e-3,
        weight_decay=3e-4,
        batch_size="auto",
        max_iter=1000,
        early_stopping=True,
        validation_fraction=0.2,
        n_iter_no_change=16,
        early_stopping_metric="auto",
        gradient_clipping=1.0,
        share_training_batches=False,
        device="auto",
        random_state=None,
        verbose=0,
        warm_start=False,
    ):
        super().__init__(
            k=k,
            arch=arch,
            n_blocks=n_blocks,
            d_block=d_block,
            dropout=dropout,
            num_embeddings=num_embeddings,
            d_embedding=d_embedding,
            n_bins=n_bins,
            categorical_features=categorical_features,
            learning_rate=learning_rate,
            weight_decay=weight_decay,
            batch_size=batch_size,
            max_iter=max_iter,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            n_iter_no_change=n_iter_no_change,
            early_stopping_metric=early_stopping_metric,
            gradient_clipping=gradient_clipping,
            share_training_batches=share_training_batches,
            device=device,
            random_state=random_state,
            verbose=verbose,
            warm_start=warm_start,
        )
        self.loss = loss
        self.quantiles = quantiles

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, *, eval_set=None):
        """Train the ensemble.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Training data; NaN is allowed, categorical columns are detected
            (see ``categorical_features``).
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets; standardised internally.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the rows in the training loss.
        eval_set : tuple (X_val, y_val), default=None
            Validation data for early stopping instead of an internal split.

        Returns
        -------
        self : TabMRegressor
            The fitted estimator.
        """
        if self.loss == "quantile":
            self.quantiles_ = _check_quantiles(self.quantiles)
        elif self.quantiles is not None:
            raise ValueError("quantiles is only used with loss='quantile'.")
        return self._fit(X, y, sample_weight, eval_set, is_classifier=False)

    def predict(self, X, quantiles=None):
        """Predict the mean (squared error) or the median (quantile loss).

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
        quantiles : array-like of float, default=None
            With ``loss="quantile"``: levels to predict, inside the fitted
            range; they are interpolated linearly between fitted levels.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,), (n_samples, n_outputs), \
(n_samples, n_quantiles) or (n_samples, n_outputs, n_quantiles)
            The averaged member predictions.
        """
        check_is_fitted(self)
        members = self.predict_members(X)
        if self.loss == "squared_error":
            if quantiles is not None:
                raise ValueError("predict(X, quantiles=...) needs loss='quantile'.")
            return members.mean(axis=1)
        levels = np.atleast_1d(np.asarray(0.5 if quantiles is None else quantiles))
        outputs = interpolate_levels(members.mean(axis=1), self.quantiles_, levels)
        return outputs[..., 0] if quantiles is None else outputs

    @available_if(lambda self: self.loss == "quantile")
    def predict_interval(self, X, confidence=0.9):
        """Predict the central interval ``[q_(1-c)/2, q_(1+c)/2]`` (quantile loss).

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
        confidence : float, default=0.9
            Nominal coverage; both bounds must lie inside the fitted levels.

        Returns
        -------
        y_interval : ndarray of shape (n_samples, 2) or (n_samples, n_outputs, 2)
            Lower and upper bounds.
        """
        check_is_fitted(self)
        return self.predict(X, quantiles=interval_levels(confidence))

    def predict_members(self, X):
        """Every member's prediction.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)

        Returns
        -------
        members : ndarray of shape (n_samples, k[, n_outputs][, n_quantiles])
            De-standardised predictions of each member; with quantile loss each
            member's quantiles are sorted, so they never cross.
        """
        check_is_fitted(self)
        raw = self._member_outputs(X)
        n, k = raw.shape[:2]
        if self.loss == "quantile":
            raw = np.sort(raw.reshape(n, k, self.n_outputs_, -1), axis=-1)
            members = raw * self.y_scale_[:, None] + self.y_mean_[:, None]
            return members[:, :, 0] if self._single_output else members
        members = raw * self.y_scale_ + self.y_mean_
        return members[:, :, 0] if self._single_output else members

    @property
    def _d_out(self):
        levels = len(self.quantiles_) if self.loss == "quantile" else 1
        return self.n_outputs_ * levels

    def _encode_targets(self, y, fitting):
        y = np.asarray(y, dtype=np.float64)
        y2 = y.reshape(len(y), -1)
        if fitting:
            self._single_output = y.ndim == 1
            self.n_outputs_ = y2.shape[1]
            self.y_mean_ = y2.mean(axis=0)
            scale = y2.std(axis=0)
            self.y_scale_ = np.where(scale > 0, scale, 1.0)
        elif y2.shape[1] != self.n_outputs_:
            raise ValueError(
                f"y has {y2.shape[1]} outputs but the model was fitted with "
                f"{self.n_outputs_}."
            )
        return ((y2 - self.y_mean_) / self.y_scale_).astype(np.float32)

    def _decode_targets(self, y):
        y = y.reshape(len(y), -1) * self.y_scale_ + self.y_mean_
        return y[:, 0] if self._single_output else y

    def _criterion(self):
        if self.loss == "quantile":
            return MemberPinball(self.quantiles_)
        return MemberSquaredError()

    def _auto_score(self):
        if self.loss == "quantile":
            return functools.partial(_pinball_of_mean, self.quantiles_), True
        return member_rmse, True

    def _predict_from_raw(self, outputs):
        members = outputs.numpy().astype(np.float64)
        if self.loss == "quantile":
            n, k = members.shape[:2]
            members = np.sort(members.reshape(n, k, self.n_outputs_, -1), axis=-1)
            members = members * self.y_scale_[:, None] + self.y_mean_[:, None]
            mean = interpolate_levels(members.mean(axis=1), self.quantiles_, [0.5])
            mean = mean[..., 0]
        else:
            mean = members.mean(axis=1) * self.y_scale_ + self.y_mean_
        return mean[:, 0] if self._single_output else mean

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags


def _check_quantiles(quantiles):
    return check_quantile_grid(DEFAULT_QUANTILES if quantiles is None else quantiles)


def _pinball_of_mean(quantiles, y_pred, y_true):
    """Pinball loss of the averaged, sorted member quantiles."""
    n, k = y_pred.shape[:2]
    members = y_pred.reshape(n, k, -1, len(quantiles)).sort(dim=-1).values
    mean = members.mean(dim=1, keepdim=True).flatten(-2)
    return MemberPinball(quantiles)(mean, y_true.reshape(n, 1, -1)).mean().item()


_AUTO_METRIC = "RMSE for squared error, pinball loss for quantiles"
TabMRegressor.__doc__ = f"""TabM regressor: k MLPs in one parameter-efficient network.

One network holds k MLPs that share most weights and are trained together,
each on its own loss (the mean of the k member losses is minimised). Predictions
are the mean of the de-standardised member predictions. Numeric features get
TabM's noisy quantile transform, NaN is imputed with missing indicators,
categorical columns are one-hot encoded inside the model. Supports multi-output
targets and quantile regression with non-crossing outputs.

Read more in the :ref:`User Guide <tabm>`.

Parameters
----------
loss : {{"squared_error", "quantile"}}, default="squared_error"
    Training loss. "quantile" trains every member on the pinball loss of all
    ``quantiles`` at once; ``predict(X, quantiles=...)`` then gives any level
    inside the fitted range.
quantiles : array-like of float, default=None
    Strictly increasing levels in (0, 1) for ``loss="quantile"``; None means
    {DEFAULT_QUANTILES}.
{COMMON_PARAMETERS.replace("{auto_metric}", _AUTO_METRIC)}

Attributes
----------
n_outputs_ : int
    Number of regression targets.
y_mean_, y_scale_ : ndarray of shape (`n_outputs_`,)
    Target standardisation learnt in fit.
quantiles_ : ndarray
    The fitted quantile levels (``loss="quantile"`` only).
{COMMON_ATTRIBUTES}

See Also
--------
TabMClassifier : The classifier.
sklearn.neural_network.MLPRegressor : A single MLP.

References
----------
{REFERENCES}

Examples
--------
>>> from sklearn.datasets import load_diabetes
>>> from skensemble.tabm import TabMRegressor
>>> X, y = load_diabetes(return_X_y=True)
>>> model = TabMRegressor(k=4, d_block=32, max_iter=5, random_state=0).fit(X, y)
>>> model.predict(X[:3]).shape
(3,)
>>> model.predict_members(X[:3]).shape
(3, 4)
>>> q = TabMRegressor(loss="quantile", quantiles=[0.1, 0.5, 0.9], k=4,
...                   d_block=32, max_iter=5, random_state=0).fit(X, y)
>>> q.predict(X[:3], quantiles=[0.1, 0.9]).shape
(3, 2)
"""
