"""Estimators under joblib's Dask backend give the sequential results.

One ``LocalCluster`` of two single-threaded worker processes (loopback only)
serves the whole module and is shut down at its end. Data and networks are
tiny: the point is where the work runs and what travels, not accuracy.
"""

import pickle

import joblib
import pytest
import torch
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import make_classification, make_regression
from sklearn.linear_model import QuantileRegressor
from sklearn.model_selection import GridSearchCV

from skensemble import EnsLossClassifier, QuantileAggregator, TabMRegressor
from skensemble._torch import worker_thread_budget, worker_threads

distributed = pytest.importorskip(
    "distributed", reason="dask.distributed is not installed (the 'dask' extra)"
)

# The scheduler's HTTP endpoint moves to a free port when another cluster on
# the machine holds the default one; it binds to the loopback host either way.
pytestmark = pytest.mark.filterwarnings("ignore:Port \\d+ is already in use")


@pytest.fixture(scope="module")
def dask_client():
    import dask

    # The worker set-up the Scaling out page recommends: without Dask's
    # MALLOC_TRIM_THRESHOLD_ a small torch fit needs about half the CPU time.
    untrimmed = {"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}
    with dask.config.set(untrimmed):
        cluster = distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        )
    client = distributed.Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


def _tiny_tabm():
    return TabMRegressor(
        k=2, d_block=16, n_blocks=1, max_iter=3, batch_size=32, random_state=0
    )


def _tiny_ensloss():
    return EnsLossClassifier(hidden_layer_sizes=(16,), max_iter=3, random_state=0)


def _tiny_aggregator(n_jobs=None):
    return QuantileAggregator(
        [
            ("linear", QuantileRegressor(alpha=0.0)),
            ("tabm", _tiny_tabm().set_params(loss="quantile")),
        ],
        quantiles=[0.1, 0.5, 0.9],
        weights="global",
        granularity="medium",
        cv=2,
        max_iter=5,
        n_jobs=n_jobs,
        random_state=0,
    )


def _regression():
    return make_regression(n_samples=120, n_features=4, noise=5.0, random_state=0)


def _classification():
    return make_classification(n_samples=120, n_features=4, random_state=0)


SEARCHES = {
    "TabMRegressor": (_tiny_tabm, {"learning_rate": [1e-3, 1e-2]}, _regression),
    "EnsLossClassifier": (
        _tiny_ensloss,
        {"boxcox_lambda": [0.0, 0.5]},
        _classification,
    ),
    "QuantileAggregator": (
        _tiny_aggregator,
        {"granularity": ["coarse", "medium"]},
        _regression,
    ),
}


def _search(name, n_jobs):
    make_estimator, grid, _ = SEARCHES[name]
    return GridSearchCV(make_estimator(), grid, cv=2, n_jobs=n_jobs)


def _assert_same_search(parallel, sequential):
    assert parallel.best_params_ == sequential.best_params_
    for key in ("mean_test_score", "split0_test_score", "split1_test_score"):
        assert_allclose(
            parallel.cv_results_[key], sequential.cv_results_[key], rtol=1e-6
        )


@pytest.mark.parametrize("name", list(SEARCHES))
def test_grid_search_on_dask_matches_sequential(dask_client, name):
    X, y = SEARCHES[name][2]()
    sequential = _search(name, n_jobs=None).fit(X, y)
    with (
        distributed.get_task_stream(dask_client) as tasks,
        joblib.parallel_config(backend="dask"),
    ):
        parallel = _search(name, n_jobs=-1).fit(X, y)
    _assert_same_search(parallel, sequential)
    # The fits really ran in the worker processes (which of the two is the
    # scheduler's choice: short tasks may all land on one).
    used = {task["worker"] for task in tasks.data}
    assert used and used <= set(dask_client.scheduler_info()["workers"])


def test_aggregator_base_models_on_dask_match_sequential(dask_client):
    X, y = _regression()
    sequential = _tiny_aggregator().fit(X, y)
    with joblib.parallel_config(backend="dask"):
        parallel = _tiny_aggregator(n_jobs=-1).fit(X, y)
    assert_allclose(parallel.oof_predictions_, sequential.oof_predictions_, rtol=1e-6)
    assert_allclose(
        parallel.predict(X, quantiles=[0.1, 0.9]),
        sequential.predict(X, quantiles=[0.1, 0.9]),
        rtol=1e-6,
    )


def test_grid_search_with_loky_processes_matches_sequential():
    X, y = _regression()
    sequential = _search("TabMRegressor", n_jobs=None).fit(X, y)
    parallel = _search("TabMRegressor", n_jobs=2).fit(X, y)
    _assert_same_search(parallel, sequential)


def _threads_seen_by_a_task():
    # Start from two intra-op threads so that a budget of one shows.
    original = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        before = torch.get_num_threads()
        with worker_threads():
            inside = torch.get_num_threads()
        return before, inside, torch.get_num_threads(), worker_thread_budget()
    finally:
        torch.set_num_threads(original)


def test_worker_threads_takes_the_task_share_and_restores():
    # Two task threads in one process: each gets half of the CPUs (at least 1),
    # never more than torch had, and the old value comes back afterwards.
    with (
        distributed.LocalCluster(
            n_workers=1,
            threads_per_worker=2,
            processes=False,
            protocol="tcp",
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        before, inside, after, budget = client.submit(
            _threads_seen_by_a_task, pure=False
        ).result()
    expected = max(1, min(before, joblib.cpu_count() // 2))
    assert budget == expected
    assert inside == expected
    assert after == before


def test_worker_threads_changes_nothing_outside_a_worker():
    previous = torch.get_num_threads()
    assert worker_thread_budget() is None
    with worker_threads():
        assert torch.get_num_threads() == previous
    assert torch.get_num_threads() == previous


@pytest.mark.parametrize("make_estimator", [_tiny_tabm, _tiny_ensloss])
def test_fitted_net_pickles_without_training_leftovers(make_estimator):
    X, y = (_regression if make_estimator is _tiny_tabm else _classification)()
    estimator = make_estimator().set_params(max_iter=2)
    if make_estimator is _tiny_ensloss:
        estimator.set_params(lr_schedule="cosine")
    estimator.fit(X, y)
    blob = pickle.dumps(estimator)
    restored = pickle.loads(blob)
    net = restored.net_
    # No validation rows in the pickle, the constructor module stored once (it
    # is the trained module again), no second optimizer behind a scheduler.
    assert net.train_split is None
    assert net.module is net.module_
    assert net.criterion is net.criterion_
    assert all(
        getattr(callback, "lr_scheduler_", None) is None
        for _, callback in net.callbacks_
    )
    n_weights = sum(p.numel() for p in net.module_.parameters())
    # Weights and Adam's two moments (4 bytes each) plus a fixed overhead.
    assert len(blob) < 3 * 4 * n_weights + 64_000
    assert_array_equal(restored.predict(X), estimator.predict(X))
