"""Data-parallel training over torch.distributed (gloo, CPU, 2 spawned processes).

One spawn of two ranks runs every distributed fit (process start-up dominates the
cost); the tests compare its results with single-process fits made here.
"""

import datetime
import json
import os
import pickle
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from torch import distributed as dist
from torch import multiprocessing

from skensemble import _distributed as distributed
from skensemble.cli import main
from skensemble.ensloss import EnsLossClassifier
from skensemble.tabm import TabMClassifier, TabMRegressor

WORLD_SIZE = 2
TIMEOUT = 150


def regression_data():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(301, 5))
    y = X[:, 0] - 2.0 * X[:, 1] * X[:, 2] + 0.1 * rng.normal(size=301)
    weight = rng.uniform(0.2, 3.0, size=301)
    return X, y, weight


def classification_data():
    rng = np.random.RandomState(1)
    X = rng.normal(size=(263, 4)).astype(np.float32)
    y = np.where(X[:, 0] + X[:, 1] ** 2 > 0.7, "yes", "no")
    return X, y


# Batch sizes are odd so the two shards of a global batch differ in size, and
# the last batch of an epoch is ragged (for the EnsLoss fits it has one row, so
# rank 1's shard is empty); dropout is 0 (masks are drawn per rank).
def tabm_regressor():
    return TabMRegressor(
        k=4,
        n_blocks=2,
        d_block=16,
        dropout=0.0,
        batch_size=37,
        max_iter=40,
        learning_rate=2e-2,
        n_iter_no_change=2,
        random_state=0,
    )


def ensloss_tabm():
    return EnsLossClassifier(
        backbone="tabm",
        hidden_layer_sizes=(16, 16),
        k=3,
        dropout=0.0,
        batch_size=47,  # 236 training rows: 5 batches of 47 and one of 1
        max_iter=4,
        learning_rate=0.05,
        early_stopping=True,
        n_iter_no_change=2,
        random_state=0,
    )


def ensloss_mlp():
    return EnsLossClassifier(
        hidden_layer_sizes=(16,),
        batch_size=131,  # 263 rows: 2 batches of 131 and one of 1
        max_iter=10,
        learning_rate=0.1,
        random_state=0,
    )


def tabm_classifier():
    return TabMClassifier(
        k=3,
        n_blocks=1,
        d_block=16,
        dropout=0.0,
        batch_size=29,
        max_iter=3,
        learning_rate=1e-2,
        random_state=0,
    )


def fits():
    """The fits every rank runs, by name: an unfitted estimator and fit arguments."""
    X, y, weight = regression_data()
    X_c, y_c = classification_data()
    return {
        "tabm_regressor": (tabm_regressor(), (X, y), {"sample_weight": weight}),
        "tabm_classifier": (tabm_classifier(), (X_c, y_c), {}),
        "ensloss_tabm": (ensloss_tabm(), (X_c, y_c), {}),
        "ensloss_mlp": (ensloss_mlp(), (X_c, y_c), {}),
        # No seed: rank 0 draws one for all, else the validation splits differ.
        "unseeded": (tabm_regressor().set_params(random_state=None), (X, y), {}),
    }


def worker(rank, store_dir):
    torch.set_num_threads(1)
    dist.init_process_group(
        "gloo",
        init_method=f"file://{store_dir}/store",
        rank=rank,
        world_size=WORLD_SIZE,
        timeout=datetime.timedelta(seconds=60),
    )
    results = {}
    try:
        for name, (estimator, args, kwargs) in fits().items():
            results[name] = pickle.dumps(estimator.fit(*args, **kwargs))
        # Ranks that hold different data must fail loudly, not hang.
        X, y, _ = regression_data()
        for key, rows in (("rows", 200 + 10 * rank), ("valid", 200 + rank)):
            try:
                tabm_regressor().set_params(max_iter=2).fit(X[:rows], y[:rows])
            except RuntimeError as error:
                results[f"mismatch_{key}"] = str(error)
    finally:
        dist.destroy_process_group()
    with open(os.path.join(store_dir, f"rank{rank}.pkl"), "wb") as file:
        pickle.dump(results, file)


@pytest.fixture(scope="module")
def ranks(tmp_path_factory):
    """The pickled results of every rank of one 2-process gloo run."""
    store_dir = str(tmp_path_factory.mktemp("ddp"))
    old = os.environ.get("OMP_NUM_THREADS")
    os.environ["OMP_NUM_THREADS"] = "1"
    try:
        context = multiprocessing.start_processes(
            worker, args=(store_dir,), nprocs=WORLD_SIZE, join=False
        )
    finally:
        if old is None:
            del os.environ["OMP_NUM_THREADS"]
        else:
            os.environ["OMP_NUM_THREADS"] = old
    deadline = time.monotonic() + TIMEOUT
    while not context.join(timeout=1):
        if time.monotonic() > deadline:
            for process in context.processes:
                process.kill()
            pytest.fail(f"distributed workers did not finish in {TIMEOUT} s")
    results = []
    for rank in range(WORLD_SIZE):
        with open(os.path.join(store_dir, f"rank{rank}.pkl"), "rb") as file:
            results.append(pickle.load(file))
    return results


