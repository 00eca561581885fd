"""Benchmark: quantile aggregation vs its base models and MAPIE's CQR.

Runs on the 8 UCI regression sets of ../shared/data with the standard 90/10
splits. Base models: quantile forest, HistGradientBoosting (quantile loss, one
model per level), linear quantile regression (one per level, fitted on a row
subsample), XGBoost multi-quantile and TabM with the pinball loss. Aggregators:
mean, median, global-coarse, global-medium, local-fine (DQA), and local-fine
with split conformal calibration. Peer for the intervals: MAPIE's
ConformalizedQuantileRegressor on HistGradientBoosting.

All aggregators of a split share one cross-fitting of the base models (a cache
keyed by the training rows); each aggregator's reported fit time adds the base
fits it used to its own weight training, so times are as if fitted alone.

    python benchmarks/quantile.py            # full mode, writes docs/benchmarks/
    python benchmarks/quantile.py --quick    # CI smoke run, prints only
    python benchmarks/quantile.py --levels 99  # the paper's grid 0.01 .. 0.99

Several processes can share the datasets (``--datasets ... --csv PATH``); the
page is then rebuilt from their per-split CSVs with
``--report-only --csv PATH [PATH ...]``.
"""

import argparse
import hashlib
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from _machine import cpu_model  # benchmarks/ sibling modules
from _quantile_report import (  # benchmarks/ sibling modules
    combine_runs,
    markdown,
    plot,
    summarise,
)
from _quantile_tuning import tune_base_models
from mapie.regression import ConformalizedQuantileRegressor
from quantile_forest import RandomForestQuantileRegressor
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.linear_model import QuantileRegressor
from sklearn.model_selection import train_test_split
from xgboost import XGBRegressor

from skensemble._quantile_levels import interval_levels
from skensemble.metrics import (
    interval_coverage,
    interval_width,
    weighted_interval_score,
)
from skensemble.quantile import (
    MultiQuantileRegressor,
    QuantileAggregator,
    count_crossings,
    sort_quantiles,
)
from skensemble.tabm import TabMRegressor

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
OUTPUT = ROOT / "docs" / "benchmarks"
DATASETS = {
    "yacht": "uci_yacht.csv",
    "energy": "uci_energy_heating.csv",
    "concrete": "uci_concrete.csv",
    "wine": "uci_wine_quality_red.csv",
    "kin8nm": "uci_kin8nm.csv.gz",
    "power": "uci_power_plant.csv.gz",
    "naval": "uci_naval_propulsion.csv.gz",
    "protein": "uci_protein.csv.gz",
}
# 19 symmetric levels 0.05, 0.10, ..., 0.95 (the aggregator's default grid):
# WIS on it is Bracher et al.'s WIS with K = 9 intervals plus the median, and
# it holds the 80% and 90% intervals. The paper's 99 levels (--levels 99)
# cost 5.2x more for every per-level model (see docs/benchmarks/quantile.md).
N_LEVELS = 19


def level_grid(n_levels):
    """The symmetric grid k / (n_levels + 1), k = 1 .. n_levels."""
    return np.round(np.arange(1, n_levels + 1) / (n_levels + 1), 10)


