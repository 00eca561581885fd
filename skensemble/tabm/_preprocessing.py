"""Tabular preprocessing inside the TabM estimators.

Numeric columns get TabM's "noisy quantile" transform; NaN becomes 0 (the
median in the normal output space) plus a missing indicator; constant columns
are dropped; two-valued columns become 0/1. Categorical columns (pandas
category/object/string dtypes, string-valued object columns, or the ones the
user names) are ordinal-encoded here and one-hot encoded inside the network,
with unseen categories mapped to an all-zeros block.
"""

import numbers

import numpy as np
from sklearn.preprocessing import OrdinalEncoder, QuantileTransformer

from .._validation import reject_infinity

_MISSING = "<missing>"
_NOISE_STD = 1e-5


def detect_categorical(X, categorical_features):
    """Boolean mask of the categorical columns of the raw input ``X``.

    ``categorical_features`` is "auto", None, a boolean mask, or a list of column
    indices or (for DataFrames) column names. Input that is not 2-D gives an
    empty mask and is rejected later by ``validate_data`` with its own message.
    """
    columns = list(X.columns) if hasattr(X, "columns") else None
    if columns is not None:
        dates = [name for name, dtype in X.dtypes.items() if dtype.kind in "mM"]
        if dates:
            raise ValueError(
                f"X has date or time-span columns {dates}; TabM takes numbers, "
                f"booleans and categories, so turn them into numbers first "
                f"(e.g. days since a reference date, day of week as a category)."
            )
    if columns is None:
        X = np.asarray(X)
        if X.ndim != 2:
            return np.zeros(0, dtype=bool)
    n_features = len(columns) if columns is not None else X.shape[1]
    if categorical_features is None:
        return np.zeros(n_features, dtype=bool)
    if isinstance(categorical_features, str):  # "auto"
        if columns is not None:
            return np.array([_is_categorical_dtype(d) for d in X.dtypes], dtype=bool)
        if X.dtype.kind in "OUS":
            return np.array(
                [any(isinstance(v, str) for v in X[:, j]) for j in range(n_features)],
                dtype=bool,
            )
        return np.zeros(n_features, dtype=bool)
    selection = np.asarray(categorical_features)
    if selection.dtype == bool:
        if selection.shape != (n_features,):
            raise ValueError(
                f"categorical_features has {selection.size} booleans but X has "
                f"{n_features} columns."
            )
        return selection.copy()
    mask = np.zeros(n_features, dtype=bool)
    for item in selection.ravel().tolist():
        if isinstance(item, str):
            if columns is None or item not in columns:
                raise ValueError(f"categorical_features names unknown column {item!r}.")
            mask[columns.index(item)] = True
        elif isinstance(item, numbers.Integral) and -n_features <= item < n_features:
            mask[item] = True
        else:
            raise ValueError(f"categorical_features has an invalid entry {item!r}.")
    return mask


def _is_categorical_dtype(dtype):
    name = str(dtype)
    return name in ("category", "object", "string", "str") or name.startswith("string")


