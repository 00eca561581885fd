"""Benchmark: exact smoother weights against the straightforward dense approach.

The papers' code (Curth et al. 2024; U-turn, NeurIPS 2023) builds smoother
matrices densely: per tree an (n_queries x n_train) same-leaf matrix, and for
boosting a forward recursion over dense (n_train x n_train) matrices. This script
times our sparse forest factorisation and grouped backward boosting recursion
against our own implementation of that dense approach, in the same run, on the
same California housing rows, and checks both reproduce ``predict``.

Usage::

    python benchmarks/inspection.py            # full run, writes docs/benchmarks/
    python benchmarks/inspection.py --quick    # < 2 minutes, prints only
    python benchmarks/inspection.py --findings # the papers' findings on California

Wall time and process CPU time are both reported: the machine is shared, so CPU
time is the steadier of the two. Peak memory is the peak of Python-tracked
allocations (numpy and scipy included) above the level before the call.
"""

import argparse
import ast
import datetime
import platform
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.ensemble import HistGradientBoostingRegressor, RandomForestRegressor

from skensemble.inspection import (
    SmootherDisplay,
    effective_parameters,
    smoother_weights,
)

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "california_housing.csv.gz"
OUTPUT = ROOT / "docs" / "benchmarks"

FULL = {
    "forest_sizes": [2500, 5000, 10000, 20000],
    "forest_queries": 5000,
    "n_trees": 100,
    "forest_dense_max_n": 20000,
    "forest_dense_all_seeds_max_n": 5000,
    "boosting_sizes": [1250, 2500, 5000, 10000, 20000],
    "boosting_queries": 1000,
    "boosting_target_queries": 5000,
    "n_rounds": 500,
    "boosting_dense_max_n": 5000,
    "boosting_dense_all_seeds_max_n": 2500,
    "seeds": [0, 1, 2],
}
QUICK = {
    "forest_sizes": [1000, 2000],
    "forest_queries": 500,
    "n_trees": 30,
    "forest_dense_max_n": 2000,
    "forest_dense_all_seeds_max_n": 2000,
    "boosting_sizes": [1000, 2000],
    "boosting_queries": 200,
    "boosting_target_queries": 0,
    "n_rounds": 100,
    "boosting_dense_max_n": 2000,
    "boosting_dense_all_seeds_max_n": 2000,
    "seeds": [0],
}


def measure(function, *args):
    """Run ``function(*args)``; return its result, wall s, CPU s and peak extra MB."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    before = tracemalloc.get_traced_memory()[0]
    wall, cpu = time.perf_counter(), time.process_time()
    result = function(*args)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    peak = tracemalloc.get_traced_memory()[1] - before
    tracemalloc.stop()
    return result, wall, cpu, peak / 1e6


def dense_forest_weights(forest, X_train, X):
    """The papers' approach: one dense same-leaf matrix per tree, summed."""
    n_train = X_train.shape[0]
    train_leaves = forest.apply(X_train)
    query_leaves = forest.apply(X)
    weights = np.zeros((X.shape[0], n_train))
    for b, rows in enumerate(forest.estimators_samples_):
        in_bag = np.bincount(rows, minlength=n_train)
        same_leaf = query_leaves[:, b][:, None] == train_leaves[:, b][None, :]
        tree_weights = same_leaf * in_bag[None, :]
        weights += tree_weights / tree_weights.sum(axis=1, keepdims=True)
    return weights / len(forest.estimators_)


def dense_boosting_weights(model, X_train, X):
    """The papers' approach: forward recursion on dense training smoothers.

    ``S_p = S_{p-1} + eta * leaf_average_p(I - S_{p-1})`` is carried for the
    training rows (n x n) and the query rows (m x n). Leaf averages are taken
    per leaf rather than through a dense T_p, which is already faster than
    forming T_p.
    """
    from skensemble.inspection._boosted_models import _hist_leaf_ids

    n_train = X_train.shape[0]
    train_leaves = _hist_leaf_ids(model, X_train)
    query_leaves = _hist_leaf_ids(model, X)
    lam, eta = model.l2_regularization, model.learning_rate
    train_smoother = np.full((n_train, n_train), 1.0 / n_train)
    query_smoother = np.full((X.shape[0], n_train), 1.0 / n_train)
    for p in range(train_leaves.shape[1]):
        leaves = train_leaves[:, p]
        n_leaves = leaves.max() + 1
        residual_operator = -train_smoother
        residual_operator[np.arange(n_train), np.arange(n_train)] += 1.0
        members = sparse.csr_matrix(
            (np.ones(n_train), (leaves, np.arange(n_train))), shape=(n_leaves, n_train)
        )
        leaf_sums = members @ residual_operator
        # Node ids that are not leaves get no rows; keep their means at zero.
        mass = np.bincount(leaves, minlength=n_leaves) + lam
        leaf_means = leaf_sums / np.maximum(mass, np.finfo(float).tiny)[:, None]
        train_smoother += eta * leaf_means[leaves]
        query_smoother += eta * leaf_means[query_leaves[:, p]]
    return query_smoother