LEVELS = level_grid(N_LEVELS)
BASE_NAMES = ("qrf", "hgb", "linear", "xgb", "tabm")
# Random-search draws of the learned aggregators' weights (the paper: 20).
# 1 = no search, chosen from the measured cost before any test result was
# seen (benchmarks/_quantile_cost.py; docs/benchmarks/quantile.md): 20 draws
# add ~6 min per 1,000-row split, which 5 splits of 8 sets cannot afford
# here. --quick uses 2 so the search path is exercised.
N_SEARCH = 1
CONFIDENCES = (0.8, 0.9)
# Linear quantile regression (HiGHS LP) is fitted on at most this many rows.
LINEAR_ROWS = 2000
# TabM epochs: large sets get few epochs (early stopping rarely triggers
# earlier); small sets need more passes to take enough optimizer steps.
TABM_EPOCHS_LARGE, TABM_EPOCHS_SMALL, TABM_LARGE_ROWS = 30, 60, 1000
AGGREGATORS = {
    "mean": {"weights": "mean"},
    "median": {"weights": "median"},
    "global-coarse": {"weights": "global", "granularity": "coarse"},
    "global-medium": {"weights": "global", "granularity": "medium"},
    "local-fine": {"weights": "local", "granularity": "fine"},
    "local-fine+CQR": {"weights": "local", "granularity": "fine", "conformal": "split"},
    # local-fine without the search, beside a run with --n-search > 1: the
    # search's effect measured in one process (same machine, same cached base
    # fits). Not fitted unless asked for with --aggregators.
    "local-fine/1": {"weights": "local", "granularity": "fine", "n_search": 1},
}
DEFAULT_AGGREGATORS = [label for label in AGGREGATORS if label != "local-fine/1"]


def level_columns(levels, confidence):
    """Columns of ``levels`` holding the central interval of ``confidence``.

    Looked up by value (an earlier version hard-coded indices and scored the
    60% interval as the 80% one); raises if the grid lacks either bound.
    """
    columns = []
    for bound in interval_levels(confidence):
        match = np.flatnonzero(np.isclose(levels, bound, atol=1e-9))
        if match.size != 1:
            raise ValueError(f"Level {bound:g} is not in the grid {levels}.")
        columns.append(int(match[0]))
    return columns


def _check_level_columns(levels):
    """Fail fast if the interval columns do not hold the nominal levels."""
    for confidence in CONFIDENCES:
        lower, upper = levels[level_columns(levels, confidence)]
        assert np.isclose(upper - lower, confidence), (confidence, lower, upper)
        assert np.isclose(lower + upper, 1.0), (confidence, lower, upper)


_FITTED = {}
_SECONDS = {}
_REUSED_SECONDS = [0.0]


def _key(name, X, y):
    digest = hashlib.sha1(np.ascontiguousarray(X).tobytes())
    digest.update(np.ascontiguousarray(y).tobytes())
    return name, digest.hexdigest()


class CachedMultiQuantile(MultiQuantileRegressor):
    """MultiQuantileRegressor that reuses an earlier fit on identical rows.

    Lets every aggregator of one split share the same base-model fits; the
    saved time is added back to the aggregator's fit time. ``max_rows`` fits
    on a seeded row subsample (for the linear program of linear QR).
    """

    def __init__(
        self,
        estimator,
        quantiles=(0.05, 0.5, 0.95),
        noncrossing="sort",
        n_jobs=None,
        max_rows=None,
    ):
        super().__init__(estimator, quantiles, noncrossing, n_jobs)
        self.max_rows = max_rows

    def fit(self, X, y):
        key = _key(type(self.estimator).__name__, X, y)
        if key in _FITTED:
            self.__dict__.update(_FITTED[key].__dict__)
            _REUSED_SECONDS[0] += _SECONDS[key]
            return self
        start = time.perf_counter()
        if self.max_rows is not None and len(y) > self.max_rows:
            rows = np.random.RandomState(0).choice(len(y), self.max_rows, False)
            X, y = X[np.sort(rows)], y[np.sort(rows)]
        super().fit(X, y)
        _SECONDS[key] = time.perf_counter() - start
        _FITTED[key] = self
        return self


def base_estimators(seed, quick, n_rows, levels=LEVELS):
    """The unfitted single- or multi-level base models, by name."""
    trees = 30 if quick else 50
    if quick:
        epochs = 10
    elif n_rows > TABM_LARGE_ROWS:
        epochs = TABM_EPOCHS_LARGE
    else:
        epochs = TABM_EPOCHS_SMALL
    estimators = {
        "qrf": RandomForestQuantileRegressor(
            n_estimators=trees, min_samples_leaf=8, random_state=seed, n_jobs=1
        ),
        "hgb": HistGradientBoostingRegressor(
            loss="quantile", max_iter=trees, early_stopping=False, random_state=seed
        ),
        "linear": QuantileRegressor(alpha=0.0, solver="highs"),
        "xgb": XGBRegressor(
            objective="reg:quantileerror",
            n_estimators=trees,
            max_depth=4,
            learning_rate=0.1,
            n_jobs=1,
            random_state=seed,
        ),
        "tabm": TabMRegressor(
            loss="quantile",
            quantiles=levels,
            k=8,
            d_block=128,
            n_blocks=2,
            max_iter=epochs,
            n_iter_no_change=4,
            random_state=seed,
            device="cpu",
        ),
    }
    return estimators


