"""The statistics of one river Hoeffding-tree leaf, as arrays over classes x features.

A :class:`LeafArrays` mirrors, for one leaf of a ``HoeffdingTreeClassifier``,
what its ``GaussianSplitter`` objects hold per class and feature: the weight,
mean and sum of squared deviations of river's Welford estimator
(``stats.Var``) and the smallest and largest value seen. With them it

* predicts river's naive Bayes votes with numpy (:meth:`LeafArrays.votes`):
  ``(x - mean) ** 2 / (-2 variance) - log(tau) / 2 - log(variance) / 2`` over
  classes x features, with the C library's ``pow`` as Python's ``**`` uses it
  (``np.float_power``), added to the log prior left to right (``np.cumsum``);
* learns an instance (:meth:`LeafArrays.learn`): river's Welford update,
  ``n += w; mean += (w / n) (x - mean); S += w (x - mean_old) (x - mean_new)``,
  in the same operation order, for all features at once. The class counts,
  minima, maxima and nominal splitters are updated in river's objects at once;
  the hundreds of scattered estimator objects get their new weight, mean and
  sum of squares at :meth:`LeafArrays.sync` (``HoeffdingFastPath.flush``),
  which runs before any river code reads them and at the end of every batch,
  so whenever river or a user looks, the tree is the one river would have built.

Elementwise ``+ - * /`` of float64 are correctly rounded in numpy as in
Python, so every number is the same, bit for bit. Logarithms go through
``math.log`` (numpy may use a different, vectorised implementation).
Non-Gaussian splitters (e.g. nominal attributes) keep river's own code.
"""

import math

import numpy as np
from river.tree.splitter import GaussianSplitter

_HALF_LOG_TAU = 0.5 * math.log(math.tau)


def normalised_votes(labels, totals):
    """river's log-sum-exp normalisation of per-class log-likelihoods."""
    max_ll = max(totals)
    lse = max_ll + math.log(sum(math.exp(value - max_ll) for value in totals))
    return {label: math.exp(value - lse) for label, value in zip(labels, totals)}


