"""DriftMoE against river's stream ensembles, prequentially, on drifting streams.

Real streams come from ../shared/data (row order kept); synthetic streams are
river's generators with the paper's drift settings scaled to the stream length.
Every model of a stream sees the same instances in the same run.

    python benchmarks/stream.py --quick          # smoke run, < 2 minutes
    python benchmarks/stream.py                  # full run -> docs/benchmarks/stream.md
"""

import argparse
import datetime
import itertools
import json
import pickle
import platform
import shlex
import sys
import time
from pathlib import Path

import numpy as np
from _machine import cpu_model  # benchmarks/ sibling modules
from river import drift, ensemble, forest, tree
from river.datasets import synth

from skensemble.stream import DriftMoEClassifier, PrequentialDisplay, prequential_score

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"

REAL_STREAMS = {
    "Electricity": "electricity_elec2.csv.gz",
    "SEA (file)": "sea_abrupt_stream.csv.gz",
    "Outdoor": "outdoor_objects_stream.csv.gz",
    "Spam": "spam_corpus_stream.csv.gz",
}
# Nominal attributes of the MOA schema (elecNormNew.arff: day {1..7}). MOA hands
# a nominal value to a learner as its index, so day 1..7 becomes 0..6, and every
# model's Hoeffding trees treat the column as nominal, as in the paper's runs.
NOMINAL = {"Electricity": {"day": 1}}
# Class indices of the MOA schema: elecNormNew declares class {UP,DOWN}, so MOA
# (and the paper's CapyMOA runs) index UP as 0, while the CSV codes UP as 1. The
# benchmark recodes the labels to MOA's indices (listed here in MOA's order), so
# every tie and every untrained prediction falls on UP, as in the paper's runs.
CLASS_ORDER = {"Electricity": [1, 0]}
# The SEA file's concept changes every 12,500 rows (see ../shared/data/README.md).
KNOWN_DRIFTS = {"SEA (file)": [12_500, 25_000, 37_500]}
SYNTHETIC_STREAMS = ["LEDa", "LEDg", "SEAa", "SEAg", "RBFm", "RBFf"]
# The low-dimensional streams: river's SRP and LevBag take minutes for a few
# hundred instances of the 499-feature spam stream or the 40-class outdoor one.
QUICK_STREAMS = ["Electricity", "SEA (file)", "SEAa", "RBFf"]

# The paper's MoE-Data / MoE-Task accuracies (%, project page, 1M instances for
# the synthetic streams, mean of 10 seeds) and ARF (read off the page's chart).
PAPER = {
    "Electricity": {"MoE-Data": 83.76, "MoE-Task": 68.73, "ARF (MOA, 100 trees)": 90.1},
    "LEDa": {"MoE-Data": 73.77, "MoE-Task": 71.11, "ARF (MOA, 100 trees)": 74.0},
    "LEDg": {"MoE-Data": 73.11, "MoE-Task": 70.82, "ARF (MOA, 100 trees)": 73.0},
    "SEAa": {"MoE-Data": 89.09, "MoE-Task": 88.04, "ARF (MOA, 100 trees)": 89.7},
    "SEAg": {"MoE-Data": 88.74, "MoE-Task": 87.76, "ARF (MOA, 100 trees)": 89.3},
    "RBFm": {"MoE-Data": 79.89, "MoE-Task": 88.65, "ARF (MOA, 100 trees)": 92.1},
    "RBFf": {"MoE-Data": 61.90, "MoE-Task": 75.45, "ARF (MOA, 100 trees)": 86.4},
}

FAITHFUL_DATA = "DriftMoE-Data (paper)"
BEST_DATA = "DriftMoE-Data (options)"
FAITHFUL_TASK = "DriftMoE-Task (paper)"
BEST_TASK = "DriftMoE-Task (product)"
ARF = "ARF (river, 10 trees)"


