"""EnsLoss vs the fixed logistic, hinge and exponential losses on the same MLP.

The paper's tabular protocol on the binary sets of ``../shared/data``: for every
seed a 70/30 split (``train_test_split(test_size=0.3, random_state=seed)``, rows
with missing values dropped), one-hot categoricals and standardised numerics
fitted on the training part, MLP depth 1, 3 and 5, SGD with momentum 0.9,
cosine schedule, batch 128, weight decay 5e-6, last-epoch test accuracy. Every
loss sees the same split, the same initial weights and the same batch orders
(same ``random_state``). Paired one-sided t-tests at p < 0.05 give the paper's
(better, no difference, worse) counts. One extra run records train and test
accuracy after every epoch for the overfitting-gap plot.

Usage::

    python -m benchmarks.ensloss --quick
    python -m benchmarks.ensloss --seeds 5 --width 256 --epochs 40 --max-rows 3000
"""

import argparse
import json
import platform
import shlex
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from scipy import stats
from sklearn.compose import ColumnTransformer
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from skorch.callbacks import Callback

from skensemble.ensloss import EnsLossClassifier
from skensemble.ensloss._training import decision_to_labels, ensemble_decision

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
OUT = ROOT / "docs" / "benchmarks"
DATASETS = {
    "adult": "adult.csv.gz",
    "churn_modelling": "churn_modelling.csv.gz",
    "credit_g": "credit_g.csv",
    "diabetes_pima": "diabetes_pima.csv",
    "banknote": "banknote.csv",
    "magic_telescope": "magic_telescope.csv.gz",
    "electricity": "electricity_elec2.csv.gz",
}
QUICK_DATASETS = ["diabetes_pima", "banknote"]
LOSSES = ["ensloss", "logistic", "hinge", "exponential"]
FIXED = LOSSES[1:]
EXPONENTIAL_CLIP = 10.0  # the paper clips the gradient norm for the exp loss only


def load(name):
    frame = pd.read_csv(DATA / DATASETS[name]).dropna()
    y = frame.pop("target").to_numpy()
    return frame, y


def split(frame, y, seed, max_rows):
    """Subsample (stratified) to ``max_rows``, then the paper's 70/30 split."""
    rows = np.arange(len(y))
    if max_rows and len(y) > max_rows:
        rows, _ = train_test_split(
            rows, train_size=max_rows, random_state=seed, stratify=y
        )
    train, test = train_test_split(rows, test_size=0.3, random_state=seed)
    categorical = frame.select_dtypes(exclude="number").columns.tolist()
    numeric = [c for c in frame.columns if c not in categorical]
    encoder = ColumnTransformer(
        [
            ("num", StandardScaler(), numeric),
            ("cat", OneHotEncoder(handle_unknown="ignore"), categorical),
        ],
        sparse_threshold=0.0,
    )
    X_train = encoder.fit_transform(frame.iloc[train]).astype(np.float32)
    X_test = encoder.transform(frame.iloc[test]).astype(np.float32)
    return X_train, y[train], X_test, y[test]


def make_model(loss, depth, seed, args, cls=EnsLossClassifier):
    return cls(
        loss=loss,
        hidden_layer_sizes=(args.width,) * depth,
        learning_rate=args.lr,
        max_iter=args.epochs,
        gradient_clipping=EXPONENTIAL_CLIP if loss == "exponential" else None,
        device="cpu",
        random_state=seed,
    )


class EpochAccuracy(Callback):
    """Train and test accuracy of the network after every epoch (eval mode)."""

    def __init__(self, train, test):
        self.train, self.test = train, test

    def on_epoch_end(self, net, **kwargs):
        from skensemble._skorch import TensorData

        for name, (X, y) in (("train_acc", self.train), ("test_acc", self.test)):
            data = TensorData({"x_num": torch.as_tensor(X)})
            margins = net.predict_members(data).numpy()
            labels = decision_to_labels(ensemble_decision(margins))
            net.history.record(name, float((labels == y).mean()))


class CurveClassifier(EnsLossClassifier):
    """EnsLossClassifier that records per-epoch accuracies (benchmark only)."""

    curve_data = None

    def _callbacks(self):
        callbacks = super()._callbacks()
        callbacks.append(("epoch_accuracy", EpochAccuracy(*self.curve_data)))
        return callbacks


