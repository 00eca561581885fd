"""Demo section: how much a forest smooths on training versus new inputs."""

from pathlib import Path

from sklearn.ensemble import GradientBoostingRegressor, RandomForestRegressor
from sklearn.metrics import r2_score

from skensemble._demo import DemoRow, DemoSection, offscreen_pyplot, timed_fit

from ._display import SmootherDisplay
from ._effective import effective_parameters
from ._simulation import make_mars_additive


def run(output_dir, quick=False):
    """Fit one tree, a randomised forest and boosting on the papers' MARS data.

    Each row reports ``p_test``, the effective number of parameters on held-out
    inputs, with ``p_train`` and the test R^2 in the note. A single fully grown
    tree is the familiar baseline: it uses n parameters everywhere, while the
    forest, equally interpolating on its training rows, smooths far more at new
    inputs.
    """
    n_samples = 200 if quick else 500
    X_train, y_train = make_mars_additive(n_samples, random_state=0)
    X_test, y_test = make_mars_additive(n_samples, random_state=1)
    n_trees = 20 if quick else 50
    models = {
        "single tree": RandomForestRegressor(
            n_estimators=1, bootstrap=False, random_state=0
        ),
        f"random forest ({n_trees} trees, max_features=0.4)": RandomForestRegressor(
            n_estimators=n_trees, bootstrap=False, max_features=0.4, random_state=0
        ),
        "gradient boosting (100 rounds)": GradientBoostingRegressor(random_state=0),
    }
    section = DemoSection(title="Tree ensembles as smoothers (skensemble.inspection)")
    for name, model in models.items():
        model, seconds = timed_fit(model, X_train, y_train)
        p_train = effective_parameters(model, X_train)
        p_test = effective_parameters(model, X_train, X_test)
        r2 = r2_score(y_test, model.predict(X_test))
        section.rows.append(
            DemoRow(
                model=name,
                metric="effective parameters on test inputs",
                score=p_test,
                fit_seconds=seconds,
                note=f"p_train={p_train:.0f} of n={n_samples}, test R2={r2:.3f}",
            )
        )
    plt = offscreen_pyplot()
    if plt is not None:
        forest = models[f"random forest ({n_trees} trees, max_features=0.4)"]
        display = SmootherDisplay.from_estimator(
            forest, X_train, X_test, n_points=6 if quick else 10
        )
        path = Path(output_dir) / "inspection_effective_parameters.png"
        display.figure_.savefig(path, dpi=100)
        plt.close(display.figure_)
        section.plots.append(str(path))
    return section
