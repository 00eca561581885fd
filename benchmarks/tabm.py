"""TabM benchmark: skensemble's TabM vs the official ``tabm`` module and GBDT/MLP peers.

Same splits (random 64/16/20), same seeds and the same machine for every model in
one run. The official module is trained with its documented loop (AdamW 2e-3 /
3e-4, each member its own batch order, mean of member losses, gradient clipping
1.0, validation every epoch, patience 16, best weights restored) on exactly the
features our preprocessing produces, so the comparison isolates the training
code. Writes ``docs/benchmarks/tabm.md`` (full mode) and prints the table.

Usage::

    python benchmarks/tabm.py --quick            # < 2 minutes, CI smoke test
    python benchmarks/tabm.py                    # the issue's full mode
    python benchmarks/tabm.py --max-train 2000 --seeds 1   # what fits a session
"""

import sys
from pathlib import Path

# This file is named like the official ``tabm`` package it compares against; keep
# its folder off the import path so ``import tabm`` finds the package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent]

import argparse
import copy
import datetime
import os
import platform
import time

import numpy as np
import pandas as pd
import torch
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
)
from sklearn.metrics import accuracy_score, mean_squared_error
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from skensemble.tabm import TabMClassifier, TabMRegressor
from skensemble.tabm._base import auto_batch_size
from skensemble.tabm._cost import matmul_flops_per_object
from skensemble.tabm._preprocessing import detect_categorical

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
OUT = Path(__file__).resolve().parents[1] / "docs" / "benchmarks"
DATASETS = {
    "california": ("california_housing.csv.gz", "regression"),
    "adult": ("adult.csv.gz", "binary"),
    "churn": ("churn_modelling.csv.gz", "binary"),
    "covertype": ("covertype_first20k.csv.gz", "multiclass"),
}


def load(name, max_train, seed):
    """Rows sampled so the 64% training part has at most ``max_train`` rows."""
    file, task = DATASETS[name]
    frame = pd.read_csv(DATA / file)
    n_rows = min(len(frame), int(np.ceil(max_train / 0.64)))
    frame = frame.sample(n=n_rows, random_state=seed).reset_index(drop=True)
    X, y = frame.drop(columns="target"), frame["target"].to_numpy()
    stratify = y if task != "regression" else None
    X_trval, X_test, y_trval, y_test = train_test_split(
        X, y, test_size=0.2, random_state=seed, stratify=stratify
    )
    strat = y_trval if task != "regression" else None
    X_train, X_val, y_train, y_val = train_test_split(
        X_trval, y_trval, test_size=0.2, random_state=seed, stratify=strat
    )
    return task, (X_train, y_train), (X_val, y_val), (X_test, y_test)


def score(task, y_true, y_pred):
    if task == "regression":
        return mean_squared_error(y_true, y_pred) ** 0.5
    return accuracy_score(y_true, y_pred)


def matmul_rate(seconds=2.0):
    """Best float32 matmul rate (FLOP/s) of this process's torch threads."""
    a, b = torch.randn(2048, 2048), torch.randn(2048, 2048)
    best, start = 0.0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        t0 = time.perf_counter()
        a @ b
        best = max(best, 2 * 2048**3 / (time.perf_counter() - t0))
    return best


def warm_up():
    """One tiny fit first, so no timed model pays for torch's lazy initialisation."""
    X = np.random.default_rng(0).normal(size=(64, 3))
    TabMRegressor(k=2, d_block=8, max_iter=2, random_state=0).fit(X, X[:, 0])


