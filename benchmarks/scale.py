"""Benchmark: scaling out, i.e. the same fits on more workers.

Dask part: wall time of the same work run sequentially in this process, with
joblib's default loky backend (2 processes) and with joblib's Dask backend on a
``LocalCluster`` of 2 worker processes with 1 thread each, on California
housing (../shared/data):

* ``GridSearchCV`` over a small grid of ``TabMRegressor``;
* ``QuantileAggregator``'s cross-fitting of its base models (``n_jobs``).

Every run uses the same ``random_state``; the script checks that the parallel
runs give the sequential results (best parameters, scores, predictions) and
reports the largest difference. Cluster start-up (including importing torch in
the workers) is timed separately from the fits.

DDP part (``_scale_ddp.py``): one TabMRegressor fit in one process vs two gloo
processes on the same global batches and epochs.

    python benchmarks/scale.py              # full mode, writes docs/benchmarks/scale.md
    python benchmarks/scale.py --quick      # smoke run (< 2 min), prints only
    python benchmarks/scale.py --parts dask
"""

import argparse
import datetime
import os
import platform
import sys
import time
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import psutil
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.linear_model import QuantileRegressor
from sklearn.model_selection import GridSearchCV, train_test_split

from skensemble.quantile import QuantileAggregator
from skensemble.tabm import TabMRegressor

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
OUTPUT = ROOT / "docs" / "benchmarks"
N_WORKERS = 2
TASKS_WARM_UP_ROWS = 300
PARTS = ("dask", "ddp")


# -- the work ---------------------------------------------------------------------
def load(n_rows, seed=0):
    frame = pd.read_csv(DATA / "california_housing.csv.gz")
    X = frame.drop(columns="target").to_numpy(dtype=float)
    y = frame["target"].to_numpy(dtype=float)
    X, _, y, _ = train_test_split(X, y, train_size=n_rows, random_state=seed)
    return X, y


def tabm_search(quick):
    tabm = TabMRegressor(
        k=8,
        d_block=64,
        n_blocks=2,
        batch_size=128,
        max_iter=5 if quick else 20,
        n_iter_no_change=5,
        random_state=0,
    )
    grid = {"learning_rate": [1e-3, 3e-3]}
    if not quick:
        grid["d_block"] = [64, 128]
    return GridSearchCV(tabm, grid, cv=2 if quick else 3)


def aggregator(quick):
    levels = [0.1, 0.5, 0.9]
    return QuantileAggregator(
        [
            ("linear", QuantileRegressor(alpha=0.0)),
            (
                "hgb",
                HistGradientBoostingRegressor(
                    loss="quantile", max_iter=50 if quick else 200, random_state=0
                ),
            ),
            (
                "tabm",
                TabMRegressor(
                    k=8,
                    d_block=64,
                    n_blocks=2,
                    loss="quantile",
                    batch_size=128,
                    max_iter=5 if quick else 20,
                    n_iter_no_change=5,
                    random_state=0,
                ),
            ),
        ],
        quantiles=levels,
        weights="global",
        granularity="medium",
        cv=3 if quick else 5,
        max_iter=50,
        random_state=0,
    )


TASKS = {
    "GridSearchCV(TabMRegressor)": {
        "rows": (1000, 3000),
        "make": tabm_search,
        "run": lambda model, n_jobs, X, y: model.set_params(n_jobs=n_jobs).fit(X, y),
        "fits": lambda model: (
            len(model.cv_results_["params"]) * model.n_splits_ + 1,
            len(model.cv_results_["params"]) * model.n_splits_,
        ),
    },
    "QuantileAggregator base models": {
        "rows": (1000, 3000),
        "make": aggregator,
        "run": lambda model, n_jobs, X, y: model.set_params(n_jobs=n_jobs).fit(X, y),
        "fits": lambda model: (
            len(model.estimators) * (model.cv + 1),
            len(model.estimators) * (model.cv + 1),
        ),
    },
}


