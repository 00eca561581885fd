"""The quantile benchmark's report: relative WIS, the markdown page, the plot.

Split from ``benchmarks/quantile.py`` (which runs the models) so the page can
be rebuilt from per-split CSVs without reading the run code.
"""

import datetime
import platform

import numpy as np
import pandas as pd


def relative_wis(results):
    """WIS of each method divided by the best base model's WIS on the same split."""
    base = results[results.kind == "base"]
    best = base.groupby(["dataset", "split"]).wis.min().rename("best_base_wis")
    results = results.join(best, on=["dataset", "split"])
    results["relative_wis"] = results.wis / results.best_base_wis
    return results


def summarise(results):
    results = relative_wis(results)
    grouped = results.groupby(["dataset", "method"], sort=False)
    table = grouped.agg(
        relative_wis=("relative_wis", "mean"),
        relative_wis_std=("relative_wis", "std"),
        coverage80=("coverage80", "mean"),
        width80=("width80", "mean"),
        coverage90=("coverage90", "mean"),
        width90=("width90", "mean"),
        crossing_rows=("crossing_rows", "sum"),
        fit_seconds=("fit_seconds", "mean"),
        splits=("split", "nunique"),
    )
    return results, table.reset_index()


def n_levels(results):
    """The level count of the runs (CSVs written before ``n_levels`` held 19)."""
    if "n_levels" not in results:
        return 19
    counts = results.n_levels.fillna(19).astype(int).unique()
    if counts.size != 1:
        raise ValueError(f"The runs mix level grids: {sorted(counts)} levels.")
    return int(counts[0])


def run_cpus(results):
    """The CPU of each run, by dataset (CSVs written before ``cpu`` lack it)."""
    cpus = results.get("cpu", pd.Series(index=results.index, dtype=object))
    cpus = cpus.fillna("not recorded")
    by_cpu = {}
    for dataset, cpu in zip(results.dataset, cpus):
        by_cpu.setdefault(cpu, []).append(dataset)
    return "; ".join(
        f"{cpu} ({', '.join(dict.fromkeys(names))})" for cpu, names in by_cpu.items()
    )


def _levels_text(count):
    """The page's two lines on the level grid k / (count + 1), k = 1 .. count."""
    step = 1 / (count + 1)
    digits = next((d for d in range(2, 5) if abs(round(step, d) - step) < 1e-12), 4)
    grid = ", ".join(f"{k * step:.{digits}f}" for k in (1, 2))
    return (
        f"Levels: {grid}, ..., {count * step:.{digits}f} ({count} levels, "
        "symmetric; WIS = Bracher et",
        f"al.'s WIS with K = {count // 2} intervals and the median). "
        "WIS is divided by the",
    )


def _format(value, digits=3):
    if isinstance(value, float) and np.isnan(value):
        return "-"
    if isinstance(value, (int, np.integer)):
        return str(value)
    return f"{value:.{digits}f}"


def markdown(
    results,
    table,
    command,
    seconds,
    not_run,
    *,
    base_names,
    aggregator_names,
    report_only=False,
    image="quantile.png",
):
    lines = [
        "# Quantile aggregation benchmark",
        "",
        f"Command: `{command}`  ",
        f"Date: {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC  ",
        f"Machine: {platform.machine()}, 2 CPU cores shared with other jobs, "
        f"no GPU, Python {platform.python_version()}, OMP_NUM_THREADS=1  ",
        f"Wall time: {seconds / 60:.1f} min  ",
        f"CPU of the runs: {run_cpus(results)}",
        "",
        f"![relative WIS per dataset]({image})",
        "",
        *_levels_text(n_levels(results)),
        "standard deviation of the training target and then by the best base model's",
        "WIS on the same split (relative WIS < 1: better than every single model).",
        "Base-model quantiles are sorted before scoring (which only helps them);",
        "`crossing rows` counts test rows whose raw predictions cross, summed over",
        "splits. Coverage/width are of the 80% and 90% central intervals; width is",
        "in target units. Fit time in seconds per split (aggregators include the",
        "cross-fitting of all base models: cv=5, i.e. 6 fits per base model).",
        "Intervals of `local-fine+CQR` are split-conformal (20% calibration rows).",
        "Training rows per split (after any cap) and full test parts: "
        + ", ".join(
            f"{name} {int(part.n_train.mean())}/{int(part.n_test.mean())}"
            for name, part in results.groupby("dataset", sort=False)
        )
        + ".",
        "",
    ]
    if not_run:
        lines += ["**Splits not run**: " + not_run, ""]
    if report_only:
        lines += [
            "This page was rebuilt with `--report-only` from the per-split CSV(s)",
            "of the runs listed below; the wall time above is the rebuild's.",
            "",
        ]
    header = (
        "| dataset | method | rel. WIS (mean ± sd) | cov80 | width80 | cov90 | "
        "width90 | crossing rows | fit s | splits |"
    )
    lines += [header, "|" + "---|" * 10]
    for row in table.itertuples():
        wis = (
            "-"
            if np.isnan(row.relative_wis)
            else f"{row.relative_wis:.3f} ± {np.nan_to_num(row.relative_wis_std):.3f}"
        )
        lines.append(
            f"| {row.dataset} | {row.method} | {wis} | {_format(row.coverage80)} | "
            f"{_format(row.width80)} | {_format(row.coverage90)} | "
            f"{_format(row.width90)} | {row.crossing_rows} | "
            f"{_format(row.fit_seconds, 1)} | {row.splits} |"
        )
    lines += ["", "## Targets", ""] + targets(table, base_names, aggregator_names)
    return "\n".join(lines) + "\n"