# -- the official module with its documented loop --
def fit_official(task, train, val, config, seed, preprocessor, n_classes):
    """Train ``tabm.TabM`` as its README/example notebook does; return timings."""
    import tabm

    torch.manual_seed(seed)
    x_num, x_cat = preprocessor.transform(train[0])
    xv_num, xv_cat = (None, None) if val is None else preprocessor.transform(val[0])
    cards = [c + 1 for c in preprocessor.cardinalities_]  # +1: unknown category
    if task == "regression":
        mean, std = train[1].mean(), train[1].std()
        y = (train[1] - mean) / std
        yv = None if val is None else (val[1] - mean) / std
        d_out = 1
    else:
        y, yv, d_out = train[1], None if val is None else val[1], n_classes
    model = tabm.TabM.make(
        n_num_features=x_num.shape[1],
        cat_cardinalities=cards or None,
        d_out=d_out,
        k=config["k"],
        d_block=config["d_block"],
        arch_type="tabm",
    )
    k = model.k
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=3e-4)
    X = torch.as_tensor(x_num)
    C = None if x_cat is None else torch.as_tensor(x_cat)
    Y = torch.as_tensor(y, dtype=torch.float32 if task == "regression" else torch.long)
    Xv = None if val is None else torch.as_tensor(xv_num)
    Cv = None if val is None or xv_cat is None else torch.as_tensor(xv_cat)
    batch_size = auto_batch_size(len(X))
    best, best_state, misses, epochs, epoch_seconds = None, None, 0, 0, []
    for _ in range(config["max_epochs"]):
        start = time.perf_counter()
        model.train()
        order = torch.rand(len(X), k).argsort(dim=0)
        for idx in order.split(batch_size):
            out = model(X[idx], None if C is None else C[idx])
            target = Y[idx]
            if task == "regression":
                loss = torch.nn.functional.mse_loss(out.squeeze(-1), target)
            else:
                loss = torch.nn.functional.cross_entropy(
                    out.flatten(0, 1), target.flatten()
                )
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
        if val is None:  # speed mode: training epochs only
            epoch_seconds.append(time.perf_counter() - start)
            epochs += 1
            best_state = model.state_dict()
            continue
        model.eval()
        with torch.no_grad():
            pred = torch.cat(
                [
                    model(Xv[i : i + 1024], None if Cv is None else Cv[i : i + 1024])
                    for i in range(0, len(Xv), 1024)
                ]
            )
        if task == "regression":
            value = -float(
                ((pred.squeeze(-1).mean(1) - torch.as_tensor(yv)) ** 2).mean()
            )
        else:
            proba = pred.softmax(-1).mean(1)
            value = float((proba.argmax(-1).numpy() == yv).mean())
        epoch_seconds.append(time.perf_counter() - start)
        epochs += 1
        if best is None or value > best:
            best, best_state, misses = value, copy.deepcopy(model.state_dict()), 0
        else:
            misses += 1
            if misses == 16:
                break
    model.load_state_dict(best_state)
    model.eval()

    def predict(frame):
        xn, xc = preprocessor.transform(frame)
        with torch.no_grad():
            out = model(
                torch.as_tensor(xn), None if xc is None else torch.as_tensor(xc)
            )
        if task == "regression":
            return (out.squeeze(-1) * std + mean).mean(1).numpy()
        return out.softmax(-1).mean(1).argmax(-1).numpy()

    return predict, epochs, float(np.median(epoch_seconds))


def baselines(task, X_train):
    categorical = detect_categorical(X_train, "auto")
    columns = np.asarray(X_train.columns)
    encode = ColumnTransformer(
        [
            ("num", StandardScaler(), list(columns[~categorical])),
            (
                "cat",
                OneHotEncoder(handle_unknown="ignore", sparse_output=False),
                list(columns[categorical]),
            ),
        ]
    )
    import xgboost

    if task == "regression":
        return {
            "XGBoost": make_pipeline(encode, xgboost.XGBRegressor()),
            "HistGB": make_pipeline(encode, HistGradientBoostingRegressor()),
            "MLP": make_pipeline(
                encode, MLPRegressor(early_stopping=True, max_iter=500)
            ),
        }
    return {
        "XGBoost": make_pipeline(encode, xgboost.XGBClassifier()),
        "HistGB": make_pipeline(encode, HistGradientBoostingClassifier()),
        "MLP": make_pipeline(encode, MLPClassifier(early_stopping=True, max_iter=500)),
    }


