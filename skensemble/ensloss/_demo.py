"""``skensemble demo`` section: EnsLoss vs the logistic loss on the same deep MLP."""

from pathlib import Path

import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from .._demo import DemoRow, DemoSection, offscreen_pyplot, timed_fit
from ._estimator import EnsLossClassifier


def run(output_dir, quick=False):
    """Fit EnsLoss and the fixed logistic/hinge losses on breast cancer; plot margins.

    Parameters
    ----------
    output_dir : path-like
        Folder the plot is written to (only if matplotlib is importable).
    quick : bool, default=False
        Fewer epochs and a narrower network.

    Returns
    -------
    section : DemoSection
        One row per loss: test accuracy and fit time.
    """
    X, y = load_breast_cancer(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, random_state=0, stratify=y
    )
    scaler = StandardScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    width, epochs = (64, 15) if quick else (256, 40)
    section = DemoSection(title="EnsLoss: random calibrated losses (breast cancer)")
    models = {}
    for loss in ("ensloss", "logistic", "hinge"):
        model = EnsLossClassifier(
            loss=loss,
            hidden_layer_sizes=(width,) * 3,
            learning_rate=1e-2,
            max_iter=epochs,
            random_state=0,
        )
        model, seconds = timed_fit(model, X_train, y_train)
        models[loss] = model
        section.rows.append(
            DemoRow(
                model=f"MLP(3), loss={loss}",
                metric="test accuracy",
                score=float(model.score(X_test, y_test)),
                fit_seconds=seconds,
                note=f"train accuracy {model.score(X_train, y_train):.3f}",
            )
        )
    plot = _plot_margins(models, X_test, y_test, output_dir)
    if plot is not None:
        section.plots.append(plot)
    return section


def _plot_margins(models, X, y, output_dir):
    plt = offscreen_pyplot()
    if plt is None:
        return None
    fig, ax = plt.subplots(figsize=(6, 3.5))
    signs = np.where(y == 1, 1.0, -1.0)
    for loss, model in models.items():
        margins = signs * model.decision_function(X)
        ax.hist(np.clip(margins, -10, 10), bins=40, histtype="step", label=loss)
    ax.axvline(0.0, color="k", lw=0.8)
    ax.set_xlabel("test margin y f(x) (clipped to [-10, 10])")
    ax.set_ylabel("rows")
    ax.legend()
    fig.tight_layout()
    path = Path(output_dir) / "ensloss_margins.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return str(path)
