"""Why a checkpoint forgot: how its weights (svd), attention, concept neurons, probe readouts and outputs (drift)
moved from a reference, and restore experiments that put part of the reference back.

The names below load on first use: reading the analysis config imports no torch.
"""

import importlib

_EXPORTS = {
    "ANALYSES": "config", "AnalysisConfig": "config", "RESTORE_MODES": "config", "restore_model": "restore",
    "run_analysis": "run", "analysis_rows": "run", "svd_analysis": "svd",
}  # fmt: skip
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