def base_models(seed, quick, n_rows, params=None, levels=LEVELS):
    """The base models as cached multi-quantile models, with tuned ``params``."""
    estimators = base_estimators(seed, quick, n_rows, levels)
    for name, chosen in (params or {}).items():
        estimators[name].set_params(**chosen)
    return [
        (
            name,
            CachedMultiQuantile(
                est,
                quantiles=levels,
                noncrossing=None,
                max_rows=LINEAR_ROWS if name == "linear" else None,
            ),
        )
        for name, est in estimators.items()
    ]


def load(name, split, max_train, seed, max_test=None):
    frame = pd.read_csv(DATA / DATASETS[name])
    X = frame.drop(columns="target").to_numpy(dtype=float)
    y = frame["target"].to_numpy(dtype=float)
    splits = pd.read_csv(DATA / "uci_standard_splits.csv.gz")
    column = splits.loc[splits.dataset == DATASETS[name].split(".")[0]]
    train_flag = column.set_index("row")[f"split_{split}"].reindex(range(len(y)))
    train, test = np.flatnonzero(train_flag == 1), np.flatnonzero(train_flag == 0)
    rng = np.random.RandomState(seed)
    if train.size > max_train:
        train = np.sort(rng.choice(train, max_train, replace=False))
    if max_test is not None and test.size > max_test:
        test = np.sort(rng.choice(test, max_test, replace=False))
    return X[train], y[train], X[test], y[test]


def interval_rows(y_test, low_high_80, low_high_90):
    return {
        "coverage80": interval_coverage(y_test, low_high_80),
        "width80": interval_width(low_high_80),
        "coverage90": interval_coverage(y_test, low_high_90),
        "width90": interval_width(low_high_90),
    }


# The official code's early stopping: validate every 100 steps, stop after 500
# steps without gain, no epoch limit (--paper-schedule; not the table's).
PAPER_SCHEDULE = {
    "validation_interval": 100,
    "n_iter_no_change": 5,
    "max_iter": 100_000,
}


