"""Why a checkpoint forgot: how its weights (svd), attention, concept neurons, probe readouts and outputs (drift,
token_shift) moved from a reference, and restore experiments that put part of the reference back.

The names below load on first use: reading the analysis config imports no torch.
"""

from ..lazy import lazy_exports

_EXPORTS = {
    "ANALYSES": "config", "AnalysisConfig": "config", "RESTORE_MODES": "config", "restore_model": "restore",
    "run_analysis": "run", "analysis_rows": "run", "svd_analysis": "svd", "analysis_named": "registry",
}  # fmt: skip
__all__ = sorted(_EXPORTS)

__getattr__ = lazy_exports(__name__, _EXPORTS)
