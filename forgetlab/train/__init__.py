"""Training stages on TRL's trainers: the stage config (config.py), one module per method, the dispatch
(stage.py) and the launcher (launch.py). The names below load on first use: reading a stage config imports no
trainer."""

import importlib

_EXPORTS = {
    "GRPOStageConfig": "config", "METHODS": "config", "SFTStageConfig": "config", "StageConfig": "config",
    "run_stage": "launch", "train_stage": "stage",
}  # fmt: skip
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