def run_one(name, seed, args, rows, rate):
    task, train, val, test = load(name, args.max_train, seed)
    n_classes = len(np.unique(train[1])) if task != "regression" else None
    config = {"k": args.k, "d_block": args.d_block, "max_epochs": args.max_epochs}
    Estimator = TabMRegressor if task == "regression" else TabMClassifier
    ours = {
        "TabM (ours)": Estimator(
            k=args.k, d_block=args.d_block, max_iter=args.max_epochs, random_state=seed
        ),
        "TabM-mini+PWL (ours)": Estimator(
            k=args.k,
            d_block=args.d_block,
            arch="tabm-mini",
            num_embeddings="piecewise",
            max_iter=args.max_epochs,
            random_state=seed,
        ),
    }
    label_codes = None
    if task != "regression":
        classes = np.unique(train[1])
        label_codes = {c: i for i, c in enumerate(classes)}

    def encode(y):
        return y if label_codes is None else np.array([label_codes[v] for v in y])

    def add(model, value, fit_s, epochs, epoch_s, n_predict, predict_s, flops):
        rows.append(
            dict(
                dataset=name,
                seed=seed,
                model=model,
                score=value,
                fit_s=fit_s,
                epochs=epochs,
                epoch_s=epoch_s,
                rows_per_s=n_predict / predict_s,
                flop_fraction=np.nan if flops is None else flops / epoch_s / rate,
            )
        )
        print(
            f"  {name} seed={seed} {model:<22} score={value:.4f} fit={fit_s:.1f}s "
            f"epochs={epochs} epoch={epoch_s:.2f}s",
            flush=True,
        )

    n_train, n_val = len(train[0]), len(val[0])
    for label, model in ours.items():
        start = time.perf_counter()
        model.fit(train[0], train[1], eval_set=val)
        fit_s = time.perf_counter() - start
        start = time.perf_counter()
        pred = model.predict(test[0])
        predict_s = time.perf_counter() - start
        epoch_s = float(np.median(model.net_.history[:, "dur"]))
        d_in = sum(
            p.shape[-1]
            for n, p in model.net_.module_.named_parameters()
            if n.endswith("blocks.0.0.weight")
        )
        flops = None
        if label == "TabM (ours)":
            forward = matmul_flops_per_object(
                d_in, model._d_out, k=args.k, n_blocks=3, d_block=args.d_block
            )
            flops = forward * (3 * n_train + n_val)
        add(
            label,
            score(task, test[1], pred),
            fit_s,
            model.n_iter_,
            epoch_s,
            len(test[0]),
            predict_s,
            flops,
        )
        if label == "TabM (ours)":
            ours_d_in = d_in

    # The official module gets exactly the features our preprocessing produced.
    wrapped = _SamePreprocessing(ours["TabM (ours)"])
    start = time.perf_counter()
    predict, epochs, epoch_s = fit_official(
        task,
        (train[0], encode(train[1])),
        (val[0], encode(val[1])),
        config,
        seed,
        wrapped,
        n_classes,
    )
    fit_s = time.perf_counter() - start
    start = time.perf_counter()
    pred = predict(test[0])
    predict_s = time.perf_counter() - start
    if task != "regression":
        pred = np.unique(train[1])[pred]
    d_out = 1 if task == "regression" else n_classes
    official_d_in = ours_d_in + len(wrapped.cardinalities_)
    flops = matmul_flops_per_object(
        official_d_in, d_out, k=args.k, n_blocks=3, d_block=args.d_block
    ) * (3 * n_train + n_val)
    add(
        "TabM (official)",
        score(task, test[1], pred),
        fit_s,
        epochs,
        epoch_s,
        len(test[0]),
        predict_s,
        flops,
    )

    for label, model in baselines(task, train[0]).items():
        y_fit = encode(train[1])
        start = time.perf_counter()
        model.fit(train[0], y_fit)
        fit_s = time.perf_counter() - start
        start = time.perf_counter()
        pred = model.predict(test[0])
        predict_s = time.perf_counter() - start
        if task != "regression":
            pred = np.unique(train[1])[np.asarray(pred, dtype=int)]
        add(
            label,
            score(task, test[1], pred),
            fit_s,
            0,
            fit_s,
            len(test[0]),
            predict_s,
            None,
        )


class _SamePreprocessing:
    """Our fitted estimator's preprocessing, for the official training loop."""

    def __init__(self, estimator):
        self.estimator = estimator
        self.cardinalities_ = estimator.preprocessor_.cardinalities_

    def transform(self, frame):
        X = self.estimator._validate_X(frame, reset=False)
        return self.estimator.preprocessor_.transform(X)


