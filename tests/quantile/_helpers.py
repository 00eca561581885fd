"""Small, fast quantile models used across the quantile tests."""

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted, validate_data


class EmpiricalQuantiles(RegressorMixin, BaseEstimator):
    """Predicts the empirical quantiles of the training targets, ignoring X."""

    def __init__(self, quantiles=(0.1, 0.5, 0.9)):
        self.quantiles = quantiles

    def fit(self, X, y):
        X, y = validate_data(self, X, y)
        self.y_ = np.asarray(y, dtype=float)
        self.quantiles_ = np.asarray(self.quantiles, dtype=float)
        return self

    def predict(self, X, quantiles=None):
        check_is_fitted(self)
        X = validate_data(self, X, reset=False)
        levels = [0.5] if quantiles is None else quantiles
        values = np.quantile(self.y_, levels)
        predictions = np.tile(values, (X.shape[0], 1))
        return predictions[:, 0] if quantiles is None else predictions

    def predict_interval(self, X, confidence=0.9):
        return self.predict(X, quantiles=[(1 - confidence) / 2, (1 + confidence) / 2])


class Memorizer(EmpiricalQuantiles):
    """Predicts the training target of rows it has seen and ``unseen`` otherwise.

    Any prediction other than ``unseen`` comes from a row the model was trained
    on, which makes leaks of in-sample predictions visible.
    """

    def __init__(self, quantiles=(0.1, 0.5, 0.9), unseen=-999.0):
        super().__init__(quantiles=quantiles)
        self.unseen = unseen

    def fit(self, X, y):
        super().fit(X, y)
        self.rows_ = {row.tobytes(): target for row, target in zip(X, self.y_)}
        return self

    def predict(self, X, quantiles=None):
        check_is_fitted(self)
        X = validate_data(self, X, reset=False)
        levels = [0.5] if quantiles is None else quantiles
        seen = np.array([self.rows_.get(row.tobytes(), self.unseen) for row in X])
        predictions = np.tile(seen[:, None], (1, len(levels)))
        return predictions[:, 0] if quantiles is None else predictions


def heteroscedastic(n_samples, random_state):
    """y = x + (0.5 + |x|) * noise with one informative and one useless feature."""
    rng = np.random.RandomState(random_state)
    X = rng.uniform(-2, 2, size=(n_samples, 2))
    y = X[:, 0] + (0.5 + np.abs(X[:, 0])) * rng.standard_normal(n_samples)
    return X, y


class FixedQuantiles(EmpiricalQuantiles):
    """Predicts ``center + level - 0.5`` at every level, whatever the data.

    Records the ``sample_weight`` of every fit, so tests can see what reached it.
    """

    def __init__(self, quantiles=(0.1, 0.5, 0.9), center=0.0):
        super().__init__(quantiles=quantiles)
        self.center = center

    def fit(self, X, y, sample_weight=None):
        super().fit(X, y)
        self.sample_weight_ = sample_weight
        return self

    def predict(self, X, quantiles=None):
        check_is_fitted(self)
        X = validate_data(self, X, reset=False)
        levels = np.asarray([0.5] if quantiles is None else quantiles, dtype=float)
        predictions = np.tile(self.center + levels - 0.5, (X.shape[0], 1))
        return predictions[:, 0] if quantiles is None else predictions
