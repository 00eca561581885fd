"""Narrow leaves keep their statistics as lists, wide ones as arrays: same numbers."""

import numpy as np
import pytest
from river import tree

from skensemble.stream import _fast_leaf_lists
from skensemble.stream._fast_leaf import LeafArrays
from skensemble.stream._fast_leaf_lists import LeafLists
from skensemble.stream._fast_tree import HoeffdingFastPath


def train(n_features, n_rows=400, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_rows, n_features))
    y = (X[:, 0] + 0.5 * rng.normal(size=n_rows) > 0).astype(int)
    keys = list(range(n_features))
    fast = HoeffdingFastPath(keys)
    model = tree.HoeffdingTreeClassifier(grace_period=1000, leaf_prediction="nb")
    for row, label in zip(X, y.tolist()):
        x = dict(zip(keys, row.tolist()))
        fast.predict_proba_one(model, x, row)
        fast.learn_one(model, x, label, row)
    return fast, model, keys


def leaf_kinds(fast):
    return {type(cache) for cache in fast._caches.values()}


def test_narrow_leaves_use_lists_and_wide_leaves_arrays():
    # The caches are keyed weakly by leaf: keep the trees alive.
    narrow, narrow_tree, _ = train(n_features=8)
    wide, wide_tree, _ = train(n_features=_fast_leaf_lists.MAX_LIST_CELLS)
    assert narrow_tree.n_nodes == wide_tree.n_nodes == 1
    assert leaf_kinds(narrow) == {LeafLists}
    assert leaf_kinds(wide) == {LeafArrays}


@pytest.mark.parametrize("value", [1e200, -1e200, 1e300])
def test_overflowing_square_gives_no_vote_in_both_storages(monkeypatch, value):
    # river's own log_pdf raises OverflowError on (x - mu) ** 2; numpy's
    # float_power gives inf, i.e. a -inf term that casts no vote. Lists must
    # agree with arrays.
    votes = {}
    for storage, cells in (("lists", 10**9), ("arrays", -1)):
        monkeypatch.setattr(_fast_leaf_lists, "MAX_LIST_CELLS", cells)
        fast, model, keys = train(n_features=4)
        row = np.array([0.3, value, -0.2, 0.1])
        x = dict(zip(keys, row.tolist()))
        votes[storage] = fast.predict_proba_one(model, x, row)
        fast.flush()
        with pytest.raises(OverflowError):
            model.predict_proba_one(x)
    assert votes["lists"] == votes["arrays"]
    assert abs(sum(votes["lists"].values()) - 1.0) < 1e-12