def summarise(rows, args, rate, elapsed, command):
    frame = pd.DataFrame(rows)
    official = frame[frame.model == "TabM (official)"].set_index(["dataset", "seed"])
    lines = []
    for (dataset, model), group in frame.groupby(["dataset", "model"], sort=False):
        ref = official.loc[[(dataset, s) for s in group.seed]]
        train_ratio = group.epoch_s.to_numpy() / ref.epoch_s.to_numpy()
        infer_ratio = group.rows_per_s.to_numpy() / ref.rows_per_s.to_numpy()
        is_torch = "TabM" in model
        lines.append(
            f"| {dataset} | {model} | {group.score.mean():.4f} "
            f"± {group.score.std(ddof=0):.4f} "
            f"| {group.fit_s.mean():.1f} | "
            + (
                f"{group.epochs.mean():.0f} | {group.epoch_s.mean():.2f} | "
                f"{train_ratio.mean():.2f} ± {train_ratio.std():.2f} | "
                if is_torch
                else "- | - | - | "
            )
            + f"{infer_ratio.mean():.2f} | "
            + (
                f"{group.flop_fraction.mean():.0%} |"
                if group.flop_fraction.notna().any()
                else "- |"
            )
        )
    header = (
        "| dataset | model | test score (mean ± std) | fit s | epochs | s/epoch "
        "| epoch time / official | inference rows/s / official | FLOP rate / matmul |\n"
        "|---|---|---|---|---|---|---|---|---|"
    )
    verdicts = verdict_lines(frame)
    text = f"""# TabM benchmark

Command: `{command}`

Run: {datetime.date.today()} on {platform.machine()} with {torch.get_num_threads()}
torch threads (2 CPU cores, no GPU), torch {torch.__version__};
{elapsed / 60:.0f} minutes.
Settings: training rows capped at {args.max_train}, seeds {list(range(args.seeds))},
k={args.k}, d_block={args.d_block}, at most {args.max_epochs} epochs, patience 16,
random 64/16/20 splits shared by every model. Score: RMSE (California, lower is better)
or accuracy (higher is better). Torch float32 matmul rate measured in this run:
{rate / 1e9:.0f} GFLOP/s. "FLOP rate / matmul" counts the matmul FLOPs of training
(3x forward) and validation per epoch against that rate.

{header}
{chr(10).join(lines)}

## Against the issue's targets

{chr(10).join(verdicts)}
"""
    return text


def verdict_lines(frame):
    out = []
    mean = frame.groupby(["dataset", "model"]).score.mean().unstack()
    std = frame.groupby(["dataset", "model"]).score.std(ddof=0).unstack().fillna(0)
    if "TabM (ours)" in mean and "TabM (official)" in mean:
        for dataset in mean.index:
            gap = (
                mean.loc[dataset, "TabM (ours)"] - mean.loc[dataset, "TabM (official)"]
            )
            noise = max(
                std.loc[dataset, "TabM (ours)"], std.loc[dataset, "TabM (official)"]
            )
            out.append(
                f"- {dataset}: ours - official = {gap:+.4f} (seed std {noise:.4f})"
            )
        ahead = 0
        for dataset in mean.index:
            lower = dataset == "california"
            ours = mean.loc[dataset, "TabM (ours)"]
            xgb = mean.loc[dataset, "XGBoost"]
            ahead += (ours < xgb) if lower else (ours > xgb)
        out.append(
            f"- TabM (ours) ahead of XGBoost defaults on {ahead} of {len(mean.index)}"
        )
    return out