def fitted(results, name):
    return pickle.loads(results[name])


def parameters(estimator):
    return {
        k: v.detach().numpy() for k, v in estimator.net_.module_.state_dict().items()
    }


def assert_same_parameters(left, right, atol):
    left, right = parameters(left), parameters(right)
    assert left.keys() == right.keys()
    for key in left:
        np.testing.assert_allclose(
            left[key], right[key], rtol=0, atol=atol, err_msg=key
        )


@pytest.mark.parametrize("name", ["tabm_regressor", "tabm_classifier", "ensloss_tabm"])
def test_ranks_equal_one_process_on_the_same_global_batches(ranks, name):
    estimator, args, kwargs = fits()[name]
    single = estimator.fit(*args, **kwargs)
    for results in ranks:
        parallel = fitted(results, name)
        assert_same_parameters(parallel, single, atol=1e-5)
        assert parallel.n_iter_ == single.n_iter_
        np.testing.assert_allclose(
            parallel.validation_scores_, single.validation_scores_, atol=1e-6
        )
        np.testing.assert_allclose(parallel.loss_curve_, single.loss_curve_, rtol=1e-5)


def test_early_stopping_stops_at_the_same_epoch_on_every_rank(ranks):
    stopped = [fitted(results, "tabm_regressor") for results in ranks]
    max_iter = stopped[0].max_iter
    assert stopped[0].n_iter_ < max_iter, "the test must exercise early stopping"
    assert len({est.n_iter_ for est in stopped}) == 1
    assert len({est.best_iteration_ for est in stopped}) == 1


@pytest.mark.parametrize(
    "name", ["tabm_regressor", "tabm_classifier", "ensloss_tabm", "ensloss_mlp"]
)
def test_every_rank_ends_with_the_same_plain_model(ranks, name):
    models = [fitted(results, name) for results in ranks]
    # Exactly equal, BatchNorm running statistics included.
    assert_same_parameters(models[0], models[1], atol=0.0)
    X = regression_data()[0] if name == "tabm_regressor" else classification_data()[0]
    np.testing.assert_array_equal(models[0].predict(X), models[1].predict(X))
    for model in models:
        assert type(model.net_.module_).__module__.startswith("skensemble.")


def test_random_state_none_gives_every_rank_the_same_split_and_batches(ranks):
    models = [fitted(results, "unseeded") for results in ranks]
    assert_same_parameters(models[0], models[1], atol=0.0)
    assert models[0].validation_scores_ == models[1].validation_scores_


def test_batchnorm_backbone_trains_on_per_rank_statistics(ranks):
    # The documented inexact case: BatchNorm normalises each shard by itself.
    estimator, args, _ = fits()["ensloss_mlp"]
    single = estimator.fit(*args)
    parallel = fitted(ranks[0], "ensloss_mlp")
    gap = max(
        np.abs(a - b).max()
        for a, b in zip(parameters(parallel).values(), parameters(single).values())
    )
    assert gap > 1e-5
    # ... and still learns: the majority class is 54%, one process reaches 89%.
    assert parallel.score(*args) > 0.8


def test_ranks_with_different_data_fail_with_a_clear_error(ranks):
    for results in ranks:
        assert "same training rows" in results["mismatch_rows"]
        assert "rank 0: [160" in results["mismatch_rows"]
        # Same training rows, different validation rows: caught at the first
        # score, before early stopping could take different decisions.
        assert "same validation score" in results["mismatch_valid"]


def test_shards_cover_the_global_batch_in_order():
    index = torch.arange(7)
    parts = [distributed.shard(index, rank, 3) for rank in range(3)]
    assert [p[0].tolist() for p in parts] == [[0, 1, 2], [3, 4], [5, 6]]
    assert [(p[1].start, p[1].stop, p[1].size) for p in parts] == [
        (0, 3, 7),
        (3, 5, 7),
        (5, 7, 7),
    ]
    assert distributed.shard(torch.arange(1), 1, 2)[0].numel() == 0


def test_without_a_process_group_nothing_is_distributed():
    assert distributed.rank_and_world_size() == (0, 1)
    assert distributed.local_device("auto") is None
    local = torch.randn(4, 3)
    batch, rows = distributed.gather_batch(local)
    assert batch is local and rows == slice(None)
    assert distributed.shared_random_state(3).randint(100) == (
        np.random.RandomState(3).randint(100)
    )


