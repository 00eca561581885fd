"""Online learning on drifting streams: DriftMoE and prequential evaluation."""

from ._display import PrequentialDisplay
from ._driftmoe import DriftMoEClassifier
from ._prequential import prequential_score

__all__ = ["DriftMoEClassifier", "PrequentialDisplay", "prequential_score"]
