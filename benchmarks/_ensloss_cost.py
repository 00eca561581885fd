"""Measured cost of the EnsLoss benchmark's full protocol on this machine.

Times two epochs of every (data set, depth) at the requested width on the
full 70 % training part, then projects the cost of the whole protocol
(epochs x losses x seeds). Used by ``python -m benchmarks.ensloss
--estimate-cost``; writes ``docs/benchmarks/ensloss_cost.md``.
"""

import os
import platform
import time
from datetime import datetime, timezone

import torch

TIMED_EPOCHS = 2


def seconds_per_epoch(model, X, y):
    """Wall seconds per epoch, after one untimed warm-up epoch."""
    model.set_params(max_iter=1).fit(X[:512], y[:512])
    start = time.perf_counter()
    model.set_params(max_iter=TIMED_EPOCHS).fit(X, y)
    return (time.perf_counter() - start) / TIMED_EPOCHS


def estimate(args, datasets, depths, load, split, make_model, losses, out, command):
    """Time every (data set, depth) and write the projected protocol cost."""
    rows, total = [], 0.0
    for name in datasets:
        frame, y = load(name)
        X_train, y_train, _, _ = split(frame, y, 0, args.max_rows)
        for depth in depths:
            model = make_model("ensloss", depth, 0, args)
            per_epoch = seconds_per_epoch(model, X_train, y_train)
            protocol = per_epoch * args.epochs * len(losses) * args.seeds
            total += protocol
            rows.append((name, X_train.shape, depth, per_epoch, protocol))
            print(f"{name} depth {depth}: {per_epoch:.2f} s/epoch", flush=True)
    lines = [
        "# EnsLoss benchmark: measured cost of the full protocol",
        "",
        f"Command: `{command}`  ",
        f"Date: {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC  ",
        f"Machine: {platform.machine()}, torch {torch.__version__}, CPU, "
        f"{torch.get_num_threads()} thread(s), no GPU; load average at the end "
        f"{os.getloadavg()[0]:.1f} (other jobs slow the timings, never speed them up).",
        "",
        f"Width {args.width}, batch 128, {args.epochs} epochs, {len(losses)} losses, "
        f"{args.seeds} seeds; seconds per epoch measured over {TIMED_EPOCHS} "
        "epochs on the full 70 % training part of seed 0 (after a warm-up).",
        "",
        "| dataset | train rows x features | depth | s / epoch | protocol core-hours |",
        "|---|---|---|---|---|",
    ]
    for name, shape, depth, per_epoch, protocol in rows:
        lines.append(
            f"| {name} | {shape[0]} x {shape[1]} | {depth} | {per_epoch:.2f} | "
            f"{protocol / 3600:.1f} |"
        )
    lines += [
        "",
        f"**Total: {total / 3600:.0f} core-hours** of fitting for the full protocol "
        f"on one CPU thread, i.e. about {total / 3600 / 2:.0f} hours on both cores of "
        "this machine if nothing else ran.",
    ]
    text = "\n".join(lines) + "\n"
    (out / "ensloss_cost.md").write_text(text)
    print(text)