def load_california():
    if not DATA.exists():
        sys.exit(f"California housing not found at {DATA}; see shared/data/README.md")
    frame = pd.read_csv(DATA)
    return frame.drop(columns="target").to_numpy(), frame["target"].to_numpy()


def split(X, y, n_train, n_queries, seed):
    rng = np.random.default_rng(seed)
    train = rng.choice(X.shape[0], size=n_train, replace=False)
    queries = rng.choice(X.shape[0], size=n_queries, replace=False)
    return X[train], y[train], X[queries]


def _run_dense(config, kind, n_train, seed):
    """The dense peer is slow: all seeds on small n, the first seed up to a cap."""
    if n_train > config[f"{kind}_dense_max_n"]:
        return False
    return (
        seed == config["seeds"][0] or n_train <= config[f"{kind}_dense_all_seeds_max_n"]
    )


def _measure_dense(dense_weights, model, X_train, X_query, y_train, expected):
    """Time the dense peer; keep its cost and its error against ``predict``."""
    dense, wall, cpu, peak = measure(dense_weights, model, X_train, X_query)
    return {
        "dense_wall": wall,
        "dense_cpu": cpu,
        "dense_mb": peak,
        "dense_error": np.abs(dense @ y_train - expected).max(),
    }


def _printable(row):
    return {key: float(f"{value:.6g}") for key, value in row.items()}


def run_forests(X, y, config):
    rows = []
    for n_train in config["forest_sizes"]:
        for seed in config["seeds"]:
            X_train, y_train, X_query = split(
                X, y, n_train, config["forest_queries"], seed
            )
            forest = RandomForestRegressor(
                n_estimators=config["n_trees"], random_state=seed, n_jobs=1
            ).fit(X_train, y_train)
            expected = forest.predict(X_query)
            ours, wall, cpu, peak = measure(smoother_weights, forest, X_train, X_query)
            row = {
                "n_train": n_train,
                "seed": seed,
                "ours_wall": wall,
                "ours_cpu": cpu,
                "ours_mb": peak,
                "ours_error": np.abs(ours.weights @ y_train - expected).max(),
                "nnz_per_row": ours.weights.nnz / X_query.shape[0],
            }
            del ours
            if _run_dense(config, "forest", n_train, seed):
                row.update(
                    _measure_dense(
                        dense_forest_weights,
                        forest,
                        X_train,
                        X_query,
                        y_train,
                        expected,
                    )
                )
            rows.append(row)
            print("forest", _printable(row), flush=True)
    return pd.DataFrame(rows)


def run_boosting(X, y, config):
    rows = []
    targets = [(n, config["boosting_queries"]) for n in config["boosting_sizes"]]
    if config["boosting_target_queries"]:
        targets.append(
            (config["boosting_sizes"][-1], config["boosting_target_queries"])
        )
    for n_train, n_queries in targets:
        is_target = n_queries == config["boosting_target_queries"]
        for seed in config["seeds"][:1] if is_target else config["seeds"]:
            X_train, y_train, X_query = split(X, y, n_train, n_queries, seed)
            model = HistGradientBoostingRegressor(
                max_iter=config["n_rounds"], early_stopping=False, random_state=seed
            ).fit(X_train, y_train)
            expected = model.predict(X_query)
            ours, wall, cpu, peak = measure(smoother_weights, model, X_train, X_query)
            row = {
                "n_train": n_train,
                "n_queries": n_queries,
                "seed": seed,
                "ours_wall": wall,
                "ours_cpu": cpu,
                "ours_mb": peak,
                "output_mb": ours.weights.nbytes / 1e6,
                "ours_error": np.abs(ours.weights @ y_train - expected).max(),
            }
            del ours
            if _run_dense(config, "boosting", n_train, seed) and not is_target:
                row.update(
                    _measure_dense(
                        dense_boosting_weights,
                        model,
                        X_train,
                        X_query,
                        y_train,
                        expected,
                    )
                )
            rows.append(row)
            print("boosting", _printable(row), flush=True)
    return pd.DataFrame(rows)


