"""The contract between ``skensemble demo`` and each pillar's demo section.

Each pillar has a ``_demo.py`` module with a ``run(output_dir, quick)`` function
that returns a :class:`DemoSection`; ``skensemble.cli`` lists those modules in
``DEMO_SECTIONS`` and prints every section as a table.
"""

import time
from dataclasses import dataclass, field


@dataclass
class DemoRow:
    """One fitted model in a demo section."""

    model: str
    metric: str
    score: float
    fit_seconds: float
    note: str = ""


@dataclass
class DemoSection:
    """A titled group of results and the plot files it wrote."""

    title: str
    rows: list = field(default_factory=list)
    plots: list = field(default_factory=list)


def timed_fit(estimator, X, y, **fit_params):
    """Fit ``estimator`` and return it with the wall time in seconds."""
    start = time.perf_counter()
    estimator.fit(X, y, **fit_params)
    return estimator, time.perf_counter() - start


def offscreen_pyplot():
    """``matplotlib.pyplot`` on the file-only Agg backend; None without matplotlib."""
    try:
        import matplotlib
    except ImportError:
        return None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt
