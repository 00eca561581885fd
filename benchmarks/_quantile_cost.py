"""Cost of the aggregators' random search, measured on training rows only.

Decides ``N_SEARCH`` of benchmarks/quantile.py before any test result is
seen: fits the base models' cross-fitting once per dataset (cached), then
times the weight training of each learned aggregator with ``n_search`` = 1
and 20. No test rows are loaded into a model or scored.

    PYTHONPATH=. OMP_NUM_THREADS=1 nice -n 10 python benchmarks/_quantile_cost.py \\
        protein=1000 yacht

``--schedule`` instead compares, for one draw, the per-epoch early stopping
(patience 20 epochs, at most 200) with the paper's step schedule (a check
every 100 steps, stop after 500 steps without gain, no epoch cap): seconds,
epochs and the best loss on the aggregator's own validation rows.
"""

import importlib.util
import sys
import time
from pathlib import Path

spec = importlib.util.spec_from_file_location(
    "quantile_benchmark", Path(__file__).with_name("quantile.py")
)
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)


PAPER_SCHEDULE = {"validation_interval": 100, "n_iter_no_change": 5, "max_iter": 100000}


def schedules(argv):
    for item in argv:
        name, _, cap = item.partition("=")
        X, y, _, _ = bench.load(name, 0, int(cap) if cap else 10**9, 0)
        bench._FITTED.clear()
        bench._SECONDS.clear()
        for label in ("local-fine", "global-coarse", "global-medium"):
            for schedule, extra in (("epochs", {}), ("paper", PAPER_SCHEDULE)):
                model = bench.QuantileAggregator(
                    bench.base_models(0, False, len(y)),
                    quantiles=bench.LEVELS,
                    random_state=0,
                    device="cpu",
                    **bench.AGGREGATORS[label],
                    **extra,
                )
                bench._REUSED_SECONDS[0] = 0.0
                start = time.perf_counter()
                model.fit(X, y)
                seconds = time.perf_counter() - start
                if bench._REUSED_SECONDS[0] == 0.0:
                    seconds -= sum(bench._SECONDS.values())
                print(
                    f"{name} n={len(y)} {label} schedule={schedule}: weight "
                    f"training {seconds:.1f} s, {model.n_iter_} epochs, best "
                    f"validation pinball {min(model.validation_scores_):.5f}",
                    flush=True,
                )


def main(argv):
    if argv and argv[0] == "--schedule":
        return schedules(argv[1:])
    for item in argv:
        name, _, cap = item.partition("=")
        X, y, _, _ = bench.load(name, 0, int(cap) if cap else 10**9, 0)
        bench._FITTED.clear()
        bench._SECONDS.clear()
        for label in ("local-fine", "global-coarse", "global-medium", "local-fine+CQR"):
            for n_search in (1, 20):
                bench._REUSED_SECONDS[0] = 0.0
                model = bench.QuantileAggregator(
                    bench.base_models(0, False, len(y)),
                    quantiles=bench.LEVELS,
                    random_state=0,
                    device="cpu",
                    n_search=n_search,
                    **bench.AGGREGATORS[label],
                )
                start = time.perf_counter()
                model.fit(X, y)
                seconds = time.perf_counter() - start
                fresh_bases = sum(bench._SECONDS.values()) - bench._REUSED_SECONDS[0]
                print(
                    f"{name} n={len(y)} {label} n_search={n_search}: "
                    f"{seconds:.1f} s wall (reused base fits "
                    f"{bench._REUSED_SECONDS[0]:.1f} s, all base fits so far "
                    f"{sum(bench._SECONDS.values()):.1f} s), epochs of kept head "
                    f"{model.n_iter_}",
                    flush=True,
                )
                del fresh_bases


if __name__ == "__main__":
    main(sys.argv[1:])