def run_split(
    name,
    split,
    max_train,
    quick,
    n_search=1,
    schedule=None,
    tune_base=0,
    aggregators=tuple(DEFAULT_AGGREGATORS),
    levels=LEVELS,
):
    seed = split
    max_test = max_train if quick else None
    X, y, X_test, y_test = load(name, split, max_train, seed, max_test)
    _FITTED.clear()
    _SECONDS.clear()
    scale = np.std(y)
    params, tune_seconds = {}, 0.0
    if tune_base:
        params, tune_seconds = tune_base_models(
            base_estimators(seed, quick, len(y), levels), levels, X, y, tune_base, seed
        )
    rows = []
    fitted_bases = None
    for label in aggregators:
        options = AGGREGATORS[label]
        _REUSED_SECONDS[0] = 0.0
        if schedule and options["weights"] in ("local", "global"):
            options = {**options, **schedule}
        model = QuantileAggregator(
            base_models(seed, quick, len(y), params, levels),
            quantiles=levels,
            random_state=seed,
            device="cpu",
            **{"n_search": n_search, **options},
        )
        start = time.perf_counter()
        model.fit(X, y)
        seconds = time.perf_counter() - start + _REUSED_SECONDS[0] + tune_seconds
        raw = model.predict(X_test, quantiles=levels)
        learned = options["weights"] in ("local", "global")
        rows.append(
            {
                "method": label,
                "kind": "aggregator",
                "n_search": model.n_search if learned else 0,
                "epochs": model.n_iter_,
                "search_params": str(getattr(model, "search_params_", "")),
                "wis": weighted_interval_score(y_test, raw, quantiles=levels) / scale,
                "crossing_rows": count_crossings(raw),
                "fit_seconds": seconds,
                **interval_rows(
                    y_test,
                    model.predict_interval(X_test, 0.8),
                    model.predict_interval(X_test, 0.9),
                ),
            }
        )
        if label == "local-fine":
            fitted_bases = model.named_estimators_
    for base_name in BASE_NAMES:
        base = fitted_bases[base_name]
        raw = base.predict(X_test, quantiles=levels)
        ordered = sort_quantiles(raw)
        key = _key(type(base.estimator).__name__, X, y)
        rows.append(
            {
                "method": base_name,
                "kind": "base",
                "wis": weighted_interval_score(y_test, ordered, quantiles=levels)
                / scale,
                "crossing_rows": count_crossings(raw),
                "fit_seconds": _SECONDS[key] + tune_seconds,
                "base_params": str(params.get(base_name, "")),
                **interval_rows(
                    y_test,
                    ordered[:, level_columns(levels, 0.8)],
                    ordered[:, level_columns(levels, 0.9)],
                ),
            }
        )
    mapie = {}
    start = time.perf_counter()
    X_fit, X_cal, y_fit, y_cal = train_test_split(
        X, y, test_size=0.2, random_state=seed
    )
    for confidence in (0.8, 0.9):
        peer = ConformalizedQuantileRegressor(
            HistGradientBoostingRegressor(
                loss="quantile",
                max_iter=30 if quick else 50,
                early_stopping=False,
                random_state=seed,
            ),
            confidence_level=confidence,
        )
        peer.fit(X_fit, y_fit).conformalize(X_cal, y_cal)
        mapie[confidence] = peer.predict_interval(X_test)[1][:, :, 0]
    rows.append(
        {
            "method": "MAPIE CQR (hgb)",
            "kind": "peer",
            "wis": np.nan,
            "crossing_rows": int(np.sum(mapie[0.9][:, 0] > mapie[0.9][:, 1])),
            "fit_seconds": time.perf_counter() - start,
            **interval_rows(y_test, mapie[0.8], mapie[0.9]),
        }
    )
    for row in rows:
        row.update(
            dataset=name,
            split=split,
            n_train=len(y),
            n_test=len(y_test),
            tune_base=tune_base,
            tune_seconds=tune_seconds,
            n_levels=len(levels),
            cpu=cpu_model(),
        )
    return rows