def _is_missing(value):
    """None, a float NaN, or pandas' NA (without importing pandas)."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return True
    kind = type(value)
    return kind.__name__ == "NAType" and kind.__module__.startswith("pandas")


def _as_category_strings(column):
    out = np.empty(len(column), dtype=object)
    for i, value in enumerate(column):
        out[i] = _MISSING if _is_missing(value) else str(value)
    return out


def _object_to_float(values, names):
    """Numeric object columns (pandas' NA as NaN); a clear error for the others."""
    try:
        return values.astype(np.float64)
    except (TypeError, ValueError):
        pass
    out = np.empty(values.shape, dtype=np.float64)
    for j, name in enumerate(names):
        try:
            out[:, j] = [np.nan if _is_missing(v) else float(v) for v in values[:, j]]
        except (TypeError, ValueError) as error:
            raise ValueError(
                f"Column {name} is not numeric ({error}) but is not categorical "
                f"either; name it in categorical_features (or leave that "
                f"parameter at 'auto'), or convert it to numbers."
            ) from None
    return out


class TabularPreprocessor:
    """Fit-once transform of a validated 2-D array into (x_num, x_cat) arrays.

    Parameters
    ----------
    categorical_mask : ndarray of bool
        Which columns of X are categorical.
    random_state : numpy.random.RandomState
        Source of the quantile-transform noise.
    feature_names : ndarray of str, default=None
        Column names, for error messages (positions when None).
    """

    def __init__(self, categorical_mask, random_state, feature_names=None):
        self.categorical_mask = categorical_mask
        self.random_state = random_state
        self.feature_names = feature_names

    def fit(self, X):
        numeric = self._numeric(X)
        n_samples = len(X)
        missing = np.isnan(numeric)
        self.indicator_columns_ = np.flatnonzero(missing.any(axis=0))
        n_unique = np.array(
            [len(np.unique(col[~np.isnan(col)])) for col in numeric.T], dtype=int
        )
        self.binary_columns_ = np.flatnonzero(n_unique == 2)
        self.binary_high_ = np.array(
            [np.nanmax(numeric[:, j]) for j in self.binary_columns_], dtype=float
        )
        self.quantile_columns_ = np.flatnonzero(n_unique > 2)
        self.quantile_ = None
        if len(self.quantile_columns_):
            values = numeric[:, self.quantile_columns_]
            noise = self.random_state.normal(0.0, _NOISE_STD, values.shape)
            n_quantiles = max(min(n_samples // 30, 1000), 10)
            self.quantile_ = QuantileTransformer(
                n_quantiles=min(n_quantiles, n_samples),
                output_distribution="normal",
                subsample=10**9,
            ).fit(values + noise)
        self.encoder_ = None
        self.cardinalities_ = []
        if self.categorical_mask.any():
            categories = self._categories(X)
            self.encoder_ = OrdinalEncoder(
                handle_unknown="use_encoded_value", unknown_value=-1, dtype=np.int64
            ).fit(categories)
            self.cardinalities_ = [len(c) for c in self.encoder_.categories_]
        self.n_num_features_ = (
            len(self.quantile_columns_)
            + len(self.binary_columns_)
            + len(self.indicator_columns_)
        )
        if self.n_num_features_ == 0 and not self.cardinalities_:
            self.n_num_features_ = 1  # every column is constant: one zero column
        return self

    def transform(self, X):
        numeric = self._numeric(X)
        parts = []
        if self.quantile_ is not None:
            transformed = self.quantile_.transform(numeric[:, self.quantile_columns_])
            parts.append(np.nan_to_num(transformed, nan=0.0))
        if len(self.binary_columns_):
            binary = numeric[:, self.binary_columns_] == self.binary_high_
            parts.append(binary.astype(np.float64))
        if len(self.indicator_columns_):
            parts.append(np.isnan(numeric[:, self.indicator_columns_]).astype(float))
        if parts:
            x_num = np.hstack(parts).astype(np.float32)
        else:
            x_num = np.zeros((len(X), self.n_num_features_), dtype=np.float32)
        x_cat = None
        if self.encoder_ is not None:
            x_cat = self.encoder_.transform(self._categories(X))
            cardinalities = np.asarray(self.cardinalities_)
            x_cat = np.where(x_cat < 0, cardinalities, x_cat)
        return x_num, x_cat

    def _numeric(self, X):
        values = X[:, ~self.categorical_mask]
        if values.dtype == object:
            positions = np.flatnonzero(~self.categorical_mask)
            if self.feature_names is None:
                names = [f"{j}" for j in positions]
            else:
                names = [repr(str(self.feature_names[j])) for j in positions]
            values = _object_to_float(values, names)
        else:
            values = np.asarray(values, dtype=np.float64)
        reject_infinity(values, why="TabM accepts NaN (imputed) but not inf.")
        return values

    def _categories(self, X):
        columns = X[:, self.categorical_mask]
        return np.column_stack([_as_category_strings(col) for col in columns.T])
