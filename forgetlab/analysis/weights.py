"""The linear weights of a checkpoint folder, read one matrix at a time from its safetensors files."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..options import Options, option

# The linear maps of a decoder layer, by their short names: attention q, k, v, o and the MLP's gate, up, down.
MATRICES = ("q", "k", "v", "o", "gate", "up", "down")

__all__ = ["MATRICES", "WeightReader", "WeightsConfig", "linear_weights"]


@dataclass(kw_only=True)
class WeightsConfig(Options):
    """The options every weight analysis shares (one schema, so `forgetlab analyse` has one --fraction flag)."""

    fraction: float = option(0.25, "k as a share of min(rows, cols) (at most 1/2)", exclusiveMinimum=0, maximum=0.5)
    matrices: list[str] = option(
        help="which linear maps of each layer",
        factory=lambda: list(MATRICES),
        items={"enum": list(MATRICES)},
        minItems=1,
    )


_LINEAR = re.compile(r"(?:^|\.)layers\.(\d+)\..*?\b(q|k|v|o|gate|up|down)_proj\.weight$")


class WeightReader:
    """Tensors of an HF folder by name, loaded on demand as float32 numpy arrays (single or sharded files)."""

    def __init__(self, folder: str | os.PathLike):
        folder = Path(folder)
        index = folder / "model.safetensors.index.json"
        if index.exists():
            files = json.loads(index.read_text())["weight_map"]
            self.files = {name: folder / file for name, file in files.items()}
        else:
            from safetensors import safe_open

            path = folder / "model.safetensors"
            if not path.exists():
                raise FileNotFoundError(f"{folder}: no model.safetensors (analyses read safetensors checkpoints)")
            with safe_open(str(path), "np") as handle:
                self.files = {name: path for name in handle.keys()}  # noqa: SIM118 (safe_open has no __iter__)

    def names(self) -> list[str]:
        return list(self.files)

    def load(self, name: str) -> np.ndarray:
        from safetensors import safe_open

        with safe_open(str(self.files[name]), "pt") as handle:
            return handle.get_tensor(name).float().numpy()


def linear_weights(reader: WeightReader, matrices=MATRICES) -> Iterator[tuple[int, str, str]]:
    """(layer, matrix, tensor name) of every linear weight of the decoder layers, in layer order."""
    found = []
    for name in reader.names():
        match = _LINEAR.search(name)
        if match and match.group(2) in matrices:
            found.append((int(match.group(1)), match.group(2), name))
    order = {matrix: i for i, matrix in enumerate(MATRICES)}
    return iter(sorted(found, key=lambda item: (item[0], order[item[1]])))
