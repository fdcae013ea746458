"""Training stages on TRL's trainers: the stage config (config.py), one module per method, the dispatch
(stage.py) and the launcher (launch.py). The names below load on first use: reading a stage config imports no
trainer."""

from ..lazy import lazy_exports

_EXPORTS = {
    "GRPOStageConfig": "config", "METHODS": "config", "SFTStageConfig": "config", "StageConfig": "config",
    "run_stage": "launch", "train_stage": "stage",
}  # fmt: skip
__all__ = sorted(_EXPORTS)

__getattr__ = lazy_exports(__name__, _EXPORTS)