def speed(args, command):
    """Training epoch time and FLOP rate of ours vs the official loop, same features.

    Fixed epochs without validation, default architecture, alternating the two
    implementations so both see the same machine state.
    """
    task, train, val, _ = load("california", args.max_train, 0)
    rate = matmul_rate()
    config = {"k": args.k, "d_block": args.d_block, "max_epochs": args.epochs}
    rows = []
    for repeat in range(args.repeats):
        ours = TabMRegressor(
            k=args.k,
            d_block=args.d_block,
            max_iter=args.epochs,
            early_stopping=False,
            random_state=repeat,
        ).fit(train[0], train[1])
        ours_epoch = float(np.median(ours.net_.history[:, "dur"]))
        d_in = ours.net_.module_.backbone.blocks[0][0].in_features
        flops = (
            3
            * len(train[0])
            * matmul_flops_per_object(
                d_in, 1, k=args.k, n_blocks=3, d_block=args.d_block
            )
        )
        _, _, official_epoch = fit_official(
            task, train, None, config, repeat, _SamePreprocessing(ours), None
        )
        rows.append((ours_epoch, official_epoch, flops))
        print(
            f"repeat {repeat}: ours {ours_epoch:.2f} s/epoch, "
            f"official {official_epoch:.2f} s/epoch",
            flush=True,
        )
    ours_s, official_s, flops = (np.array(c) for c in zip(*rows, strict=True))
    ratio = ours_s / official_s
    ours_rate, official_rate = (flops / ours_s).mean(), (flops / official_s).mean()
    table = "\n".join(
        [
            "| | ours | official |",
            "|---|---|---|",
            f"| seconds per training epoch (mean ± std) | {ours_s.mean():.2f} ± "
            f"{ours_s.std():.2f} | {official_s.mean():.2f} ± {official_s.std():.2f} |",
            f"| epoch time ours / official | {ratio.mean():.2f} ± {ratio.std():.2f} "
            "| 1.00 |",
            f"| training GFLOP/s (matmul FLOPs, 3x forward) | {ours_rate / 1e9:.1f} "
            f"| {official_rate / 1e9:.1f} |",
            f"| fraction of the matmul rate | {ours_rate / rate:.0%} "
            f"| {official_rate / rate:.0%} |",
        ]
    )
    return f"""# TabM training speed

Command: `{command}`

Run: {datetime.date.today()} on {platform.machine()}, {torch.get_num_threads()} torch
threads (2 CPU cores, no GPU), torch {torch.__version__}. California housing,
{len(train[0])} training rows, k={args.k}, {3} x {args.d_block} (defaults), batch
{auto_batch_size(len(train[0]))} (auto rule), each member its own batch order,
{args.epochs} training epochs per fit without validation, {args.repeats} repeats
alternating ours and the official module's documented loop on identical features.
Torch float32 matmul rate in this run: {rate / 1e9:.1f} GFLOP/s.

{table}
"""


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS))
    parser.add_argument("--max-train", type=int, default=10_000)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--k", type=int, default=32)
    parser.add_argument("--d-block", type=int, default=512)
    parser.add_argument("--max-epochs", type=int, default=1000)
    parser.add_argument("--output", default=None)
    parser.add_argument(
        "--speed", action="store_true", help="epoch time and FLOP rate only"
    )
    parser.add_argument("--epochs", type=int, default=3, help="with --speed")
    parser.add_argument("--repeats", type=int, default=3, help="with --speed")
    args = parser.parse_args(argv)
    command = "python benchmarks/tabm.py " + " ".join(
        argv if argv is not None else sys.argv[1:]
    )
    if os.environ.get("OMP_NUM_THREADS"):
        command = f"OMP_NUM_THREADS={os.environ['OMP_NUM_THREADS']} {command}"
    if args.quick:
        args.datasets, args.max_train, args.seeds = ["california", "churn"], 600, 1
        args.k, args.d_block, args.max_epochs = 8, 64, 6
    if not DATA.exists():
        sys.exit(f"{DATA} is absent: the benchmark reads ../shared/data")
    if args.speed:
        if args.quick:
            args.max_train, args.k, args.d_block, args.epochs = 600, 8, 64, 2
            args.repeats = 1
        text = speed(args, command)
        print(text)
        if not args.quick:
            output = Path(args.output or OUT / "tabm_speed.md")
            output.parent.mkdir(parents=True, exist_ok=True)
            output.write_text(text)
        return
    start = time.perf_counter()
    warm_up()
    rate = matmul_rate()
    print(f"torch float32 matmul rate: {rate / 1e9:.1f} GFLOP/s", flush=True)
    rows = []
    for name in args.datasets:
        for seed in range(args.seeds):
            run_one(name, seed, args, rows, rate)
    text = summarise(rows, args, rate, time.perf_counter() - start, command)
    print(text)
    if not args.quick:
        output = Path(args.output or OUT / "tabm.md")
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text)
        pd.DataFrame(rows).to_csv(output.with_suffix(".csv"), index=False)


if __name__ == "__main__":
    main()