def run_grid(args, datasets, depths, results_path):
    """Seed by seed over all datasets, so a time budget cuts seeds, not datasets."""
    data = {name: load(name) for name in datasets}
    records, seed_seconds = [], []
    start = time.perf_counter()
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        elapsed = time.perf_counter() - start
        if seed_seconds and elapsed + max(seed_seconds) > args.budget_minutes * 60:
            print(f"time budget reached before seed {seed}", flush=True)
            break
        for name in datasets:
            X_train, y_train, X_test, y_test = split(*data[name], seed, args.max_rows)
            for depth in depths:
                for loss in LOSSES:
                    fit_start = time.perf_counter()
                    model = make_model(loss, depth, seed, args).fit(X_train, y_train)
                    records.append(
                        {
                            "dataset": name,
                            "seed": seed,
                            "depth": depth,
                            "loss": loss,
                            "n_train": len(y_train),
                            "train_acc": model.score(X_train, y_train),
                            "test_acc": model.score(X_test, y_test),
                            "fit_seconds": time.perf_counter() - fit_start,
                        }
                    )
                    print(json.dumps(records[-1]), flush=True)
        pd.DataFrame(records).to_csv(results_path, index=False)
        seed_seconds.append(time.perf_counter() - start - elapsed)
    return pd.DataFrame(records)


def run_curves(args, name, depth, seed):
    frame, y = load(name)
    X_train, y_train, X_test, y_test = split(frame, y, seed, args.max_rows)
    CurveClassifier.curve_data = ((X_train, y_train), (X_test, y_test))
    curves = {}
    for loss in LOSSES:
        model = make_model(loss, depth, seed, args, cls=CurveClassifier)
        model.fit(X_train, y_train)
        history = model.net_.history
        curves[loss] = {
            "train_acc": list(history[:, "train_acc"]),
            "test_acc": list(history[:, "test_acc"]),
        }
    return curves


def paired_outcome(diff):
    """ "better", "same" or "worse" from per-seed accuracy differences (p < 0.05)."""
    diff = np.asarray(diff, dtype=float)
    if len(diff) < 2:
        return "same"
    if np.ptp(diff) == 0:  # the t-test is undefined; the sign is certain
        return "better" if diff[0] > 0 else "worse" if diff[0] < 0 else "same"
    if stats.ttest_1samp(diff, 0.0, alternative="greater").pvalue < 0.05:
        return "better"
    if stats.ttest_1samp(diff, 0.0, alternative="less").pvalue < 0.05:
        return "worse"
    return "same"


def paired_counts(table, depth):
    """(better, no difference, worse) of EnsLoss vs each fixed loss at p < 0.05."""
    counts = {}
    at_depth = table[table.depth == depth]
    for fixed in FIXED:
        outcomes = [
            paired_outcome(
                group.pivot(index="seed", columns="loss", values="test_acc").pipe(
                    lambda wide, fixed=fixed: wide["ensloss"] - wide[fixed]
                )
            )
            for _, group in at_depth.groupby("dataset")
        ]
        counts[fixed] = tuple(outcomes.count(o) for o in ("better", "same", "worse"))
    return counts


def mean_se(values):
    values = np.asarray(values, dtype=float) * 100
    se = values.std(ddof=1) / np.sqrt(len(values)) if len(values) > 1 else 0.0
    return values.mean(), se