# -- the train command -----------------------------------------------------------
def write_config(tmp_path, name="cfg.json", **overrides):
    X, y, _ = regression_data()
    table = pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])
    table["colour"] = np.where(X[:, 0] > 0, "red", "blue")
    table["price"] = y
    table.to_csv(tmp_path / "train.csv", index=False)
    config = {
        "estimator": "TabMRegressor",
        "params": {
            "k": 4,
            "d_block": 16,
            "n_blocks": 2,
            "dropout": 0.0,
            "batch_size": 37,
            "max_iter": 3,
            "random_state": 0,
        },
        "data": "train.csv",
        "target": "price",
        "categorical": ["colour"],
        "output": "out/model.pkl",
        "summary": "out/summary.json",
        **overrides,
    }
    path = tmp_path / name
    if name.endswith(".toml"):
        path.write_text(to_toml(config))
    else:
        path.write_text(json.dumps(config))
    return path, table


def to_toml(config):
    lines = []
    for key, value in config.items():
        if not isinstance(value, dict):
            lines.append(f"{key} = {json.dumps(value)}")
    lines.append("[params]")
    lines += [f"{key} = {json.dumps(value)}" for key, value in config["params"].items()]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("name", ["cfg.json", "cfg.toml"])
def test_train_command_writes_the_model_and_a_summary(tmp_path, capsys, name):
    path, table = write_config(tmp_path, name)
    assert main(["train", "--config", str(path)]) == 0
    with open(tmp_path / "out" / "model.pkl", "rb") as file:
        model = pickle.load(file)
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["rows"] == 301 and summary["features"] == 6
    assert summary["world_size"] == 1 and summary["epochs"] == 3
    assert model.categorical_mask_.tolist() == [False] * 5 + [True]
    X = table.drop(columns="price")
    assert summary["training_score"] == pytest.approx(model.score(X, table["price"]))
    assert "training_score" in capsys.readouterr().out


def test_train_command_reads_parquet_and_explains_a_missing_pyarrow(
    tmp_path, monkeypatch, capsys
):
    pytest.importorskip("pyarrow")
    path, table = write_config(tmp_path, data="train.parquet", output="p.pkl")
    table.to_parquet(tmp_path / "train.parquet")
    assert main(["train", "--config", str(path)]) == 0
    assert (tmp_path / "p.pkl").exists()
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    assert main(["train", "--config", str(path)]) == 2
    assert "pip install pyarrow" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"estimator": "RandomForestRegressor"}, "estimator must be one of"),
        ({"target": "nope"}, "target column 'nope'"),
        ({"categorical": ["nope"]}, "not in the data"),
        ({"estimator": "EnsLossClassifier"}, "numeric features only"),
        ({"epochs": 3}, "unknown keys"),
    ],
)
def test_train_command_rejects_bad_configs(tmp_path, capsys, overrides, message):
    path, _ = write_config(tmp_path, **overrides)
    assert main(["train", "--config", str(path)]) == 2
    error = capsys.readouterr().err
    assert error.startswith("skensemble train: error: ") and message in error
    assert not (tmp_path / "out").exists()


def test_train_command_reports_files_and_parameters_in_one_line(tmp_path, capsys):
    path, _ = write_config(tmp_path, params={"k": -2})
    assert main(["train", "--config", str(path)]) == 2
    assert "The 'k' parameter of TabMRegressor" in capsys.readouterr().err
    path, _ = write_config(tmp_path, data="missing.csv")
    assert main(["train", "--config", str(path)]) == 2
    assert "No such file or directory" in capsys.readouterr().err
    path.write_text('{"estimator": ')
    assert main(["train", "--config", str(path)]) == 2
    assert f"{path}: not valid JSON" in capsys.readouterr().err


def test_train_command_under_torchrun_matches_one_process(tmp_path):
    torchrun = Path(sys.executable).with_name("torchrun")
    if not torchrun.exists():
        pytest.skip("torchrun is not installed beside this Python")
    path, table = write_config(tmp_path, output="ddp.pkl")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    root = str(Path(__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join([root, env.get("PYTHONPATH", "")])
    command = [str(torchrun), "--standalone", "--nproc-per-node=2"]
    command += ["-m", "skensemble", "train", "--config", str(path)]
    done = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=TIMEOUT
    )
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["world_size"] == 2
    with open(tmp_path / "ddp.pkl", "rb") as file:
        parallel = pickle.load(file)
    assert (
        main(["train", "--config", str(path), "--output", str(tmp_path / "one.pkl")])
        == 0
    )
    with open(tmp_path / "one.pkl", "rb") as file:
        single = pickle.load(file)
    assert_same_parameters(parallel, single, atol=1e-5)
