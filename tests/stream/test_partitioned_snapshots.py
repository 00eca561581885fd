"""One DriftMoE per key partition survives a restart from a pickled snapshot.

The pattern of ``examples/plot_stream_partitioned_snapshots.py``: each
partition's model is pickled with its offset; after a crash it is restored and
re-reads its partition from that offset, and must then behave exactly like a
model that never stopped.
"""

import pickle

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from skensemble.stream import DriftMoEClassifier
from skensemble.stream._demo import sea_stream


def _model():
    # router_batch_size=24 does not divide the snapshot offsets, so snapshots
    # are taken with a half-filled router buffer.
    return DriftMoEClassifier(
        n_experts=4, router_hidden=(16,), router_batch_size=24, random_state=0
    )


def _consume(model, X, y, start, stop, batch_size=50):
    predictions = [
        model.partial_fit_predict(X[i : i + batch_size], y[i : i + batch_size], [0, 1])
        for i in range(start, stop, batch_size)
    ]
    return np.concatenate(predictions)


@pytest.mark.parametrize("key_seed", [0, 1])
def test_restored_partition_model_continues_like_one_never_stopped(key_seed):
    X, y = sea_stream(1200, seed=key_seed)
    never_stopped = _model()
    expected = _consume(never_stopped, X, y, 0, len(y))

    live = _model()
    _consume(live, X, y, 0, 500)
    snapshot = pickle.dumps((500, live))  # (offset, model)
    _consume(live, X, y, 500, 750)  # learnt, then lost in the crash
    del live

    offset, restored = pickle.loads(snapshot)
    after_restart = _consume(restored, X, y, offset, len(y))
    assert_array_equal(after_restart, expected[offset:])
    assert_array_equal(restored.predict_proba(X), never_stopped.predict_proba(X))


def test_snapshot_from_the_wrong_offset_is_detectably_different():
    # The property above is not vacuous: resuming from a snapshot while
    # skipping the events after it gives a different model.
    X, y = sea_stream(1200, seed=0)
    never_stopped = _model()
    _consume(never_stopped, X, y, 0, len(y))
    live = _model()
    _consume(live, X, y, 0, 500)
    restored = pickle.loads(pickle.dumps(live))
    _consume(restored, X, y, 750, len(y))
    assert not np.array_equal(restored.predict_proba(X), never_stopped.predict_proba(X))


def test_river_face_snapshot_continues_identically():
    X, y = sea_stream(600, seed=2)
    rows = [dict(enumerate(row)) for row in X]
    never_stopped, live = _model(), _model()
    for x, label in zip(rows[:250], y[:250]):
        never_stopped.learn_one(x, label)
        live.learn_one(x, label)
    restored = pickle.loads(pickle.dumps(live))
    for x, label in zip(rows[250:], y[250:]):
        assert never_stopped.predict_proba_one(x) == restored.predict_proba_one(x)
        never_stopped.learn_one(x, label)
        restored.learn_one(x, label)