def report(table, curves, args, commands, elapsed, curve_spec, stem):
    depths = sorted(table.depth.unique())
    lines = [
        "# EnsLoss benchmark: random calibrated losses vs fixed losses",
        "",
        "Commands (run from the repository root, `OMP_NUM_THREADS=1`):",
        "",
        *[f"    {command}" for command in commands],
        "",
        f"Machine: {platform.machine()}, 2 CPU cores shared with other jobs, no GPU; "
        f"torch {torch.__version__}, CPU, 1 thread. Date: "
        f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC. "
        f"{elapsed / 60:.0f} min of fitting.",
        "",
        "Protocol (paper's tabular setup, `reference/ensloss.md` 3): rows with NaN "
        "dropped, 70/30 split per seed, StandardScaler on numerics and one-hot "
        "categoricals (fitted on the training part), MLP = depth x [Linear(width) "
        "-> ReLU -> BatchNorm1d] -> Linear(1), SGD momentum 0.9, weight decay "
        "5e-6, cosine schedule over all epochs, batch 128, accuracy of the last "
        "epoch on the test part. Every loss gets the same split, initial weights "
        "and batch orders; the exponential loss gets gradient-norm clipping 10 "
        "as in the paper.",
        "",
        f"Settings: {table.seed.nunique()} seeds (of {args.seeds} asked), width "
        f"{args.width}, {args.epochs} epochs, "
        f"learning rate {args.lr}, datasets subsampled (stratified, per seed) to "
        f"at most {args.max_rows} rows before the split.",
        "",
        "**Cut from the issue's full protocol, to finish on 2 shared cores:** "
        + (args.not_run or "nothing."),
        "",
    ]
    for depth in depths:
        at_depth = table[table.depth == depth]
        lines += [
            f"## MLP({depth}): test accuracy (%), mean +/- s.e. over seeds",
            "",
            "| dataset | n_train | " + " | ".join(LOSSES) + " | ensloss / best fixed |",
            "|---|---|" + "---|" * len(LOSSES) + "---|",
        ]
        for name, group in at_depth.groupby("dataset", sort=False):
            cells, means = [], {}
            for loss in LOSSES:
                mean, se = mean_se(group[group.loss == loss].test_acc)
                means[loss] = mean
                cells.append(f"{mean:.2f} +/- {se:.2f}")
            best = max(FIXED, key=means.get)
            wide = group.pivot(index="seed", columns="loss", values="test_acc")
            ratio = wide["ensloss"] / wide[best]
            ratio_se = ratio.std(ddof=1) / np.sqrt(len(ratio)) if len(ratio) > 1 else 0
            lines.append(
                f"| {name} | {int(group.n_train.iloc[0])} | "
                + " | ".join(cells)
                + f" | {ratio.mean():.4f} +/- {ratio_se:.4f} ({best}) |"
            )
        overall = at_depth.groupby("loss").test_acc.mean() * 100
        lines.append(
            "| **mean over datasets** | | "
            + " | ".join(f"**{overall[loss]:.2f}**" for loss in LOSSES)
            + " | |"
        )
        counts = paired_counts(table, depth)
        lines += [
            "",
            "(better, no difference, worse) for EnsLoss, one-sided paired t-tests "
            "at p < 0.05: "
            + ", ".join(f"vs {fixed} {counts[fixed]}" for fixed in FIXED),
            "",
        ]
        train_means = at_depth.groupby("loss").train_acc.mean() * 100
        lines += [
            "Mean train accuracy (%): "
            + ", ".join(f"{loss} {train_means[loss]:.2f}" for loss in LOSSES),
            "",
        ]
    lines += targets(table, depths)
    lines += [
        "## Overfitting gap",
        "",
        f"{curve_spec}: train and test accuracy after every epoch "
        f"(`{stem}_curves.png`, data in `{stem}_curves.json`).",
        "",
        "| loss | final train acc | final test acc | best test acc (epoch) |",
        "|---|---|---|---|",
    ]
    for loss, curve in curves.items():
        test = np.asarray(curve["test_acc"])
        lines.append(
            f"| {loss} | {curve['train_acc'][-1]:.4f} | {test[-1]:.4f} | "
            f"{test.max():.4f} ({test.argmax() + 1}) |"
        )
    lines.append("")
    return "\n".join(lines)


def targets(table, depths):
    deepest = max(depths)
    at_depth = table[table.depth == deepest]
    means = at_depth.groupby("loss").test_acc.mean() * 100
    best_fixed = max(FIXED, key=means.get)
    lines = [
        "## Targets of the issue",
        "",
        f"- MLP({deepest}) mean accuracy, EnsLoss {means['ensloss']:.2f} vs best fixed "
        f"loss ({best_fixed}) {means[best_fixed]:.2f}: "
        + ("**met**" if means["ensloss"] >= means[best_fixed] else "**not met**"),
    ]
    for depth in depths:
        counts = paired_counts(table, depth)
        worst = max(c[2] for c in counts.values())
        lines.append(
            f"- MLP({depth}): significantly worse than some fixed loss on at most "
            f"{worst} dataset(s) (target <= 1): "
            + ("**met**" if worst <= 1 else "**not met**")
        )
    lines.append("")
    return lines


