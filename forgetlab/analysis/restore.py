"""Restore experiments: a checkpoint with part of a reference's weights put back, written as a new model folder.

Modes, per linear weight W = U S Vᵀ of the decoder layers (singular components ranked by singular value):
  directions  the reference's singular vectors (U, V) of the chosen components, the checkpoint's values
  components  the reference's whole triples (U, S, V) of the chosen components (top share, and a bottom ``tail``)
  values      the checkpoint's singular vectors with the reference's singular values
  layers      every tensor of a range of decoder layers reset to the reference
A random control picks the same number of components (or layers) at random instead of the top ones, so a
restored share can be told from restoring any share of that size.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil

import numpy as np

from ..io import atomic_dir
from ..models import model_files
from ..options import raise_errors, validate_value
from .config import RESTORE_MODES, RestoreConfig
from .plan import restore_label
from .spectrum import Spectrum, SpectrumStore
from .weights import MATRICES, WeightReader, linear_weights

__all__ = [
    "RESTORE_MODES", "check_shares", "choose_components", "choose_layers", "restore_label", "restore_model",
    "restore_weight", "restore_weights",
]  # fmt: skip
_LAYER = re.compile(r"(?:^|\.)layers\.(\d+)\.")


def check_shares(fraction: float | None, tail: float) -> None:
    """ConfigError unless ``fraction`` (None: a layer range instead) and ``tail`` lie within the bounds of the restore
    config's ``fractions`` and ``tail``."""
    properties = RestoreConfig.json_schema()["properties"]
    messages = [] if fraction is None else validate_value(fraction, properties["fractions"]["items"], "fraction")[1]
    raise_errors(messages + validate_value(tail, properties["tail"], "tail")[1])


def choose_components(
    rank: int, fraction: float, tail: float = 0.0, control: bool = False, seed: int = 0
) -> np.ndarray:
    """Indices (by singular value, largest first) of the components to restore: the top ``fraction`` and the
    bottom ``tail`` of ``rank``; a control draws as many at random."""
    top, bottom = round(fraction * rank), round(tail * rank)
    count = min(top + bottom, rank)
    if control:
        return np.sort(np.random.default_rng(seed).choice(rank, count, replace=False))
    return np.unique(np.concatenate([np.arange(min(top, rank)), np.arange(rank - min(bottom, rank), rank)])).astype(int)


def choose_layers(layers: int, span: tuple[int, int], control: bool = False, seed: int = 0) -> list[int]:
    """The decoder layers ``span`` (first, last; inclusive) names, or as many at random for a control."""
    first, last = span
    if not 0 <= first <= last < layers:
        raise ValueError(f"layer range {first}-{last} is outside the model's {layers} layers (0-{layers - 1})")
    if control:
        return sorted(np.random.default_rng(seed).choice(layers, last - first + 1, replace=False).tolist())
    return list(range(first, last + 1))


def restore_weight(reference: np.ndarray, checkpoint: np.ndarray, mode: str, indices: np.ndarray) -> np.ndarray:
    """The checkpoint's weight with the components ``indices`` taken from the reference as ``mode`` says."""
    return restore_weights(reference, checkpoint, mode, [indices])[0]


def restore_weights(
    reference: np.ndarray, checkpoint: np.ndarray, mode: str, selections: list[np.ndarray], spectra: tuple | None = None
) -> list:
    """One restored weight per selection of component indices. ``spectra``: the two matrices' :class:`Spectrum`
    (else computed here). Only the chosen components change: W_t - Σ_I s_i u_i v_iᵀ + the restored Σ_I."""
    if mode not in RESTORE_MODES[:3]:
        raise ValueError(f"mode must be one of {list(RESTORE_MODES[:3])} for a weight, not {mode!r}")
    old, new = spectra or (Spectrum.compute(reference), Spectrum.compute(checkpoint))
    restored = []
    for indices in selections:
        u_new, v_new = new.pair(indices)
        s_new, s_ref = new.values[indices], old.values[indices]
        if mode == "values":  # the checkpoint's vectors with the reference's values
            put_back = [(u_new, s_ref - s_new, v_new)]
        else:  # the reference's vectors, with the checkpoint's values (directions) or the reference's (components)
            u_ref, v_ref = old.pair(indices)
            put_back = [(u_new, -s_new, v_new), (u_ref, s_new if mode == "directions" else s_ref, v_ref)]
        weight = checkpoint.copy()
        for u, values, v in put_back:
            weight += (u.astype(weight.dtype) * values.astype(weight.dtype)) @ v.T.astype(weight.dtype)
        restored.append(weight)
    return restored


