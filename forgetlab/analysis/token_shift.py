"""Token distribution shift (Lin et al. 2023, "The Unlocking Spell on Base LLMs"): along the checkpoint's own
greedy completions of prior-task items, the reference's rank of each token the checkpoint chose. A token the
reference also ranks first is ``unshifted``, one in its top-k (``marginal_rank``) but not first ``marginal``, any
other ``shifted``: where the checkpoint writes what the reference would not have. By position in the completion,
and the position of each completion's first shifted token."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..options import option
from .base import Analysis, PromptsConfig

__all__ = [
    "ANALYSIS", "BANDS", "TokenShiftConfig", "chosen_ranks", "greedy_completions", "shift_profile", "token_shift",
]  # fmt: skip

BANDS = ("unshifted", "marginal", "shifted")
# Paul Tol's bright blue, yellow and red (forgetlab.report.style's lineage palette): apart for colour-blind readers,
# and the light yellow keeps the middle band apart in greyscale too
BAND_COLOURS = {"unshifted": "#4477AA", "marginal": "#CCBB44", "shifted": "#EE6677"}


@dataclass(kw_only=True)
class TokenShiftConfig(PromptsConfig):
    """The reference's rank of each token of the checkpoint's greedy completions: unshifted (its top-1), marginal
    (its top-k) or shifted, by position."""

    positions: int = option(16, "completion positions the by-position profile shows", minimum=1)
    marginal_rank: int = option(3, "k: a token in the reference's top-k but not its top-1 is marginal", minimum=2)


def chosen_ranks(logits, chosen):
    """Rank of each chosen token under its row of ``logits`` [T, V]: how many tokens score strictly higher (0:
    the top-1; a tie counts in the chosen token's favour, so the argmax of identical logits is rank 0)."""
    picked = logits.gather(-1, chosen[:, None])
    return (logits > picked).sum(-1)


def shift_profile(ranks: list, marginal_rank: int, positions: int) -> dict:
    """{summary, rows} from each completion's ranks (empty completions skipped); positions count from 0."""
    bands = [np.digitize(np.asarray(r), [1, marginal_rank]) for r in ranks if len(r)]  # 0, 1, 2: BANDS
    if not bands:
        raise ValueError("token shift needs at least one non-empty completion")
    pooled = np.concatenate(bands)
    firsts = [int(np.argmax(b == 2)) for b in bands if (b == 2).any()]
    summary = {f"token_shift_{name}": float(np.mean(pooled == band)) for band, name in enumerate(BANDS)}
    summary |= {
        "token_shift_first_shift": float(np.mean(firsts)) if firsts else float("nan"),
        "token_shift_never_shifted": 1 - len(firsts) / len(bands),
        "token_shift_tokens": len(pooled),
        "token_shift_completions": len(bands),
    }
    rows = []
    for position in range(positions):
        here = np.array([b[position] for b in bands if len(b) > position])
        shares = {name: float(np.mean(here == band)) if len(here) else float("nan") for band, name in enumerate(BANDS)}
        rows.append({"position": position, **shares, "n": len(here)})
    return {"summary": summary, "rows": rows}


def token_shift(reference, sequences: list[tuple[list[int], int]], marginal_rank: int, positions: int) -> dict:
    """``sequences``: (prompt ids + the checkpoint's completion ids, where the completion starts). One forward
    pass of the reference alone: the checkpoint's choices are its completion."""
    import torch

    from .forward import forward_each

    ranks = []
    for (ids, start), found in zip(sequences, forward_each(reference, [ids for ids, _ in sequences], 4, logits=True)):
        # the distribution at t - 1 predicts token t
        ranks.append(chosen_ranks(found["logits"][start - 1 : len(ids) - 1], torch.tensor(ids[start:])).tolist())
    return shift_profile(ranks, marginal_rank, positions)


def greedy_completions(model, tokenizer, prompts: list[list[int]], max_new_tokens: int | None = None) -> list:
    """The model's greedy completion ids of each prompt (ids as :meth:`AnalysisInputs.prompts` encodes them), by
    the evaluation's own decode loop, without the EOS that ends them (as the stored samples' text lacks it)."""
    from ..evaluate.config import EvaluateConfig
    from ..evaluate.engines import generation_batch_size
    from ..evaluate.prefix import generate_ids

    size, new = generation_batch_size(model, model.device.type), max_new_tokens or EvaluateConfig.max_new_tokens
    eos = model.generation_config.eos_token_id
    eos = {eos} if isinstance(eos, int) else set(eos or ())
    completions = []
    for start in range(0, len(prompts), size):
        completions += generate_ids(model, prompts[start : start + size], tokenizer.pad_token_id, new)
    return [ids[:-1] if ids and ids[-1] in eos else ids for ids in completions]


def run(inputs) -> dict:
    """The rows' completions (the checkpoint's evaluation samples: greedy unless the evaluation sampled); rows
    without one (task records, not samples) get the checkpoint's greedy completion here."""
    rows = inputs.items("token_shift")
    prompts = inputs.prompts(rows)
    if all("completion" in row for row in rows):
        # The stored text, re-tokenized after the prompt: at a rare merge boundary this may differ from the ids
        # the model generated, and the EOS it emitted is not in the text, so the EOS position is not counted.
        tokenize = inputs.tokenizer
        completions = [tokenize(str(row["completion"]), add_special_tokens=False)["input_ids"] for row in rows]
    else:  # the exact generated ids: no re-tokenization; the EOS left out as above
        completions = greedy_completions(inputs.load("model"), inputs.tokenizer, prompts)
    sequences = [(prompt + completion, len(prompt)) for prompt, completion in zip(prompts, completions)]
    options = inputs.options
    return token_shift(inputs.load("reference"), sequences, options.marginal_rank, options.positions)


def draw(data, outputs: list) -> list[dict]:
    """Per position in the completion, the shares of unshifted, marginal and shifted tokens as stacked bars, one
    panel per checkpoint."""
    from ..report.analysis import EMPTY, empty_figure, panels, rows_of, save_figure

    table = data.analysis.get("token_shift", EMPTY)
    if table.empty:
        return empty_figure(outputs, "token shift")
    fig, axes, labels = panels(table)
    for column, label in enumerate(labels):
        rows, ax = rows_of(table, label), axes[0][column]
        below = np.zeros(len(rows))
        for band in BANDS:
            share = rows[band].fillna(0).to_numpy()  # a position no completion reaches draws no bar
            hatch = "//" if band == "shifted" else None  # shifted stands out in black and white too
            ax.bar(rows["position"], share, bottom=below, color=BAND_COLOURS[band], hatch=hatch, label=band, width=0.9)
            below += share
        # how many completions reach each position: a late bar may stand for very few of them
        reach = rows["n"] / max(rows["n"].max(), 1)
        ax.step(rows["position"], reach, where="mid", color="black", linestyle="--", label="completions reaching it")
        ax.set(title=label, xlabel="position in the completion (tokens)", ylabel="share of completions", ylim=(0, 1))
    handles, names = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, names, loc="outside lower center", ncol=len(handles), fontsize=8)
    return save_figure(fig, outputs)


ANALYSIS = Analysis("token_shift", TokenShiftConfig, run, draw, flags=("n",))