def plot_curves(curves, path, title):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.2))
    for color, (loss, curve) in zip(
        ["C3", "C0", "C1", "C2"], curves.items(), strict=True
    ):
        epochs = np.arange(1, len(curve["train_acc"]) + 1)
        ax.plot(epochs, curve["train_acc"], color=color, ls="--", lw=1)
        ax.plot(epochs, curve["test_acc"], color=color, lw=1.8, label=loss)
    ax.set_xlabel("epoch")
    ax.set_ylabel("accuracy (dashed: train, solid: test)")
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--width", type=int, default=1024)
    parser.add_argument("--epochs", type=int, default=300)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--max-rows", type=int, default=0)
    parser.add_argument("--datasets", nargs="*", default=list(DATASETS))
    parser.add_argument("--curve-dataset", default="credit_g")
    parser.add_argument("--budget-minutes", type=float, default=float("inf"))
    parser.add_argument("--not-run", default="")
    parser.add_argument(
        "--first-seed",
        type=int,
        default=0,
        help="run seeds from here on into a separate CSV (no curves, no report)",
    )
    parser.add_argument(
        "--report-from",
        nargs="*",
        help="only write the report from these result CSVs and the saved curves",
    )
    parser.add_argument(
        "--curves-only", action="store_true", help="only the per-epoch curves run"
    )
    parser.add_argument(
        "--runs", nargs="*", default=[], help="the commands that made the CSVs"
    )
    parser.add_argument(
        "--estimate-cost",
        action="store_true",
        help="time two epochs per data set and depth; project the protocol's cost",
    )
    args = parser.parse_args(argv)
    if not DATA.exists():
        sys.exit(f"{DATA} is absent: the benchmark reads ../shared/data.")
    torch.set_num_threads(1)
    depths = [1, 3, 5]
    datasets = args.datasets
    if args.quick:
        args.seeds, args.width, args.epochs, args.lr = 2, 64, 10, 1e-2
        args.max_rows = args.max_rows or 1000
        datasets, depths = QUICK_DATASETS, [1, 5]
        args.curve_dataset = QUICK_DATASETS[0]
    OUT.mkdir(parents=True, exist_ok=True)
    stem = "ensloss_quick" if args.quick else "ensloss"
    command = "python -m benchmarks.ensloss " + shlex.join(sys.argv[1:])
    if args.estimate_cost:
        try:  # run as ``python -m benchmarks.ensloss`` or as a script
            from benchmarks._ensloss_cost import estimate
        except ImportError:
            from _ensloss_cost import estimate

        estimate(args, datasets, depths, load, split, make_model, LOSSES, OUT, command)
        return
    if args.report_from:
        table = pd.concat([pd.read_csv(path) for path in args.report_from])
        table = table.drop_duplicates(["dataset", "seed", "depth", "loss"])
        curves = json.loads((OUT / f"{stem}_curves.json").read_text())
        curve_spec = f"{args.curve_dataset}, MLP({max(depths)}), seed 0"
        commands = [*args.runs, command]
        elapsed = table.fit_seconds.sum()
        write_report(table, curves, args, commands, elapsed, curve_spec, stem)
        return
    start = time.perf_counter()
    if args.curves_only:
        save_curves(args, depths, stem)
        return
    if args.first_seed:
        run_grid(args, datasets, depths, OUT / f"{stem}_results_{args.first_seed}.csv")
        return
    table = run_grid(args, datasets, depths, OUT / f"{stem}_results.csv")
    curves, curve_spec = save_curves(args, depths, stem)
    elapsed = time.perf_counter() - start
    write_report(table, curves, args, [command], elapsed, curve_spec, stem)


def save_curves(args, depths, stem):
    curve_depth = max(depths)
    curves = run_curves(args, args.curve_dataset, curve_depth, seed=0)
    curve_spec = f"{args.curve_dataset}, MLP({curve_depth}), seed 0"
    (OUT / f"{stem}_curves.json").write_text(json.dumps(curves))
    try:
        plot_curves(curves, OUT / f"{stem}_curves.png", curve_spec)
    except ImportError:
        print("matplotlib is absent: no plot.")
    return curves, curve_spec


def write_report(table, curves, args, commands, elapsed, curve_spec, stem):
    text = report(table, curves, args, commands, elapsed, curve_spec, stem)
    (OUT / f"{stem}.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