def targets(table, base_names, aggregator_names):
    lines = []
    dqa = table[table.method == "local-fine"].set_index("dataset")
    wins = int((dqa.relative_wis <= 0.95).sum())
    lines.append(
        f"- local-fine relative WIS <= 0.95 on {wins} of {len(dqa)} datasets "
        "(target: at least 6 of 8). Per dataset: "
        + ", ".join(f"{d} {v:.3f}" for d, v in dqa.relative_wis.items())
        + "."
    )
    beats = int((dqa.relative_wis < 1.0).sum())
    lines.append(f"- local-fine better than the best single base model on {beats}.")
    cqr = table[table.method == "local-fine+CQR"]
    if cqr.empty:
        lines.append(
            "- local-fine+CQR was not run (--aggregators): no conformal coverage "
            "or width ratio on this page."
        )
    else:
        lines.append(
            f"- local-fine+CQR mean coverage: 80% -> {cqr.coverage80.mean():.3f}, "
            f"90% -> {cqr.coverage90.mean():.3f} (target within [1 - alpha, "
            "1 - alpha + 0.03] on average). Lowest per-dataset mean coverage: "
            f"{cqr.coverage80.min():.3f} / {cqr.coverage90.min():.3f}."
        )
    aggregates = table[table.method.isin(list(aggregator_names))]
    lines.append(
        f"- crossing rows over all aggregator predictions: "
        f"{int(aggregates.crossing_rows.sum())} (target 0); over raw base models: "
        f"{int(table[table.method.isin(base_names)].crossing_rows.sum())}."
    )
    if cqr.empty:
        return lines
    mapie = table[table.method == "MAPIE CQR (hgb)"].set_index("dataset")
    ours = cqr.set_index("dataset")
    ratio80 = ours.width80 / mapie.width80
    ratio90 = ours.width90 / mapie.width90
    lines.append(
        "- width ratio local-fine+CQR / MAPIE CQR (80%): "
        + ", ".join(f"{d} {v:.2f}" for d, v in ratio80.items())
        + f"; geometric mean {np.exp(np.log(ratio80).mean()):.3f}."
    )
    lines.append(
        "- width ratio (90%): "
        + ", ".join(f"{d} {v:.2f}" for d, v in ratio90.items())
        + f"; geometric mean {np.exp(np.log(ratio90).mean()):.3f}. MAPIE's mean "
        f"coverage: {mapie.coverage80.mean():.3f} (80%), "
        f"{mapie.coverage90.mean():.3f} (90%)."
    )
    return lines


def plot(table, path, method_order):
    """Bar chart of relative WIS per dataset and method (skipped without mpl)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    methods = [m for m in method_order if m in set(table.method)]
    wide = table.pivot(index="dataset", columns="method", values="relative_wis")
    wide = wide.reindex(columns=methods)
    axis = wide.plot.bar(figsize=(12, 4.5), width=0.85, logy=True)
    axis.axhline(1.0, color="black", linewidth=0.8)
    axis.axhline(0.95, color="black", linewidth=0.8, linestyle="--")
    axis.set_ylabel("WIS / best base model's WIS (log scale)")
    axis.legend(ncol=5, fontsize=8)
    axis.figure.tight_layout()
    axis.figure.savefig(path, dpi=100)
    plt.close(axis.figure)


def combine_runs(paths):
    """The per-split rows of several CSVs; a later CSV replaces a dataset-split.

    A rerun of some dataset-splits (e.g. with another row cap) is listed after
    the CSV it supersedes: every row of those dataset-splits comes from it.
    """
    results = pd.DataFrame()
    for path in paths:
        rows = pd.read_csv(path)
        if not results.empty:
            keys = pd.MultiIndex.from_frame(results[["dataset", "split"]])
            replaced = keys.isin(pd.MultiIndex.from_frame(rows[["dataset", "split"]]))
            results = results[~replaced]
        results = pd.concat([results, rows], ignore_index=True)
    n_levels(results)  # raises if the runs mix level grids
    return results
