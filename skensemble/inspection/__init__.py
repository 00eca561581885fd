"""Tree ensembles seen as weights on their training rows (smoother analysis).

Forests and squared-error boosted models predict a weighted sum of the training
targets. :func:`smoother_weights` reads those weights exactly out of a fitted
model; :func:`effective_parameters`, :func:`effective_sample_size`,
:func:`similar_training_examples` and :class:`SmootherDisplay` build on them.
"""

from ._display import SmootherDisplay
from ._effective import (
    effective_parameters,
    effective_sample_size,
    similar_training_examples,
)
from ._simulation import make_mars_additive
from ._smoother import smoother_weights

__all__ = [
    "SmootherDisplay",
    "effective_parameters",
    "effective_sample_size",
    "make_mars_additive",
    "similar_training_examples",
    "smoother_weights",
]