class LeafArrays:
    """The Gaussian statistics of one leaf, as arrays over classes x features.

    Rows follow the leaf's class counts (``list(leaf.stats)``), columns the
    leaf's Gaussian splitters in ``leaf.splitters`` order.
    """

    __slots__ = (
        "splitters",
        "n_splitters",
        "stats",
        "labels",
        "row_of",
        "log_prior",
        "prior_column",
        "dead",
        "any_dead",
        "gauss_keys",
        "gauss_splitters",
        "min_dicts",
        "max_dicts",
        "row_index",
        "in_order",
        "positions",
        "others",
        "count",
        "mean",
        "sum_squares",
        "minimum",
        "maximum",
        "complete",
        "mean_objects",
        "var_objects",
        "neg_two_var",
        "half_log_var",
        "valid",
        "twos",
        "last_row",
        "last_votes",
        "dirty",
    )

    def __init__(self, leaf, key_index):
        splitters = leaf.splitters
        self.splitters = splitters
        self.n_splitters = len(splitters)
        self.gauss_keys, self.gauss_splitters, self.others = [], [], []
        gauss_positions = []
        for position, (key, splitter) in enumerate(splitters.items()):
            if type(splitter) is GaussianSplitter:
                gauss_positions.append(position)
                self.gauss_keys.append(key)
                self.gauss_splitters.append(splitter)
            else:
                self.others.append((position, key, splitter))
        self.min_dicts = [s._min_per_class for s in self.gauss_splitters]
        self.max_dicts = [s._max_per_class for s in self.gauss_splitters]
        self.row_index = np.fromiter(
            (key_index[key] for key in self.gauss_keys), np.intp, len(self.gauss_keys)
        )
        self.positions = np.asarray(gauss_positions, dtype=np.intp) + 1
        self.in_order = not self.others
        self.labels = None
        self.dirty = set()
        self.last_row = None
        self.last_votes = None
        self._refresh(leaf.stats)

    def matches(self, leaf):
        return (
            leaf.splitters is self.splitters
            and len(self.splitters) == self.n_splitters
            and leaf.stats == self.stats
        )

    def refresh(self, leaf):
        """Bring the arrays up to date with a leaf whose class counts changed."""
        self.sync()
        self.last_row = self.last_votes = None
        self._refresh(leaf.stats)

    def _refresh(self, stats):
        labels = list(stats)
        old_stats = self.stats if self.labels == labels else None
        if old_stats is None:
            self.labels = labels
            self.row_of = {label: row for row, label in enumerate(labels)}
            self.complete = [False] * len(labels)
            self.mean_objects = [None] * len(labels)
            self.var_objects = [None] * len(labels)
            self._allocate((len(labels), len(self.gauss_keys)))
        self._set_stats(stats)
        for row, label in enumerate(labels):
            if old_stats is not None and old_stats[label] == stats[label]:
                continue
            self._read_class(row, label)

    def _allocate(self, shape):
        """Zeroed statistics and derived constants for classes x features."""
        self.count = np.zeros(shape)
        self.mean = np.zeros(shape)
        self.sum_squares = np.zeros(shape)
        self.minimum = np.zeros(shape)
        self.maximum = np.zeros(shape)
        self.neg_two_var = np.full(shape, -2.0)
        self.half_log_var = np.zeros(shape)
        self.valid = np.zeros(shape, dtype=bool)
        self.twos = np.full(shape, 2.0)

    def statistics(self, rows):
        """Weights, means, sums of squares, minima and maxima of ``rows``, as arrays."""
        return (
            self.count[rows],
            self.mean[rows],
            self.sum_squares[rows],
            self.minimum[rows],
            self.maximum[rows],
        )

    def _set_stats(self, stats):
        self.stats = dict(stats)
        total = sum(stats.values())
        self.log_prior = [
            math.log(weight / total) if weight > 0 and total != 0 else None
            for weight in stats.values()
        ]
        self._set_prior_arrays()

    def _set_prior_arrays(self):
        self.dead = np.array([value is None for value in self.log_prior])
        self.any_dead = bool(self.dead.any())
        self.prior_column = np.array(
            [0.0 if value is None else value for value in self.log_prior]
        )

    def _read_class(self, row, label):
        """Copy river's statistics of one class into the arrays."""
        count, mean, sum_squares = (
            self.count[row],
            self.mean[row],
            self.sum_squares[row],
        )
        minimum, maximum = self.minimum[row], self.maximum[row]
        mean_objects, var_objects = [], []
        for column, splitter in enumerate(self.gauss_splitters):
            estimator = splitter._att_dist_per_class.get(label)
            if estimator is None:
                count[column] = mean[column] = sum_squares[column] = 0.0
                minimum[column] = maximum[column] = 0.0
                continue
            var = estimator._var
            count[column] = float(var.mean.n)
            mean[column] = float(var.mean._mean)
            sum_squares[column] = float(var._S)
            minimum[column] = float(splitter._min_per_class[label])
            maximum[column] = float(splitter._max_per_class[label])
            mean_objects.append(var.mean)
            var_objects.append(var)
        complete = len(var_objects) == len(self.gauss_splitters)
        self.complete[row] = complete
        self.mean_objects[row] = mean_objects if complete else None
        self.var_objects[row] = var_objects if complete else None
        self._derive(row)

    def _derive(self, row):
        """river's ``Gaussian.log_pdf`` constants for one class (``ddof=1``)."""
        count = self.count[row]
        with np.errstate(divide="ignore", invalid="ignore"):
            variance = self.sum_squares[row] / (count - 1)
        valid = (count > 1) & (variance > 0.0)
        self.valid[row] = valid
        self.neg_two_var[row] = np.where(valid, -2.0 * variance, -2.0)
        self.half_log_var[row] = 0.0
        # 0.5 * log(v), as river computes it: scaling by 0.5 is exact.
        self.half_log_var[row, valid] = 0.5 * np.fromiter(
            map(math.log, variance[valid].tolist()), np.float64, int(valid.sum())
        )

    def learn(self, leaf, x, label, row, w, n_features):
        """river's ``HTLeaf.learn_one`` for this active leaf, or False.

        ``x`` must hold exactly the ``n_features`` keys of the rows. The
        class counts, nominal splitters and per-class minima and maxima are
        updated in river's objects at once; the Gaussian estimators' weight,
        mean and sum of squares only in the arrays, until :meth:`sync`.
        Returns False, having changed nothing, when the instance is not one
        the arrays follow (a class or feature new to the leaf, a disabled
        attribute, a non-finite value, a weight that is not positive); river
        must then learn it, after :meth:`sync`, and the arrays be rebuilt.
        """
        index = self.row_of.get(label)
        if (
            index is None
            or not self.complete[index]
            or leaf.splitters is not self.splitters
            or len(self.splitters) != self.n_splitters
            or self.n_splitters != n_features
            or len(x) != n_features
            or leaf._disabled_attrs
            or not w > 0
        ):
            return False
        values = self._finite_values(row)
        if values is None:
            return False
        leaf.update_stats(label, w)
        for _, key, splitter in self.others:
            splitter.update(x[key], label, w)
        self._welford(index, values, w)
        self.dirty.add(index)
        self._learn_range(index, label, values, x)
        self._derive(index)
        self._set_stats(leaf.stats)
        self.last_row = self.last_votes = None
        return True

    def _finite_values(self, row):
        """The Gaussian features' values, or None unless all are finite."""
        values = row[self.row_index]
        return values if np.isfinite(values).all() else None

    def _welford(self, index, values, w):
        """river's ``stats.Var.update`` for one class, over all features at once."""
        count = self.count[index] + w
        mean_old = self.mean[index]
        mean_new = mean_old + (w / count) * (values - mean_old)
        self.sum_squares[index] += w * (values - mean_old) * (values - mean_new)
        self.count[index], self.mean[index] = count, mean_new

    def _row_lists(self, index):
        return (
            self.count[index].tolist(),
            self.mean[index].tolist(),
            self.sum_squares[index].tolist(),
        )

    def sync(self):
        """Write the learnt weights, means and sums of squares into river's objects."""
        for index in self.dirty:
            for mean_object, var_object, n, mean, sum_squares in zip(
                self.mean_objects[index],
                self.var_objects[index],
                *self._row_lists(index),
            ):
                mean_object.n = n
                mean_object._mean = mean
                var_object._S = sum_squares
        self.dirty.clear()

    def _learn_range(self, index, label, values, x):
        """river's per-class minimum and maximum, where the value is new."""
        minimum, maximum = self.minimum[index], self.maximum[index]
        for column in np.flatnonzero(values < minimum).tolist():
            self.min_dicts[column][label] = x[self.gauss_keys[column]]
            minimum[column] = values[column]
        for column in np.flatnonzero(values > maximum).tolist():
            self.max_dicts[column][label] = x[self.gauss_keys[column]]
            maximum[column] = values[column]

    def votes(self, x, row):
        """river's ``do_naive_bayes_prediction(x, stats, splitters)``."""
        if row is self.last_row:
            return self.last_votes
        if not self.stats or sum(self.stats.values()) == 0:
            return {}
        n_classes = len(self.labels)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            terms = np.float_power(row[self.row_index] - self.mean, self.twos)
            terms /= self.neg_two_var
            terms -= _HALF_LOG_TAU
            terms -= self.half_log_var
        terms = np.where(self.valid & (terms > -np.inf), terms, 0.0)
        table = np.empty((n_classes, 1 + self.n_splitters))
        table[:, 0] = self.prior_column
        if self.in_order:
            table[:, 1:] = terms
        else:
            table[:, self.positions] = terms
            self._fill_others(table, x)
        if self.any_dead:
            table[self.dead] = 0.0
        totals = np.cumsum(table, axis=1)[:, -1].tolist()
        votes = normalised_votes(self.labels, totals)
        self.last_row, self.last_votes = row, votes
        return votes

    def _fill_others(self, table, x):
        """Columns of non-Gaussian splitters, computed as river computes them."""
        for index, label in enumerate(self.labels):
            if self.log_prior[index] is None:
                continue
            for position, key, splitter in self.others:
                log_proba = getattr(splitter, "cond_log_proba", None)
                if log_proba is not None:
                    value = log_proba(x[key], label)
                    table[index, position + 1] = value if value > -math.inf else 0.0
                else:
                    value = splitter.cond_proba(x[key], label)
                    table[index, position + 1] = math.log(value) if value > 0 else 0.0