def make_models(seed, nominal=None):
    """Every model of one run, freshly built and seeded.

    ``nominal`` lists the column indices the stream's schema declares nominal.
    """
    moe = {"random_state": seed, "nominal_features": nominal}
    trees = {"nominal_attributes": nominal}
    return {
        FAITHFUL_DATA: DriftMoEClassifier(router_dropout=0.0, **moe),
        BEST_DATA: DriftMoEClassifier(
            router_dropout=0.0,
            standardize=True,
            mixing="soft",
            drift_detector=drift.ADWIN(),
            **moe,
        ),
        # The paper's MoE-Task code steps the router on every instance.
        FAITHFUL_TASK: DriftMoEClassifier(mode="task", router_batch_size=1, **moe),
        BEST_TASK: DriftMoEClassifier(
            mode="task", standardize=True, task_prediction="product", **moe
        ),
        ARF: forest.ARFClassifier(n_models=10, seed=seed, **trees),
        "SRP (river, 10)": ensemble.SRPClassifier(
            tree.HoeffdingTreeClassifier(grace_period=50, delta=0.01, **trees),
            n_models=10,
            seed=seed,
        ),
        "LevBag (river, 10 HT)": ensemble.LeveragingBaggingClassifier(
            tree.HoeffdingTreeClassifier(**trees), n_models=10, seed=seed
        ),
        # river 0.26.1's HAT can divide by zero in its first memory estimate,
        # which runs after learning the memory_estimate_period-th instance
        # (online-ml/river#1717). Past the default 1,000,000 it runs after a
        # 1M stream's last prediction, so the scores equal the default's.
        "HAT (river)": tree.HoeffdingAdaptiveTreeClassifier(
            seed=seed, memory_estimate_period=2_000_000, **trees
        ),
        "Hoeffding tree (river)": tree.HoeffdingTreeClassifier(**trees),
    }


def _switching(concepts, positions):
    """Abrupt drift as a hard switch from one concept to the next at each position."""
    bounds = [0, *positions]
    for concept, start, stop in zip(concepts, bounds, [*positions, None]):
        yield from (concept.take(stop - start) if stop is not None else concept)


def _drifting(concepts, positions, width, seed):
    """Left-nested concept drift stream (as MOA's and the paper's DriftStream).

    river's ConceptDriftStream evaluates ``exp(4 * (position - t) / width)``,
    which overflows once an instance lies more than about 177 widths before a
    drift; such abrupt streams are built as hard switches instead.
    """
    if max(positions) > 170 * width:
        return _switching(concepts, positions)
    stream = concepts[0]
    for concept, position in zip(concepts[1:], positions):
        stream = synth.ConceptDriftStream(
            stream, concept, position=position, width=width, seed=seed
        )
    return stream


