"""Input checks shared by the estimators: one place for the NaN/inf/label rules."""

import numpy as np


def reject_infinity(values, name="X", *, why=""):
    """Raise a ``ValueError`` if the float array ``values`` holds +/-inf."""
    if np.isinf(values).any():
        raise ValueError(f"Input {name} contains infinity.{' ' + why if why else ''}")


def check_single_class(classes):
    """Raise the error scikit-learn expects when ``y`` has only one class."""
    if len(classes) < 2:
        raise ValueError(
            "Classifier can't train when only one class is present: "
            f"y contains only {classes[0]!r}."
        )
