"""TabMClassifier: TabM for binary and multi-class classification."""

import numpy as np
from sklearn.base import ClassifierMixin, _fit_context
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted

from .._skorch import MemberCrossEntropy, mean_member_proba, member_accuracy
from .._validation import check_single_class
from ._base import BaseTabM
from ._docs import COMMON_ATTRIBUTES, COMMON_PARAMETERS, REFERENCES


class TabMClassifier(ClassifierMixin, BaseTabM):
    def __init__(
        self,
        *,
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

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, *, eval_set=None):
        """Train the ensemble.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Training data; NaN is allowed, categorical columns are detected
            (see ``categorical_features``).
        y : array-like of shape (n_samples,)
            Class labels (any hashable, sortable values).
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the rows in the training loss.
        eval_set : tuple (X_val, y_val), default=None
            Validation data for early stopping instead of an internal split.

        Returns
        -------
        self : TabMClassifier
            The fitted estimator.
        """
        return self._fit(X, y, sample_weight, eval_set, is_classifier=True)

    def predict_proba(self, X):
        """Class probabilities: the mean of the members' softmax probabilities.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Columns follow ``classes_``.
        """
        check_is_fitted(self)
        proba = self.predict_members(X).mean(axis=1)
        return proba / proba.sum(axis=1, keepdims=True)

    def predict(self, X):
        """Most probable class of each row.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Labels from ``classes_``.
        """
        check_is_fitted(self)
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]

    def predict_members(self, X):
        """Every member's class probabilities.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)

        Returns
        -------
        members : ndarray of shape (n_samples, k, n_classes)
        """
        check_is_fitted(self)
        raw = self._member_outputs(X)
        raw -= raw.max(axis=-1, keepdims=True)
        proba = np.exp(raw)
        return proba / proba.sum(axis=-1, keepdims=True)

    @property
    def _d_out(self):
        return len(self.classes_)

    def _encode_targets(self, y, fitting):
        if fitting:
            check_classification_targets(y)
            self.classes_, encoded = np.unique(y, return_inverse=True)
            check_single_class(self.classes_)
            return encoded.astype(np.int64)
        y = np.asarray(y)
        unknown = ~np.isin(y, self.classes_)
        if unknown.any():
            raise ValueError(
                f"y contains labels not seen in fit: {np.unique(y[unknown])[:5]}."
            )
        return np.searchsorted(self.classes_, y).astype(np.int64)

    def _decode_targets(self, y):
        return self.classes_[np.asarray(y)]

    def _criterion(self):
        return MemberCrossEntropy()

    def _auto_score(self):
        return member_accuracy, False

    def _predict_from_raw(self, outputs):
        return self.classes_[mean_member_proba(outputs).argmax(dim=-1).numpy()]


TabMClassifier.__doc__ = f"""TabM classifier: k MLPs in one parameter-efficient network.

One network holds k MLPs that share most weights and are trained together,
each on its own cross-entropy (the mean of the k member losses is minimised).
``predict_proba`` averages the members' probabilities, not their logits.
Numeric features get TabM's noisy quantile transform, NaN is imputed with
missing indicators, categorical columns are one-hot encoded inside the model.

Read more in the :ref:`User Guide <tabm>`.

Parameters
----------
{COMMON_PARAMETERS.replace("{auto_metric}", "validation accuracy")}

Attributes
----------
classes_ : ndarray of shape (n_classes,)
    The class labels.
{COMMON_ATTRIBUTES}

See Also
--------
TabMRegressor : The regressor.
sklearn.neural_network.MLPClassifier : A single MLP.

References
----------
{REFERENCES}

Examples
--------
>>> from sklearn.datasets import load_breast_cancer
>>> from skensemble.tabm import TabMClassifier
>>> X, y = load_breast_cancer(return_X_y=True)
>>> model = TabMClassifier(k=4, d_block=32, max_iter=5, random_state=0).fit(X, y)
>>> model.predict_proba(X[:2]).shape
(2, 2)
>>> model.predict_members(X[:2]).shape
(2, 4, 2)
"""