def synthetic_stream(name, n_instances, seed):
    """The paper's synthetic streams with drift positions scaled to the length."""
    gradual = name.endswith("g")
    if gradual:
        positions = [int(n_instances * f) for f in (0.225, 0.475, 0.725)]
        width = max(1, n_instances // 20)
    else:
        positions = [int(n_instances * f) - 25 for f in (0.25, 0.5, 0.75)]
        width = 50
    if name.startswith("LED"):
        concepts = [
            synth.LEDDrift(
                seed=seed,
                noise_percentage=0.1,
                irrelevant_features=True,
                n_drift_features=features,
            )
            for features in (1, 3, 5, 7)
        ]
        stream = _drifting(concepts, positions, width, seed=1)
    elif name.startswith("SEA"):
        concepts = [synth.SEA(variant=v, noise=0.1, seed=seed) for v in (0, 1, 3, 0)]
        stream = _drifting(concepts, positions, width, seed=1)
    else:
        speed = 1e-4 if name == "RBFm" else 1e-3
        stream = synth.RandomRBFDrift(
            seed_model=seed,
            seed_sample=seed,
            n_classes=2,
            n_features=10,
            n_centroids=50,
            change_speed=speed,
            n_drift_centroids=50,
        )
        positions = []
    rows, labels = [], []
    for x, y in itertools.islice(stream, n_instances):
        rows.append([x[key] for key in sorted(x)])
        labels.append(int(y))
    return np.asarray(rows, dtype=float), np.asarray(labels), positions


def nominal_columns(name, data_dir):
    """Column indices of the stream's nominal attributes, or None."""
    if name not in NOMINAL:
        return None
    import pandas as pd

    header = pd.read_csv(Path(data_dir) / REAL_STREAMS[name], nrows=0).columns.tolist()
    return [header.index(column) for column in NOMINAL[name]]


def real_stream(name, n_instances, data_dir):
    import pandas as pd

    frame = pd.read_csv(Path(data_dir) / REAL_STREAMS[name], nrows=n_instances)
    for column, first_value in NOMINAL.get(name, {}).items():
        frame[column] -= first_value
    drifts = [p for p in KNOWN_DRIFTS.get(name, []) if p < len(frame)]
    labels = frame["target"].to_numpy()
    if name in CLASS_ORDER:
        index = {label: code for code, label in enumerate(CLASS_ORDER[name])}
        labels = np.array([index[label] for label in labels.tolist()])
    return frame.drop(columns="target").to_numpy(float), labels, drifts


def run_one(model, X, y, verbose=0):
    result = prequential_score(
        model, X, y, window=max(100, len(y) // 50), verbose=verbose
    )
    return {
        "accuracy": 100 * result.accuracy,
        "kappa_m": 100 * result.kappa_m,
        "kappa_t": 100 * result.kappa_t,
        "instances_per_second": result.instances_per_second,
        "memory_mb": len(pickle.dumps(model)) / 2**20,
        "window_ends": result.window_ends.tolist(),
        "window_accuracy": result.window_accuracy.tolist(),
    }


def _now():
    return datetime.datetime.now(datetime.UTC).isoformat()


def _new_results(args):
    config = {**vars(args), "started": _now()}
    config["command"] = shlex.join(["python", *sys.argv])
    config["cpu"] = cpu_model()
    return {"config": config, "streams": {}, "speed": {}}


def _save(results, args, finished=False):
    """Write the results so far, so that an interrupted run keeps them."""
    if finished:
        results["config"]["finished"] = _now()
    if args.json:
        Path(args.json).write_text(json.dumps(results))
    return results


def _warm_up():
    """Pay torch's one-off imports (Adam pulls in torch._dynamo) before timing."""
    from sklearn.datasets import make_classification

    X, y = make_classification(n_samples=300, random_state=0)
    prequential_score(DriftMoEClassifier(random_state=0), X, y)


def run(args):
    results = _new_results(args)
    _warm_up()
    stream_names = args.streams or [*REAL_STREAMS, *SYNTHETIC_STREAMS]
    for name in stream_names:
        entry = {"n_instances": None, "drifts": [], "runs": {}}
        for seed in range(args.seeds):
            if name in REAL_STREAMS:
                X, y, drifts = real_stream(name, args.real_instances, args.data_dir)
            else:
                X, y, drifts = synthetic_stream(
                    name, args.synthetic_instances, seed + 1
                )
            entry["n_instances"], entry["drifts"] = len(y), drifts
            for model_name, model in make_models(
                seed, nominal_columns(name, args.data_dir)
            ).items():
                if args.models and model_name not in args.models:
                    continue
                start = time.perf_counter()
                outcome = run_one(model, X, y, args.verbose)
                entry["runs"].setdefault(model_name, []).append(outcome)
                elapsed = time.perf_counter() - start
                print(
                    f"{name:12s} seed {seed} {model_name:26s} "
                    f"acc {outcome['accuracy']:6.2f}  "
                    f"kappa-M {outcome['kappa_m']:7.2f}  "
                    f"{outcome['instances_per_second']:8.0f} inst/s  "
                    f"{outcome['memory_mb']:7.2f} MB  ({elapsed:.0f} s)",
                    flush=True,
                )
                results["streams"][name] = entry
                _save(results, args)
    return _save(results, args, finished=True)


def run_speed(args):
    """Throughput only: DriftMoE and ARF alternated on the same prefix, repeated.

    Alternating the models in one process exposes them to the same machine
    load, so the ratio is meaningful on a shared machine; a short DriftMoE run
    first pays torch's one-off initialisation outside the timings.
    """
    results = _new_results(args)
    for name in args.streams or QUICK_STREAMS:
        if name in REAL_STREAMS:
            X, y, _ = real_stream(name, args.real_instances, args.data_dir)
        else:
            X, y, _ = synthetic_stream(name, args.synthetic_instances, 1)
        _warm_up()
        timings = {"n_instances": len(y), "runs": {}}
        for repeat in range(args.speed_repeats):
            models = make_models(repeat, nominal_columns(name, args.data_dir))
            for model_name in (FAITHFUL_DATA, BEST_DATA, ARF):
                outcome = run_one(models[model_name], X, y)
                timings["runs"].setdefault(model_name, []).append(
                    outcome["instances_per_second"]
                )
                print(
                    f"{name:12s} repeat {repeat} {model_name:26s} "
                    f"{outcome['instances_per_second']:8.0f} inst/s",
                    flush=True,
                )
            results["speed"][name] = timings
            _save(results, args)
    return _save(results, args, finished=True)


def render_speed(speed):
    lines = [
        "## Throughput, alternated in one process",
        "",
        "Each repeat runs the three models one after the other on the same prefix "
        "(fresh models, seed = repeat), after a warm-up; ratio = ours / ARF per "
        "repeat, mean ± std over repeats.",
        "",
        "| stream | instances | DriftMoE-Data (paper) inst/s | DriftMoE-Data (options) "
        "inst/s | ARF inst/s | paper / ARF | options / ARF |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, timings in speed.items():
        runs = {model: np.array(values) for model, values in timings["runs"].items()}
        arf = runs[ARF]
        count = len(arf)
        ratios = [runs[model][:count] / arf for model in (FAITHFUL_DATA, BEST_DATA)]
        lines.append(
            f"| {name} | {timings['n_instances']:,} | {runs[FAITHFUL_DATA].mean():.0f} "
            f"| {runs[BEST_DATA].mean():.0f} | {arf.mean():.0f} | "
            f"{ratios[0].mean():.2f}x ± {ratios[0].std():.2f} | "
            f"{ratios[1].mean():.2f}x ± {ratios[1].std():.2f} |"
        )
    lines.append("")
    return lines


def _mean_std(runs, key):
    values = np.array([run[key] for run in runs])
    return values.mean(), values.std()


def _fmt(runs, key, digits=2):
    mean, std = _mean_std(runs, key)
    if len(runs) == 1:
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} ± {std:.{digits}f}"


def _ratio(runs, peer_runs, key):
    ratios = np.array([a[key] / b[key] for a, b in zip(runs, peer_runs)])
    if len(ratios) == 1:
        return f"{ratios[0]:.2f}x"
    return f"{ratios.mean():.2f}x ± {ratios.std():.2f}"


def merge(results_list):
    """One report from several runs.

    Runs of the same stream at the same length are pooled model by model (a
    model met twice keeps the later run); the same stream at another length
    gets its own section, named with its length.
    """
    merged = {"configs": [], "streams": {}, "speed": {}}
    for results in results_list:
        merged["configs"].append(results["config"])
        merged["speed"].update(results.get("speed", {}))
        for name, entry in results["streams"].items():
            key = name
            existing = merged["streams"].get(key)
            if existing is not None and existing["n_instances"] != entry["n_instances"]:
                key = f"{name}, {entry['n_instances']:,} instances"
                existing = merged["streams"].get(key)
            if existing is None:
                merged["streams"][key] = {
                    **entry,
                    "runs": dict(entry["runs"]),
                    "pooled": False,
                }
            else:
                existing["runs"].update(entry["runs"])
                existing["pooled"] = True
    return merged


def render_markdown(merged, notes=None):
    commands = "\n".join(
        f"    {config['command']}    # {config['started']} to "
        f"{config.get('finished', 'unfinished')}"
        + (f"; {config['kept']}" if "kept" in config else "")
        + (f"; CPU: {config['cpu']}" if "cpu" in config else "")
        for config in merged["configs"]
    )
    lines = [
        "# Benchmark: DriftMoE vs river's stream ensembles",
        "",
        "Commands (from the repository root, each with `OMP_NUM_THREADS=1`, at most "
        "two side by side on a 2-core machine, other jobs present during some runs: "
        "see the notes; UTC start and end):",
        "",
        commands,
        "",
        f"Machine: {platform.machine()}, 2 CPU cores, no GPU "
        f"(router on CPU); Python {platform.python_version()}. "
        "One seed per stream unless a cell shows mean ± std over seeds. Prequential "
        "(test-then-train) over the whole prefix; accuracy, kappa-M and kappa-T in %; "
        "instances/s includes the dict conversion of each row, the same for every "
        "model; the vs-ARF speed column is shown only for models timed in the same "
        "run; memory is the pickled size of the model at the end of the stream.",
        "",
    ]
    summary = []
    for name, entry in merged["streams"].items():
        runs = entry["runs"]
        lines += [
            f"## {name}"
            if name.endswith(" instances")
            else f"## {name} ({entry['n_instances']:,} instances)",
            "",
            "| model | accuracy | kappa-M | kappa-T | instances/s | vs ARF speed "
            "| memory (MB) |",
            "|---|---|---|---|---|---|---|",
        ]
        for model_name, model_runs in runs.items():
            # Speed ratios only within one run: pooled runs met other loads.
            speed = (
                _ratio(model_runs, runs[ARF], "instances_per_second")
                if ARF in runs
                and len(runs[ARF]) == len(model_runs)
                and not entry.get("pooled")
                else "-"
            )
            lines.append(
                f"| {model_name} | {_fmt(model_runs, 'accuracy')} | "
                f"{_fmt(model_runs, 'kappa_m')} | {_fmt(model_runs, 'kappa_t')} | "
                f"{_fmt(model_runs, 'instances_per_second', 0)} | {speed} | "
                f"{_fmt(model_runs, 'memory_mb')} |"
            )
        lines.append("")
        if all(key in runs for key in (ARF, FAITHFUL_DATA, BEST_DATA)):
            arf = _mean_std(runs[ARF], "accuracy")[0]
            faithful = _mean_std(runs[FAITHFUL_DATA], "accuracy")[0]
            best = _mean_std(runs[BEST_DATA], "accuracy")[0]
            gap = arf - faithful
            closed = (best - faithful) / gap if gap > 0 else float("nan")
            speed = None
            stream_name = name.split(",")[0]  # "SEAa, 100,000 instances"
            if stream_name in merged["speed"]:
                timings = merged["speed"][stream_name]["runs"]
                speed = np.mean(
                    np.array(timings[FAITHFUL_DATA][: len(timings[ARF])])
                    / np.array(timings[ARF])
                )
            summary.append((name, faithful, best, arf, gap, closed, speed))
    lines += [
        "## Summary: gap to ARF and speed",
        "",
        "Gap closed = (options - paper) / (ARF - paper), accuracy in points; "
        "speed = DriftMoE-Data (paper) instances/s over ARF's, from the "
        "alternated measurement below (same process, same load).",
        "",
        "| stream | DriftMoE-Data (paper) | DriftMoE-Data (options) | ARF (river, 10) "
        "| gap | gap closed | speed vs ARF |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, faithful, best, arf, gap, closed, speed in summary:
        closed_text = "no gap" if gap <= 0 else f"{100 * closed:.0f} %"
        speed_text = "-" if speed is None else f"{speed:.2f}x"
        lines.append(
            f"| {name} | {faithful:.2f} | {best:.2f} | {arf:.2f} | {gap:.2f} | "
            f"{closed_text} | {speed_text} |"
        )
    lines += [
        "",
        "## Against the paper's numbers",
        "",
        "The paper runs synthetic streams for 1,000,000 instances with 10 seeds "
        "(MOA's generators through CapyMOA); ours are river's generators with the "
        "same drift settings, at the lengths shown.",
        "",
        "| stream | instances | ours DriftMoE-Data (paper) | paper MoE-Data | "
        "ours DriftMoE-Task (paper) | paper MoE-Task |",
        "|---|---|---|---|---|---|",
    ]
    for name, paper in PAPER.items():
        for key, entry in merged["streams"].items():
            runs = entry["runs"]
            if key.split(",")[0] != name or FAITHFUL_DATA not in runs:
                continue
            task = (
                _fmt(runs[FAITHFUL_TASK], "accuracy") if FAITHFUL_TASK in runs else "-"
            )
            lines.append(
                f"| {name} | {entry['n_instances']:,} | "
                f"{_fmt(runs[FAITHFUL_DATA], 'accuracy')} | "
                f"{paper['MoE-Data']:.2f} | {task} | {paper['MoE-Task']:.2f} |"
            )
    lines.append("")
    if merged["speed"]:
        lines += render_speed(merged["speed"])
    if notes:
        lines += [Path(notes).read_text()]
    return "\n".join(lines)


def plot_curves(results, path):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    from sklearn.utils import Bunch

    names = list(results["streams"])
    if not names:
        return None
    columns = 2
    rows = (len(names) + columns - 1) // columns
    figure, axes = plt.subplots(rows, columns, figsize=(12, 3.2 * rows), squeeze=False)
    shown = (FAITHFUL_DATA, BEST_DATA, FAITHFUL_TASK, ARF, "Hoeffding tree (river)")
    for ax, name in zip(axes.ravel(), names):
        entry = results["streams"][name]
        curves = {
            model: Bunch(
                window_ends=np.array(runs[0]["window_ends"]),
                window_accuracy=np.array(runs[0]["window_accuracy"]),
                accuracy=runs[0]["accuracy"] / 100,
            )
            for model, runs in entry["runs"].items()
            if model in shown
        }
        drifts = entry["drifts"] or [
            p for p in KNOWN_DRIFTS.get(name, []) if p < entry["n_instances"]
        ]
        PrequentialDisplay.from_results(curves, drift_positions=drifts, ax=ax)
        ax.set_title(name)
    for ax in axes.ravel()[len(names) :]:
        ax.set_visible(False)
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    return path


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke run, < 2 min")
    parser.add_argument("--synthetic-instances", type=int, default=100_000)
    parser.add_argument("--real-instances", type=int, default=None)
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--streams", nargs="*", default=None)
    parser.add_argument("--models", nargs="*", default=None)
    parser.add_argument("--data-dir", default=str(DATA), help="shared stream CSVs")
    parser.add_argument(
        "--speed-repeats",
        type=int,
        default=0,
        help="only time DriftMoE against ARF, alternated, this many times",
    )
    parser.add_argument(
        "--verbose",
        type=int,
        default=0,
        help="> 0: report progress every tenth of a stream (not in --speed-repeats)",
    )
    parser.add_argument("--json", default=None, help="write raw results here")
    parser.add_argument("--output", default=None, help="markdown report path")
    parser.add_argument(
        "--render", nargs="+", default=None, help="only render these JSON files"
    )
    parser.add_argument(
        "--notes", default=None, help="markdown appended to the rendered report"
    )
    args = parser.parse_args()
    if args.render:
        results = merge([json.loads(Path(path).read_text()) for path in args.render])
    else:
        if not Path(args.data_dir).exists():
            sys.exit(f"shared stream data not found at {args.data_dir}")
        if args.quick:
            args.synthetic_instances = 500
            args.real_instances = 500
            args.streams = args.streams or QUICK_STREAMS
        results = merge([run_speed(args) if args.speed_repeats else run(args)])
    if args.quick and not args.output:
        return
    output = Path(args.output or ROOT / "docs" / "benchmarks" / "stream.md")
    output.write_text(render_markdown(results, args.notes))
    plot_curves(results, output.with_suffix(".png"))
    print(f"wrote {output}")


if __name__ == "__main__":
    main()
