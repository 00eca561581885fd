"""Conformal calibration of the aggregator's intervals (split CQR and CV+).

A mixin of :class:`~skensemble.quantile.QuantileAggregator`: it holds the
calibration done at the end of ``fit`` and its application at prediction
time, so the estimator module keeps the cross-fitting and the weights.
"""

import warnings

import numpy as np

from skensemble._quantile_levels import symmetric_pairs
from skensemble.quantile._conformal import (
    apply_split_offsets,
    conformity_scores,
    cv_plus_bounds,
    cv_plus_guaranteed,
    pair_miscoverage,
    split_offsets,
)
from skensemble.quantile._noncrossing import widen_from_median


class ConformalCalibrationMixin:
    """Split-conformal and CV+ calibration for each symmetric pair of levels.

    The host sets ``quantiles_``, ``estimators_``, ``head_`` and
    ``conformal`` and provides ``_aggregate``, ``_stack``, ``_fit_head`` and
    ``_median_index``.
    """

    def _calibrate(self, full, fit_part, fold_of_sample, fitted, random_state):
        """Calibrate after the weights are learned; warn without a guarantee.

        ``full`` is ``(X, y, sample_weight, calibration_rows)``, ``fit_part``
        the ``(X_fit, y_fit, sample_weight_fit)`` the base models and weights
        were learned on; the weights may be None.
        """
        pairs = symmetric_pairs(self.quantiles_)
        self.conformal_pairs_ = np.array(
            [[self.quantiles_[i], self.quantiles_[j]] for i, j in pairs]
        )
        alphas = pair_miscoverage(self.quantiles_, pairs)
        if self.conformal == "split":
            X, y, sample_weight, calibration_rows = full
            X_cal = X[calibration_rows]
            calibrated = self._aggregate(X_cal, self._stack(self.estimators_, X_cal))
            scores = conformity_scores(calibrated, y[calibration_rows], pairs)
            if sample_weight is not None:
                sample_weight = sample_weight[calibration_rows]
            self.conformal_offsets_, guaranteed = split_offsets(
                scores, alphas, sample_weight
            )
        else:
            self._fit_cv_plus(*fit_part, fold_of_sample, fitted, random_state)
            guaranteed = self._cv_plus_guaranteed
        if not np.all(guaranteed):
            warnings.warn(
                "Too few calibration rows for the finite-sample guarantee of the "
                f"conformal intervals at levels {self.conformal_pairs_[~guaranteed]}; "
                "their bounds use the most extreme score instead.",
                UserWarning,
                stacklevel=4,
            )

    def _fit_cv_plus(self, X, y, sample_weight, fold_of_sample, fitted, random_state):
        n_folds = len(fitted["folds"])
        self.fold_estimators_ = fitted["folds"]
        self.fold_heads_ = [None] * n_folds
        oof_aggregate = np.empty((y.size, self.quantiles_.size))
        for fold in range(n_folds):
            inside = fold_of_sample == fold
            if self.head_ is not None:
                outside = ~inside
                self.fold_heads_[fold] = self._fit_head(
                    X[outside],
                    fitted["inner_oof"][fold][outside],
                    y[outside],
                    random_state,
                    False,
                    None if sample_weight is None else sample_weight[outside],
                )
            oof_aggregate[inside] = self._aggregate(
                X[inside], fitted["oof"][inside], self.fold_heads_[fold]
            )
        pairs = symmetric_pairs(self.quantiles_)
        self._cv_plus_scores = conformity_scores(oof_aggregate, y, pairs)
        self._cv_plus_folds = fold_of_sample
        self._cv_plus_weights = sample_weight
        n_effective = y.size if sample_weight is None else float(sample_weight.sum())
        self._cv_plus_guaranteed = cv_plus_guaranteed(
            n_effective, pair_miscoverage(self.quantiles_, pairs)
        )

    def _calibrated_grid(self, X, predictions):
        """Apply the calibration to aggregated (n, n_quantiles) predictions."""
        pairs = symmetric_pairs(self.quantiles_)
        if self.conformal == "split":
            predictions = apply_split_offsets(
                predictions, pairs, self.conformal_offsets_
            )
        else:
            fold_predictions = np.stack(
                [
                    self._aggregate(X, self._stack(models, X), head)
                    for models, head in zip(
                        self.fold_estimators_, self.fold_heads_, strict=True
                    )
                ]
            )
            lower, upper = cv_plus_bounds(
                fold_predictions,
                self._cv_plus_folds,
                self._cv_plus_scores,
                pairs,
                pair_miscoverage(self.quantiles_, pairs),
                self._cv_plus_weights,
            )
            predictions[:, [i for i, _ in pairs]] = lower
            predictions[:, [j for _, j in pairs]] = upper
        # Conformal shifts can re-introduce crossings; fixing them only by
        # widening keeps every calibrated interval's coverage guarantee.
        return widen_from_median(predictions, self._median_index())