def fingerprint(name, model, X):
    """What must not change with the backend: scores, parameters, predictions."""
    if name.startswith("GridSearchCV"):
        return {
            "best_params": model.best_params_,
            "values": np.asarray(model.cv_results_["mean_test_score"]),
        }
    return {
        "best_params": None,
        "values": model.predict(X[:500], quantiles=model.quantiles_).ravel(),
    }


def largest_difference(reference, other):
    if reference["best_params"] != other["best_params"]:
        return float("inf")
    return float(np.max(np.abs(reference["values"] - other["values"])))


# -- the Dask part ------------------------------------------------------------------
def _warm_up():
    import skensemble.quantile  # noqa: F401
    import skensemble.tabm  # noqa: F401


# Dask's nanny starts workers with MALLOC_TRIM_THRESHOLD_=65536. Setting it at
# all switches off glibc's adaptive mmap threshold, so every tensor buffer of
# 128 KiB or more is mapped and unmapped afresh: a small TabM fit then costs
# about twice the CPU time. ``None`` removes the variable from the workers.
UNTRIMMED = {"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}


def start_cluster(config):
    import dask
    from distributed import Client, LocalCluster

    start = time.perf_counter()
    with dask.config.set(config):
        cluster = LocalCluster(
            n_workers=N_WORKERS,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        )
    client = Client(cluster, set_as_default=False)
    client.run(_warm_up)
    return cluster, client, time.perf_counter() - start


def cpu_seconds():
    """CPU time of this process and all its descendants (workers included).

    On a machine shared with other jobs, wall time mixes our work with theirs;
    CPU time counts only ours, so the overhead of going parallel shows in it.
    """
    me = psutil.Process()
    times = me.cpu_times()
    total = times.user + times.system + times.children_user + times.children_system
    for child in me.children(recursive=True):
        try:
            times = child.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def timed(task, backend, X, y, quick, clients):
    model = task["make"](quick)
    n_jobs = None if backend == "sequential" else -1
    if backend == "loky":
        n_jobs = N_WORKERS
    cpu, start = cpu_seconds(), time.perf_counter()
    if backend in clients:
        with joblib.parallel_config(backend="dask", client=clients[backend]):
            task["run"](model, n_jobs, X, y)
    else:
        task["run"](model, n_jobs, X, y)
    return model, time.perf_counter() - start, cpu_seconds() - cpu


def dask_part(args):
    quick = args.quick
    # The quick smoke run keeps the sequential run and the recommended Dask
    # set-up only, to stay under 2 minutes.
    configs = {"dask, untrimmed": UNTRIMMED}
    if not quick:
        configs["dask, default env"] = {}
    clusters, clients, startup = {}, {}, {}
    for name, config in configs.items():
        clusters[name], clients[name], startup[name] = start_cluster(config)
    backends = ["sequential", *clients] + ([] if quick else ["loky"])
    rows = []
    try:
        # One untimed quick run per task and backend: loky starts its worker
        # processes and every process pays its first-call costs (lazy imports,
        # allocator warm-up) here, not in the first timed repeat.
        # It fits the same models on fewer rows, so every process also meets
        # every layer shape once. (Skipped in quick mode, a smoke run.)
        X_small, y_small = load(TASKS_WARM_UP_ROWS, seed=99)
        for task in TASKS.values() if not quick else []:
            for backend in backends:
                timed(task, backend, X_small, y_small, quick, clients)
        for repeat in range(args.repeats):
            for name, task in TASKS.items():
                n_rows = task["rows"][0 if quick else 1]
                X, y = load(n_rows, seed=repeat)
                reference = None
                for backend in backends:
                    load_before = os.getloadavg()[0]
                    model, seconds, cpu = timed(task, backend, X, y, quick, clients)
                    print_ = fingerprint(name, model, X)
                    if reference is None:
                        reference = print_
                    total_fits, parallel_fits = task["fits"](model)
                    rows.append(
                        {
                            "task": name,
                            "repeat": repeat,
                            "rows": n_rows,
                            "backend": backend,
                            "seconds": seconds,
                            "cpu_seconds": cpu,
                            "fits": total_fits,
                            "parallel_fits": parallel_fits,
                            "max_abs_diff": largest_difference(reference, print_),
                            "load_before": load_before,
                        }
                    )
                    print(
                        f"{name} repeat {repeat} {backend}: {seconds:.1f} s, "
                        f"CPU {cpu:.1f} s (load {load_before:.2f})",
                        flush=True,
                    )
    finally:
        for name in clusters:
            clients[name].close()
            clusters[name].close()
    return pd.DataFrame(rows), max(startup.values())


def dask_markdown(results, startup, quick):
    lines = [
        "## GridSearchCV and base-model fitting on Dask",
        "",
        f"Dask: `LocalCluster(n_workers={N_WORKERS}, threads_per_worker=1, "
        'processes=True, host="127.0.0.1")` on the same 2 cores as this process, '
        "once with Dask's default worker environment and once with "
        "`MALLOC_TRIM_THRESHOLD_` removed from it (`untrimmed`, the set-up the "
        "Scaling out page recommends); "
        f"loky: joblib's default backend with `n_jobs={N_WORKERS}`. Sequential: "
        "`n_jobs=None` in this process (1 torch thread). Cluster start-up, "
        "including importing torch and skensemble in the workers: up to "
        f"{startup:.1f} s "
        "(paid once, not in the times below; an untimed warm-up run per backend "
        "also precedes them).",
        "",
        "| task | rows | fits | backend | wall s (per repeat) | speed-up | "
        "efficiency | CPU s (per repeat) | CPU vs sequential | load before | "
        "max abs diff vs sequential |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, group in results.groupby("task", sort=False):
        sequential = group[group.backend == "sequential"].set_index("repeat")
        for backend, rows in group.groupby("backend", sort=False):
            rows = rows.set_index("repeat")
            speedup = sequential.seconds / rows.seconds
            per_repeat = ", ".join(f"{s:.1f}" for s in rows.seconds)
            cpu_per_repeat = ", ".join(f"{s:.1f}" for s in rows.cpu_seconds)
            if backend == "sequential":
                ratio, efficiency, cpu_ratio = "1 (reference)", "", "1"
            else:
                ratio = _spread(speedup)
                efficiency = _spread(speedup / N_WORKERS, percent=True)
                cpu_ratio = _spread(rows.cpu_seconds / sequential.cpu_seconds)
            lines.append(
                f"| {name} | {rows.rows.iloc[0]} | {rows.fits.iloc[0]} | {backend} | "
                f"{per_repeat} | {ratio} | {efficiency} | {cpu_per_repeat} | "
                f"{cpu_ratio} | {rows.load_before.median():.1f} | "
                f"{rows.max_abs_diff.max():.2g} |"
            )
    lines += [
        "",
        "Speed-up = sequential wall time / parallel wall time of the same repeat "
        "(median and range over repeats); efficiency = speed-up / 2 workers. "
        "`max abs diff` compares the mean cross-validated scores (grid search) or "
        "the aggregated predictions of 500 rows (aggregator) with the sequential "
        "run; `inf` would mean different best parameters. `CPU s`: CPU time of "
        "this process and all its worker processes during the run (user + "
        "system), which other jobs on the machine do not inflate; `CPU vs "
        "sequential` is the cost of going parallel (start of tasks, pickling, "
        "the scheduler). `load before`: the "
        "1-minute load average before the run (median over repeats; 2 means both "
        "cores already busy); per-run values are in `scale.csv`. `fits`: model "
        "fits in the run; all but the grid search's final refit can run in "
        "parallel.",
    ]
    if quick:
        lines.append("")
        lines.append("Quick mode: 1,000 rows, tiny grid, few epochs.")
    return lines


def _spread(values, percent=False):
    scale, unit = (100.0, " %") if percent else (1.0, "")
    mid, low, high = (
        scale * values.median(),
        scale * values.min(),
        scale * values.max(),
    )
    if len(values) == 1:
        return f"{mid:.{0 if percent else 2}f}{unit}"
    digits = 0 if percent else 2
    return f"{mid:.{digits}f}{unit} ({low:.{digits}f}-{high:.{digits}f})"


# -- the DDP part ---------------------------------------------------------------------
def ddp_part(args):
    """Markdown lines of the DDP measurement (2 gloo processes vs 1, same epochs)."""
    try:  # run as ``python -m benchmarks.scale`` or as a script
        from benchmarks._scale_ddp import run_ddp_benchmark
    except ImportError:
        from _scale_ddp import run_ddp_benchmark
    return run_ddp_benchmark(args.quick)


# -- report -------------------------------------------------------------------------
def header(command, seconds, parts):
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return [
        "# Scaling out",
        "",
        f"Command: `{command}`  ",
        f"Date: {now}  ",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPU cores (the load "
        "average before each run is in the tables: above 0 means other jobs "
        f"shared the cores), no GPU, Python {platform.python_version()}, "
        f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}  ",
        f"Wall time: {seconds / 60:.1f} min (parts: {', '.join(parts)})",
        "",
        "Data: California housing (`california_housing.csv.gz`, 20,640 rows, 8 "
        "features), a random subset of rows per repeat.",
        "",
    ]


def reading():
    return [
        "",
        "## Reading",
        "",
        "Two workers on two cores can at best halve the wall time, and this "
        "process's own scheduling and the other jobs on the machine (see the load "
        "columns) take part of the second core, so the numbers are a lower bound "
        "of what two free cores give. The results do not depend on the backend: "
        "each fit is seeded from its `random_state` and runs single-threaded "
        "wherever it lands.",
        "",
        "What a GPU cluster changes: with one Dask worker per GPU "
        '(`CUDA_VISIBLE_DEVICES=i dask worker ... --nthreads 1`, `device="auto"`) '
        "each grid point trains on its own GPU, so the search scales with the "
        "number of GPUs as long as there are more candidate fits than GPUs; a "
        "single small TabM fit keeps a GPU only partly busy, so several workers "
        "per GPU may pay off for small models. joblib sends the training data "
        "to the cluster once per call, and the start-up cost above is paid once "
        "per cluster, not per fit. "
        "GPU results differ from CPU results in the last digits and GPU kernels "
        "are not all deterministic, so the equality shown here holds per device "
        "type, not across them.",
    ]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000 rows, tiny grid")
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument(
        "--parts", nargs="+", choices=PARTS, default=list(PARTS), help="what to run"
    )
    args = parser.parse_args(argv)
    if args.repeats is None:
        args.repeats = 1 if args.quick else 2
    if not DATA.exists():
        sys.exit(f"Benchmark data not found at {DATA}; see DESIGN.md.")
    threads = os.environ.get("OMP_NUM_THREADS")
    prefix = f"OMP_NUM_THREADS={threads} " if threads else ""
    command = (
        prefix
        + "python benchmarks/scale.py "
        + " ".join(sys.argv[1:] if argv is None else argv)
    )
    start = time.perf_counter()
    body = []
    if "dask" in args.parts:
        results, startup = dask_part(args)
        body += dask_markdown(results, startup, args.quick)
        if not args.quick:
            OUTPUT.mkdir(parents=True, exist_ok=True)
            results.to_csv(OUTPUT / "scale.csv", index=False)
    if "ddp" in args.parts:
        body += [""] + ddp_part(args)
    text = "\n".join(
        header(command.strip(), time.perf_counter() - start, args.parts)
        + body
        + reading()
    )
    print(text)
    if not args.quick:
        (OUTPUT / "scale.md").write_text(text + "\n")


if __name__ == "__main__":
    main()
