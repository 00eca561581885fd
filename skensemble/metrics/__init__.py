"""Evaluation metrics for skensemble's estimators."""

from ._stream import kappa_m_score, kappa_t_score

__all__ = ["kappa_m_score", "kappa_t_score"]
