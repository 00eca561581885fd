"""The statistics of a narrow leaf as Python lists: the same numbers, less overhead.

On a stream of a few features (Electricity has 8, SEA 3) a leaf's statistics
are a handful of floats, and numpy's fixed cost per call (about a microsecond)
outweighs the arithmetic: :class:`~skensemble.stream._fast_leaf.LeafArrays`
spends some 25 numpy calls to learn one instance and a dozen to vote.
:class:`LeafLists` keeps the same statistics as one Python list per class and
runs the same operations, in the same order, element by element with Python
floats. Python's ``+ - * /`` and numpy's are the same correctly rounded IEEE
operations, ``**`` is the C library's ``pow`` in both (``np.float_power``
there), and logarithms go through ``math.log`` in both, so every number, and
the tree, is the same bit for bit. Split attempts read the statistics as
arrays (:meth:`LeafLists.statistics`).
"""

import math

import numpy as np

from ._fast_leaf import _HALF_LOG_TAU, LeafArrays, normalised_votes

# Leaves with at most this many classes x features use lists, wider ones arrays.
# DriftMoE-Data throughput on one core, lists vs arrays: SEA (2 x 3) 2x,
# RBF (5 x 10) 1.5x, Electricity (2 x 8) 2x; LED (10 x 24) 0.85x, Outdoor
# (40 x 21) 0.6x, Spam (2 x 499) 0.8x.
MAX_LIST_CELLS = 64


class LeafLists(LeafArrays):
    """:class:`LeafArrays` with one Python list per class instead of array rows."""

    __slots__ = ("gather", "plan")

    def __init__(self, leaf, key_index):
        super().__init__(leaf, key_index)
        columns = self.row_index.tolist()
        self.gather = None if columns == list(range(len(key_index))) else columns
        # The order river adds the columns in: Gaussian column j or another
        # splitter, by position in ``leaf.splitters``.
        plan = [None] * self.n_splitters
        for column, position in enumerate(self.positions.tolist()):
            plan[position - 1] = column
        for position, key, splitter in self.others:
            plan[position] = (key, splitter)
        self.plan = plan

    def _allocate(self, shape):
        n_classes, n_columns = shape
        self.count = [[0.0] * n_columns for _ in range(n_classes)]
        self.mean = [[0.0] * n_columns for _ in range(n_classes)]
        self.sum_squares = [[0.0] * n_columns for _ in range(n_classes)]
        self.minimum = [[0.0] * n_columns for _ in range(n_classes)]
        self.maximum = [[0.0] * n_columns for _ in range(n_classes)]
        self.neg_two_var = [[-2.0] * n_columns for _ in range(n_classes)]
        self.half_log_var = [[0.0] * n_columns for _ in range(n_classes)]
        self.valid = [[False] * n_columns for _ in range(n_classes)]

    def statistics(self, rows):
        return tuple(
            np.array([table[row] for row in rows], dtype=np.float64).reshape(
                len(rows), len(self.gauss_keys)
            )
            for table in (
                self.count,
                self.mean,
                self.sum_squares,
                self.minimum,
                self.maximum,
            )
        )

    def _set_prior_arrays(self):
        pass

    def _values(self, row):
        values = row.tolist()
        return values if self.gather is None else [values[i] for i in self.gather]

    def _finite_values(self, row):
        values = self._values(row)
        return values if all(map(math.isfinite, values)) else None

    def _welford(self, index, values, w):
        count, mean, sum_squares = (
            self.count[index],
            self.mean[index],
            self.sum_squares[index],
        )
        for column, value in enumerate(values):
            n = count[column] + w
            mean_old = mean[column]
            mean_new = mean_old + (w / n) * (value - mean_old)
            sum_squares[column] += w * (value - mean_old) * (value - mean_new)
            count[column], mean[column] = n, mean_new

    def _row_lists(self, index):
        return self.count[index], self.mean[index], self.sum_squares[index]

    def _derive(self, row):
        neg_two_var, half_log_var = self.neg_two_var[row], self.half_log_var[row]
        valid = self.valid[row]
        for column, (n, sum_squares) in enumerate(
            zip(self.count[row], self.sum_squares[row])
        ):
            variance = sum_squares / (n - 1) if n > 1 else 0.0
            if variance > 0.0:
                valid[column] = True
                neg_two_var[column] = -2.0 * variance
                half_log_var[column] = 0.5 * math.log(variance)
            else:
                valid[column] = False
                neg_two_var[column], half_log_var[column] = -2.0, 0.0

    def _learn_range(self, index, label, values, x):
        minimum, maximum = self.minimum[index], self.maximum[index]
        for column, value in enumerate(values):
            if value < minimum[column]:
                self.min_dicts[column][label] = x[self.gauss_keys[column]]
                minimum[column] = value
            if value > maximum[column]:
                self.max_dicts[column][label] = x[self.gauss_keys[column]]
                maximum[column] = value

    def votes(self, x, row):
        """river's ``do_naive_bayes_prediction(x, stats, splitters)``."""
        if row is self.last_row:
            return self.last_votes
        if not self.stats or sum(self.stats.values()) == 0:
            return {}
        values = self._values(row)
        totals = []
        for index, (label, prior) in enumerate(zip(self.labels, self.log_prior)):
            if prior is None:
                totals.append(0.0)
                continue
            terms = list(
                zip(
                    values,
                    self.mean[index],
                    self.neg_two_var[index],
                    self.half_log_var[index],
                    self.valid[index],
                )
            )
            totals.append(self._log_likelihood(prior, terms, label, x))
        votes = normalised_votes(self.labels, totals)
        self.last_row, self.last_votes = row, votes
        return votes

    def _log_likelihood(self, total, terms, label, x):
        """Add each splitter's log-likelihood to the prior, in river's order."""
        for step in self.plan:
            if type(step) is int:
                value, mean, neg_two_var, half_log_var, valid = terms[step]
                if not valid:
                    continue
                try:
                    term = (value - mean) ** 2 / neg_two_var
                except OverflowError:  # numpy: inf, then -inf: no vote
                    continue
                term = term - _HALF_LOG_TAU - half_log_var
                if term > -math.inf:
                    total += term
                continue
            key, splitter = step
            log_proba = getattr(splitter, "cond_log_proba", None)
            if log_proba is not None:
                value = log_proba(x[key], label)
                if value > -math.inf:
                    total += value
            else:
                value = splitter.cond_proba(x[key], label)
                if value > 0:
                    total += math.log(value)
        return total
