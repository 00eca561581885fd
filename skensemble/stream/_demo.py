"""The stream section of ``skensemble demo``: DriftMoE on a drifting SEA stream."""

from pathlib import Path

import numpy as np

from .._demo import DemoRow, DemoSection
from ._display import PrequentialDisplay
from ._driftmoe import DriftMoEClassifier
from ._prequential import prequential_score


def sea_stream(n_instances, seed=0):
    """river's SEA generator with an abrupt concept change half-way (10 % noise)."""
    from river.datasets import synth

    stream = synth.ConceptDriftStream(
        synth.SEA(variant=0, noise=0.1, seed=seed),
        synth.SEA(variant=3, noise=0.1, seed=seed),
        position=n_instances // 2,
        width=50,
        seed=seed,
    )
    rows, labels = [], []
    for x, y in stream.take(n_instances):
        rows.append([x[0], x[1], x[2]])
        labels.append(int(y))
    return np.asarray(rows), np.asarray(labels)


def run(output_dir, quick=False):
    """Prequential accuracy of DriftMoE (paper and tuned) and a Hoeffding tree."""
    from river import drift, tree

    n_instances = 3000 if quick else 12000
    X, y = sea_stream(n_instances)
    models = {
        "DriftMoE-Data (paper)": DriftMoEClassifier(router_dropout=0.0, random_state=0),
        "DriftMoE-Data (standardised, soft, ADWIN resets)": DriftMoEClassifier(
            router_dropout=0.0,
            standardize=True,
            mixing="soft",
            drift_detector=drift.ADWIN(),
            random_state=0,
        ),
        "river Hoeffding tree": tree.HoeffdingTreeClassifier(grace_period=50),
    }
    section = DemoSection(
        title=f"Streaming mixture of experts (SEA, {n_instances:,} instances)"
    )
    results = {}
    for name, model in models.items():
        result = prequential_score(model, X, y, window=n_instances // 30)
        results[name] = result
        section.rows.append(
            DemoRow(
                model=name,
                metric="prequential accuracy",
                score=result.accuracy,
                fit_seconds=result.seconds,
                note=f"{result.instances_per_second:,.0f} instances/s",
            )
        )
    try:
        from matplotlib.figure import Figure
    except ImportError:
        return section
    ax = Figure(figsize=(8, 4)).subplots()
    display = PrequentialDisplay.from_results(
        results, drift_positions=[n_instances // 2], ax=ax
    )
    path = Path(output_dir) / "stream_prequential.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    display.figure_.savefig(path, dpi=90)
    section.plots.append(str(path))
    return section