def _caps(pairs):
    caps = {}
    for pair in pairs:
        name, _, rows = pair.partition("=")
        if name not in DATASETS or not rows.isdigit():
            raise SystemExit(f"--cap expects NAME=ROWS (known dataset); got {pair}")
        caps[name] = int(rows)
    return caps


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 datasets, 1 split")
    parser.add_argument("--splits", type=int, default=5, help="number of splits")
    parser.add_argument(
        "--first-split",
        type=int,
        default=0,
        help="run splits K .. K + splits - 1 (to share the splits between runs)",
    )
    parser.add_argument(
        "--n-search",
        type=int,
        default=N_SEARCH,
        help="random-search draws of the learned aggregators (the paper: 20)",
    )
    parser.add_argument(
        "--max-train",
        type=int,
        default=None,
        help="cap on training rows of every dataset (default: full size)",
    )
    parser.add_argument(
        "--cap",
        nargs="*",
        default=[],
        metavar="NAME=ROWS",
        help="cap on training rows of one dataset (seeded random subset)",
    )
    parser.add_argument(
        "--paper-schedule",
        action="store_true",
        help="the learned aggregators stop early as the official code does",
    )
    parser.add_argument(
        "--tune-base",
        type=int,
        default=0,
        metavar="N",
        help="random-search draws per tunable base model on 20%% of the training "
        "part (the paper: 20; default 0 = untuned, as in the table)",
    )
    parser.add_argument(
        "--aggregators",
        nargs="+",
        choices=list(AGGREGATORS),
        default=DEFAULT_AGGREGATORS,
        help="the aggregators to fit (local-fine always runs: the base-model "
        "rows come from its fit); for a costly diagnostic such as --n-search 20",
    )
    parser.add_argument(
        "--levels",
        type=int,
        default=N_LEVELS,
        metavar="N",
        help="the symmetric grid k / (N + 1), k = 1 .. N (default 19; the paper: 99)",
    )
    parser.add_argument("--datasets", nargs="*", default=list(DATASETS))
    parser.add_argument(
        "--csv",
        nargs="+",
        type=Path,
        default=[OUTPUT / "quantile_splits.csv"],
        help="per-split results: written by a run, read by --report-only "
        "(a later file replaces the dataset-splits it holds)",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=OUTPUT / "quantile.md",
        help="the page to write (its plot goes beside it, same name, .png)",
    )
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="rebuild the markdown from the saved per-split CSV(s)",
    )
    args = parser.parse_args(argv)
    if not DATA.exists():
        sys.exit(f"Benchmark data not found at {DATA}; see DESIGN.md.")
    levels = level_grid(args.levels)
    _check_level_columns(levels)
    command = (
        "PYTHONPATH=. OMP_NUM_THREADS=1 python benchmarks/quantile.py "
        + " ".join(sys.argv[1:] if argv is None else argv)
    )
    datasets, splits = args.datasets, args.splits
    caps = {name: args.max_train for name in DATASETS}
    caps.update(_caps(args.cap))
    first, n_search = args.first_split, args.n_search
    aggregators = [
        label
        for label in AGGREGATORS
        if label in args.aggregators or label == "local-fine"
    ]
    if args.quick:
        datasets, splits, first, n_search = ["yacht", "concrete"], 1, 0, 2
        caps = dict.fromkeys(DATASETS, 300)
    start = time.perf_counter()
    if args.report_only:
        results = combine_runs(args.csv)
    else:
        rows = []
        # Splits outermost: if the run is cut short, every dataset has results.
        for split in range(first, first + splits):
            for name in datasets:
                split_start = time.perf_counter()
                cap = caps.get(name) or np.iinfo(np.int64).max
                schedule = PAPER_SCHEDULE if args.paper_schedule else None
                rows += run_split(
                    name,
                    split,
                    cap,
                    args.quick,
                    n_search,
                    schedule,
                    args.tune_base,
                    aggregators,
                    levels,
                )
                print(
                    f"{name} split {split}: {time.perf_counter() - split_start:.0f} s",
                    flush=True,
                )
                if not args.quick:
                    args.csv[0].parent.mkdir(parents=True, exist_ok=True)
                    pd.DataFrame(rows).to_csv(args.csv[0], index=False)
        results = pd.DataFrame(rows)
    results, table = summarise(results)
    expected = set(range(first, first + splits))
    done = results.groupby("dataset").split.unique()
    missing = []
    for name in datasets:
        absent = sorted(expected - set(done.get(name, [])))
        if absent:
            missing.append(f"{name} (split {', '.join(map(str, absent))})")
    not_run = ", ".join(missing)
    text = markdown(
        results,
        table,
        command,
        time.perf_counter() - start,
        not_run,
        base_names=BASE_NAMES,
        aggregator_names=list(AGGREGATORS),
        report_only=args.report_only,
        image=args.output.with_suffix(".png").name,
    )
    print(text)
    # A run over part of the splits writes only its CSV; the page comes from
    # --report-only over all the CSVs (or from one run over everything).
    whole = set(datasets) == set(DATASETS) and first == 0 and splits == 5
    if not args.quick and (args.report_only or whole):
        args.output.write_text(text)
        plot(table, args.output.with_suffix(".png"), (*BASE_NAMES, *AGGREGATORS))


if __name__ == "__main__":
    main()
