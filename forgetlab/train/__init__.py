"""Thin builders around TRL's trainers. ``train_stage`` dispatches on the stage's ``method``."""

from __future__ import annotations

from .common import StageConfig, train_stage

__all__ = ["StageConfig", "train_stage"]