def restore_model(
    reference_dir: str | os.PathLike,
    model_dir: str | os.PathLike,
    out_dir: str | os.PathLike,
    mode: str,
    fraction: float | None = None,
    span: tuple[int, int] | None = None,
    tail: float = 0.0,
    control: bool = False,
    seed: int = 0,
    matrices=MATRICES,
    control_dir: str | os.PathLike | None = None,
    spectra: tuple = (None, None),
) -> dict:
    """Write the checkpoint in ``model_dir`` with part of ``reference_dir`` restored into ``out_dir`` (an HF
    folder: the checkpoint's config and tokenizer, its safetensors files rewritten). ``fraction`` is the share of
    singular components (or, in layers mode without ``span``, of the first layers); ``control`` chooses them at
    random. With ``control_dir`` the random control is written there too, from the same spectra (``spectra``: the
    two models' stored spectra folders; None: computed). Returns what was restored."""
    import torch
    from safetensors.torch import load_file, save_file

    if mode not in RESTORE_MODES:
        raise ValueError(f"restore mode must be one of {list(RESTORE_MODES)}, not {mode!r}")
    check_shares(fraction, tail)
    reference, checkpoint = WeightReader(reference_dir), WeightReader(model_dir)
    stores = [SpectrumStore(folder) for folder in spectra]
    outputs = [(out_dir, control)] + ([(control_dir, True)] if control_dir is not None else [])
    restored: dict = {"mode": mode, "control": control}
    if mode == "layers":
        count = 1 + max((int(m.group(1)) for name in checkpoint.names() if (m := _LAYER.search(name))), default=-1)
        if span is None:
            if fraction is None:
                raise ValueError("layers mode needs a layer range or a fraction of the layers")
            span = (0, max(1, round(fraction * count)) - 1)
        chosen = [set(choose_layers(count, span, random, seed)) for _, random in outputs]
        layer_of = {name: int(m.group(1)) for name in checkpoint.names() if (m := _LAYER.search(name))}
        targets = [{name for name, layer in layer_of.items() if layer in layers} for layers in chosen]
        restored["layers"] = sorted(chosen[0])
    else:
        if fraction is None:
            raise ValueError(f"{mode} mode needs a fraction of the singular components")
        targets = [{name for _, _, name in linear_weights(checkpoint, matrices)}] * len(outputs)
        restored.update(matrices=len(targets[0]), fraction=fraction, tail=tail)
    with contextlib.ExitStack() as stack:
        folders = [stack.enter_context(atomic_dir(path)) for path, _ in outputs]
        for source in sorted(set(checkpoint.files.values())):
            original = load_file(str(source))
            versions = [dict(original) for _ in outputs]
            for name in sorted(set().union(*targets) & set(original)):
                before = reference.load(name)
                wanted = [i for i, names in enumerate(targets) if name in names]
                if mode == "layers":
                    for i in wanted:
                        versions[i][name] = torch.from_numpy(before).to(original[name].dtype)
                    continue
                selections = [choose_components(min(before.shape), fraction, tail, outputs[i][1], seed) for i in wanted]
                after = original[name].float().numpy()
                pair = (stores[0].of(name, before), stores[1].of(name, after))
                weights = restore_weights(before, after, mode, selections, pair)
                for i, weight in zip(wanted, weights):
                    versions[i][name] = torch.from_numpy(weight).to(original[name].dtype)
            for folder, tensors in zip(folders, versions):
                save_file(tensors, str(folder / source.name), metadata={"format": "pt"})
        for folder in folders:  # the model's own files only: not the results or logs its folder may also hold
            for path in model_files(model_dir):
                shutil.copy2(path, folder / path.name)
    return restored