def mean_spread(values):
    values = np.asarray(values, dtype=float)
    if values.size == 1:
        return f"{values[0]:.3g}"
    return f"{values.mean():.3g} ± {values.std(ddof=1):.2g}"


def growth_exponent(frame, column):
    """Slope of log(column) against log(n_train): how the cost grows with n."""
    if column not in frame:
        return float("nan")
    means = frame.groupby("n_train")[column].mean().dropna()
    if len(means) < 2:
        return float("nan")
    return float(np.polyfit(np.log(means.index), np.log(means.to_numpy()), 1)[0])


def summary_table(frame, extra_keys=()):
    keys = ["n_train", *extra_keys]
    lines = [
        "| " + " | ".join(keys) + " | ours wall s | ours CPU s | ours peak MB "
        "| dense wall s | dense CPU s | dense peak MB | time ratio ours/dense (CPU) "
        "| memory ratio ours/dense | max abs error ours / dense |",
        "|" + "---|" * (len(keys) + 9),
    ]
    for key, group in frame.groupby(keys, sort=True):
        key = key if isinstance(key, tuple) else (key,)
        dense = (
            group.dropna(subset=["dense_cpu"]) if "dense_cpu" in group else group[:0]
        )
        has_dense = len(dense) > 0
        cells = [str(k) for k in key] + [
            mean_spread(group["ours_wall"]),
            mean_spread(group["ours_cpu"]),
            mean_spread(group["ours_mb"]),
        ]
        if has_dense:
            cells += [
                mean_spread(dense["dense_wall"]),
                mean_spread(dense["dense_cpu"]),
                mean_spread(dense["dense_mb"]),
                mean_spread(dense["ours_cpu"] / dense["dense_cpu"]),
                mean_spread(dense["ours_mb"] / dense["dense_mb"]),
                f"{group['ours_error'].max():.1e} / {dense['dense_error'].max():.1e}",
            ]
        else:
            cells += ["not run"] * 5 + [f"{group['ours_error'].max():.1e} / -"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plot(forests, boosting, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    boosting = boosting[boosting["n_queries"] == boosting["n_queries"].min()]
    figure, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, frame, title in [
        (axes[0], forests, "forest weights"),
        (axes[1], boosting, "boosting weights"),
    ]:
        means = frame.groupby("n_train").mean(numeric_only=True)
        for column, label in [("ours_cpu", "ours"), ("dense_cpu", "dense")]:
            if column in means:
                ax.loglog(means.index, means[column], "o-", label=label)
        ax.set_xlabel("training rows n")
        ax.set_ylabel("CPU seconds")
        ax.set_title(title)
        ax.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def write_report(forests, boosting, config, command, started, elapsed):
    OUTPUT.mkdir(parents=True, exist_ok=True)
    plot(forests, boosting, OUTPUT / "inspection.png")
    sizes = config["boosting_sizes"]
    target = boosting[boosting["n_queries"] == config["boosting_target_queries"]]
    scaling = boosting[boosting["n_queries"] == config["boosting_queries"]]
    largest_forest = forests[forests["n_train"] == max(config["forest_sizes"])]
    text = f"""# Smoother weights: benchmark

Command: `{command}`
Date: {started:%Y-%m-%d %H:%M} UTC; run took {elapsed / 60:.1f} minutes.
Machine: 2 CPU cores shared with other jobs (load average was high during the
run, so wall times are noisy; CPU times are steadier), no GPU, Python
{platform.python_version()}, `OMP_NUM_THREADS=1`.
Data: California housing (`../shared/data/california_housing.csv.gz`); per seed
`n_train` training rows and the query rows are drawn at random from all 20,640
rows (queries may include training rows). Seeds: {config["seeds"]}; the dense
peer ran on every seed only up to n = {config["forest_dense_all_seeds_max_n"]}
(forests) and n = {config["boosting_dense_all_seeds_max_n"]} (boosting), above
that on the first seed only (ratios then have no spread), to fit the time budget.
Peer: our implementation of the papers' dense approach (see the docstrings of
`dense_forest_weights` and `dense_boosting_weights` in `benchmarks/inspection.py`),
run in the same process on the same rows. Both reproduce `predict`; the last
column is max |weights @ y + offset - predict|.

## Forest: RandomForestRegressor, {config["n_trees"]} trees (default depth), \
{config["forest_queries"]} query rows

{summary_table(forests)}

- Largest case, n = {max(config["forest_sizes"])}: ours \
{mean_spread(largest_forest["ours_cpu"])} s CPU, \
{mean_spread(largest_forest["ours_wall"])} s wall, \
{mean_spread(largest_forest["ours_mb"])} MB peak (targets: under 3 s, under 100 MB).
- Non-zeros per query row: {mean_spread(largest_forest["nnz_per_row"])}.
- Growth with n (log-log slope): CPU time ours \
{growth_exponent(forests, "ours_cpu"):.2f}, dense \
{growth_exponent(forests, "dense_cpu"):.2f}; peak memory ours \
{growth_exponent(forests, "ours_mb"):.2f}, dense \
{growth_exponent(forests, "dense_mb"):.2f}.

## Boosting: HistGradientBoostingRegressor, {config["n_rounds"]} rounds, 31 leaves

Scaling with n ({config["boosting_queries"]} query rows; the dense peer only up \
to n = {config["boosting_dense_max_n"]} because it carries an n x n matrix \
through every round):

{summary_table(scaling)}

- Growth with n (log-log slope of CPU time): ours \
{growth_exponent(scaling, "ours_cpu"):.2f}, dense \
{growth_exponent(scaling, "dense_cpu"):.2f}.
- Our peak memory is the returned dense weights (n_queries x n_train float64, \
{mean_spread(scaling.groupby("n_train")["output_mb"].mean().iloc[-1:])} MB at the \
largest n) plus the leaf structure of all rounds, O(n_train x rounds), and a \
(n_train x 32) working block per chunk of query rows; nothing is O(n_train^2).

Target setting (n = {sizes[-1]}, {config["boosting_target_queries"]} query rows, \
one seed; the dense peer would carry a {sizes[-1]} x {sizes[-1]} float64 matrix \
(3.2 GB) through 500 rounds and was not run):

{summary_table(target, extra_keys=("n_queries",)) if len(target) else "not run"}

![CPU time against n](inspection.png)
"""
    (OUTPUT / "inspection.md").write_text(text)


def run_findings(X, y, seeds=(0, 1, 2), n_train=2000, n_test=2000, n_trees=100):
    """p_train, p_test and test MSE over forest settings, and p vs dissimilarity.

    The papers' real-data setup: 2,000 training and 2,000 test rows, forests of
    fully grown trees with and without bootstrap over a max_features grid.
    """
    rows, sweeps = [], []
    offsets = (0.0, 0.005, 0.01, 0.02, 0.05, 0.1)
    for seed in seeds:
        rng = np.random.default_rng(seed)
        order = rng.permutation(X.shape[0])
        train, test = order[:n_train], order[n_train : n_train + n_test]
        for bootstrap in (False, True):
            for max_features in (1.0, 0.5, 0.2):
                forest = RandomForestRegressor(
                    n_estimators=n_trees,
                    bootstrap=bootstrap,
                    max_features=max_features,
                    random_state=seed,
                ).fit(X[train], y[train])
                rows.append(
                    {
                        "bootstrap": bootstrap,
                        "max_features": max_features,
                        "p_train": effective_parameters(forest, X[train]),
                        "p_test": effective_parameters(forest, X[train], X[test]),
                        "test_mse": np.mean((forest.predict(X[test]) - y[test]) ** 2),
                    }
                )
                if not bootstrap and max_features == 0.5:
                    display = SmootherDisplay.from_estimator(
                        forest,
                        X[train],
                        sweep="dissimilarity",
                        offsets=offsets,
                        random_state=seed,
                        plot=False,
                    )
                    sweeps.append(display.test_parameters)
        print("findings seed", seed, "done", flush=True)
    frame = pd.DataFrame(rows)
    lines = [
        "| bootstrap | max_features | p_train | p_test | test MSE |",
        "|---|---|---|---|---|",
    ]
    for (bootstrap, max_features), group in frame.groupby(
        ["bootstrap", "max_features"], sort=False
    ):
        lines.append(
            f"| {bootstrap} | {max_features} | {mean_spread(group['p_train'])} "
            f"| {mean_spread(group['p_test'])} | {mean_spread(group['test_mse'])} |"
        )
    sweeps = np.array(sweeps)
    sweep_lines = [
        "| delta | " + " | ".join(f"{delta:g}" for delta in offsets) + " |",
        "|---|" + "---|" * len(offsets),
        "| p_test | "
        + " | ".join(mean_spread(sweeps[:, k]) for k in range(len(offsets)))
        + " |",
    ]
    return "\n".join(lines), "\n".join(sweep_lines)


def write_findings(X, y):
    started = datetime.datetime.now(datetime.timezone.utc)
    table, sweep = run_findings(X, y)
    text = f"""# Smoother analysis on California housing: the papers' findings

Command: `OMP_NUM_THREADS=1 python benchmarks/inspection.py --findings`
Date: {started:%Y-%m-%d %H:%M} UTC. Machine: 2 shared CPU cores, no GPU.
Data: California housing (`../shared/data/california_housing.csv.gz`), 2,000
training and 2,000 test rows drawn at random per seed (seeds 0, 1, 2; mean ±
standard deviation). RandomForestRegressor, 100 fully grown trees. n = 2,000.

## Effective parameters on training and test inputs

{table}

## Effective parameters against dissimilarity

Test inputs are the training inputs plus uniform noise of half-width delta times
each feature's range (no bootstrap, max_features = 0.5):

{sweep}
"""
    OUTPUT.mkdir(parents=True, exist_ok=True)
    (OUTPUT / "inspection_findings.md").write_text(text)
    print(text)


def report_from_log(path):
    """Rebuild the tables from the ``forest {...}`` / ``boosting {...}`` lines."""
    rows = {"forest": [], "boosting": []}
    for line in path.read_text().splitlines():
        kind, _, payload = line.partition(" ")
        if kind in rows and payload.startswith("{"):
            rows[kind].append(ast.literal_eval(payload))
    columns = ["n_train", "n_queries", "seed", "ours_wall", "ours_cpu", "ours_mb"]
    forests = pd.DataFrame(rows["forest"])
    boosting = pd.DataFrame(
        rows["boosting"], columns=None if rows["boosting"] else columns
    )
    for frame in (forests, boosting):
        for column in ("n_train", "n_queries", "seed"):
            if column in frame:
                frame[column] = frame[column].astype(int)
    started = datetime.datetime.fromtimestamp(
        path.stat().st_mtime, datetime.timezone.utc
    )
    command = (
        f"OMP_NUM_THREADS=1 python benchmarks/inspection.py > {path.name}, stopped "
        f"before its end, then python benchmarks/inspection.py --from-log "
        f"{path.name} ({len(forests)} forest and {len(boosting)} boosting rows "
        "completed; rows absent from the tables were not run; the log rounds "
        "values to 6 significant digits, or to 4 decimals in runs made before "
        "that, where an error of 0.0 means below 5e-5)"
    )
    write_report(forests, boosting, FULL, command, started, float("nan"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small run, no files")
    parser.add_argument(
        "--findings", action="store_true", help="only the papers' findings table"
    )
    parser.add_argument(
        "--from-log",
        type=Path,
        help="write the report from the rows a full run printed (a run that was "
        "stopped before its end); the report says which rows are missing",
    )
    args = parser.parse_args()
    if args.findings:
        write_findings(*load_california())
        return
    if args.from_log:
        report_from_log(args.from_log)
        return
    config = QUICK if args.quick else FULL
    started = datetime.datetime.now(datetime.timezone.utc)
    clock = time.perf_counter()
    X, y = load_california()
    forests = run_forests(X, y, config)
    boosting = run_boosting(X, y, config)
    print(summary_table(forests))
    print(summary_table(boosting, extra_keys=("n_queries",)))
    if not args.quick:
        command = "OMP_NUM_THREADS=1 python benchmarks/inspection.py"
        elapsed = time.perf_counter() - clock
        write_report(forests, boosting, config, command, started, elapsed)


if __name__ == "__main__":
    main()
