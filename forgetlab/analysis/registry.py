"""The analysis registry: an analysis is one module (its option class, ``run``, ``draw``; see
:mod:`forgetlab.analysis.base`) and one line here. From it come the config sections ``analysis.<name>``, the
workflow's analysis targets and figures, and ``forgetlab analyse``'s choices and flags."""

from __future__ import annotations

from . import attention, concepts, drift, flips, probe, svd, token_shift, update
from .base import Analysis

__all__ = ["ANALYSES", "analysis_named"]

ANALYSES: dict[str, Analysis] = {
    module.ANALYSIS.name: module.ANALYSIS
    for module in (svd, update, attention, concepts, probe, drift, flips, token_shift)
}


def analysis_named(name: str) -> Analysis:
    if name not in ANALYSES:
        raise ValueError(f"unknown analysis {name!r}; known: {sorted(ANALYSES)}")
    return ANALYSES[name]
