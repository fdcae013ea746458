"""Memory-R and Memory-R+ (seed 004): an intrinsic reward from an episodic memory, per question, of the reasoning
of past completions.

For each completion, R rewards closeness to the question's remembered successes, 1 - d/2 with d the mean cosine
distance to the k nearest of them; R+ adds novelty against the remembered failures, d/2 to the k nearest. The raw
values are min-max normalised over a window of recent ones and scaled by an annealing schedule; the stage's
``memory.weight`` is the reward's weight. Completions are taken one after the other, each scored before it is
remembered (a failure never matches itself; later completions of a group meet the earlier ones), and each
question's memory forgets its oldest entry first, vectors and nothing else. ``variant: seed`` is the study's own
computation instead (memory_seed.py).
"""

from __future__ import annotations

import math
import re
from collections import defaultdict, deque
from dataclasses import dataclass

import numpy as np

from ..options import Options, option
from ..rewards import answers, record_columns

__all__ = [
    "ANNEALING", "EpisodicMemory", "IntrinsicReward", "MemoryOptions", "MemoryReward", "PolicyEmbedder", "Window",
    "annealing", "make_embedder", "pack_texts", "stack", "unpack_texts",
]  # fmt: skip

ANNEALING = ("constant", "linear", "cosine")


@dataclass(kw_only=True)
class MemoryOptions(Options):
    """Memory-R (exploit: closeness to the question's past successes) or, with ``explore``, Memory-R+."""

    variant: str = option(
        "forgetlab",
        "forgetlab (the question's own memory, scored then remembered, one joint normalisation) or seed (the "
        "study's code: nearest question keys, remembered then scored, each part normalised alone; docs/config.md)",
        enum=["forgetlab", "seed"],
    )
    weight: float = option(0.5, "the intrinsic reward's weight beside the task's rewards", exclusiveMinimum=0)
    explore: bool = option(False, "Memory-R+: also reward novelty against the question's remembered failures")
    anneal: str = option(
        "linear", "scale over the stage: constant, linear or cosine (from 1 to 0 at the end)", enum=list(ANNEALING)
    )
    k: int = option(
        1,
        "nearest remembered completions a distance averages over (variant seed: nearest question keys whose "
        "completions it gathers)",
        minimum=1,
    )
    capacity: int = option(16, "completions remembered per question and kind (the oldest forgotten first)", minimum=1)
    window: int = option(256, "recent raw values the min-max normalisation spans (variant seed: per part)", minimum=2)
    explore_warmup: int = option(
        500,
        "variant seed only: Memory-R+'s novelty stays 0 until failures of this many distinct questions are "
        "remembered (the study: 500)",
        minimum=0,
    )
    embedder: str = option(
        "policy",
        "policy (the policy's own mean-pooled last hidden states, offline) or a sentence-transformers "
        "model id (all-MiniLM-L6-v2, as the seed)",
    )


class Window(deque):
    """The recent raw values (``Window(maxlen=n)``) that min-max normalisation spans."""

    def normalise(self, value: float) -> float | None:
        """``value`` min-max scaled to the window; None while the window has no range."""
        low, high = (min(self), max(self)) if self else (0.0, 0.0)
        return (value - low) / (high - low) if high > low else None


def stack(vectors: list[np.ndarray]) -> np.ndarray:
    """Vectors as the rows of one array; (0, 0) for none."""
    return np.stack(vectors) if vectors else np.zeros((0, 0), np.float32)


def pack_texts(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Texts as one UTF-8 byte array and their byte lengths: plain arrays (loadable without pickle), unpadded."""
    encoded = [text.encode() for text in texts]
    return np.frombuffer(b"".join(encoded), np.uint8), np.array([len(data) for data in encoded], np.int64)


def unpack_texts(data: np.ndarray, lengths: np.ndarray) -> list[str]:
    blob, ends = data.tobytes(), np.cumsum(lengths)
    return [blob[end - length : end].decode() for end, length in zip(ends, lengths)]


class EpisodicMemory:
    """Unit vectors per key, at most ``capacity`` each (a deque: eviction drops a vector, never misaligns)."""

    def __init__(self, capacity: int):
        self.entries: dict[str, deque] = defaultdict(lambda: deque(maxlen=capacity))

    def distance(self, key: str, vector: np.ndarray, k: int) -> float | None:
        """Mean cosine distance (0 to 2) to the k nearest vectors of ``key``; None when it has none."""
        if not self.entries.get(key):
            return None
        distances = 1.0 - np.stack(self.entries[key]) @ vector
        return float(np.sort(distances)[:k].mean())

    def add(self, key: str, vector: np.ndarray) -> None:
        self.entries[key].append(vector)

    def state(self, name: str) -> dict[str, np.ndarray]:
        keys = list(self.entries)
        data, lengths = pack_texts(keys)
        counts = np.array([len(self.entries[key]) for key in keys], np.int64)
        vectors = stack([vector for key in keys for vector in self.entries[key]])
        return {f"{name}.keys": data, f"{name}.key_lengths": lengths, f"{name}.counts": counts,
                f"{name}.vectors": vectors}  # fmt: skip

    def restore(self, arrays, name: str) -> None:
        keys = unpack_texts(arrays[f"{name}.keys"], arrays[f"{name}.key_lengths"])
        vectors = iter(arrays[f"{name}.vectors"])
        self.entries.clear()
        for key, count in zip(keys, arrays[f"{name}.counts"]):
            self.entries[key].extend(next(vectors) for _ in range(count))


def _reasoning(text: str) -> str:
    """The reasoning of a completion: its <think> block when it has one, else the whole text."""
    match = re.search(r"<think>(.*?)</think>", text, re.S)
    return match.group(1).strip() if match else text


def annealing(schedule: str, step: int, steps: int) -> float:
    progress = min(max(step / max(steps, 1), 0.0), 1.0)
    return {"constant": 1.0, "linear": 1.0 - progress, "cosine": 0.5 * (1 + math.cos(math.pi * progress))}[schedule]


class IntrinsicReward:
    """A memory reward as a TRL reward function: ``score`` (the variant's) scaled by the annealing schedule; logs
    the variant's metrics and memory/scale per step. ``state``/``restore`` carry the memory across a resume (the
    schedule follows the trainer's own step)."""

    __name__ = "memory"

    def __init__(self, options: MemoryOptions, correct, steps: int, embed):
        """``correct(record, completion text)`` is truthy for a success (forgetlab.rewards.CorrectnessReward.of);
        ``embed(texts)`` returns unit vectors."""
        self.options, self.correct, self.steps, self.embed = options, correct, steps, embed

    def __call__(self, prompts, completions, trainer_state=None, log_metric=None, **columns) -> list[float]:
        records = record_columns(columns, len(completions))
        values, metrics = self.score(prompts, records, answers(completions, columns))
        scale = annealing(self.options.anneal, trainer_state.global_step if trainer_state else 0, self.steps)
        if log_metric is not None:
            for name, value in {**metrics, "memory/scale": scale}.items():
                log_metric(name, value)
        return [scale * value for value in values]

    def score(self, prompts, records, texts) -> tuple[list[float], dict[str, float]]:
        raise NotImplementedError

    def state(self) -> dict[str, np.ndarray]:
        raise NotImplementedError

    def restore(self, arrays) -> None:
        raise NotImplementedError


class MemoryReward(IntrinsicReward):
    """forgetlab's Memory-R; logs memory/raw, memory/normalised and memory/scale per step."""

    def __init__(self, options: MemoryOptions, correct, steps: int, embed):
        super().__init__(options, correct, steps, embed)
        self.successes, self.failures = EpisodicMemory(options.capacity), EpisodicMemory(options.capacity)
        self.recent = Window(maxlen=options.window)

    def score(self, prompts, records, texts) -> tuple[list[float], dict[str, float]]:
        vectors = self.embed([_reasoning(text) for text in texts])
        keys = [str(record.get("id", prompt)) for record, prompt in zip(records, prompts)]
        raw = []
        # one completion after the other, each scored and then remembered: later completions of a group meet the
        # earlier ones (a question seen once still gets a signal), a completion never meets itself
        for key, vector, record, text in zip(keys, vectors, records, texts):
            raw.append(self.raw_value(key, vector))
            if self.correct(record, text):
                self.successes.add(key, vector)
            elif self.options.explore:
                self.failures.add(key, vector)
        normalised = self.normalise(raw)
        known = [value for value in raw if value is not None]
        raw_mean = float(np.mean(known)) if known else 0.0
        return normalised, {"memory/raw": raw_mean, "memory/normalised": float(np.mean(normalised))}

    def raw_value(self, key: str, vector: np.ndarray) -> float | None:
        """1 - d/2 to the successes (R), plus d/2 to the failures (R+); None when the question has no memory."""
        success = self.successes.distance(key, vector, self.options.k)
        failure = self.failures.distance(key, vector, self.options.k) if self.options.explore else None
        if success is None and failure is None:
            return None
        return (0.0 if success is None else 1.0 - success / 2) + (0.0 if failure is None else failure / 2)

    def normalise(self, raw: list[float | None]) -> list[float]:
        """Min-max over the window of recent raw values (this batch's included); 0 without a memory or a range."""
        self.recent.extend(value for value in raw if value is not None)
        return [0.0 if value is None else self.recent.normalise(value) or 0.0 for value in raw]

    def state(self) -> dict[str, np.ndarray]:
        return {**self.successes.state("successes"), **self.failures.state("failures"),
                "window": np.array(self.recent, np.float64)}  # fmt: skip

    def restore(self, arrays) -> None:
        self.successes.restore(arrays, "successes")
        self.failures.restore(arrays, "failures")
        self.recent.clear()
        self.recent.extend(float(value) for value in arrays["window"])


class PolicyEmbedder:
    """Unit mean-pooled last hidden states of the policy being trained (no download; follows the policy)."""

    def __init__(self, tokenizer, max_length: int = 256):
        self.tokenizer, self.max_length, self.model = tokenizer, max_length, None

    def bind(self, model) -> None:
        self.model = model

    def __call__(self, texts: list[str]) -> np.ndarray:
        import torch

        if self.model is None:
            raise RuntimeError("the policy embedder is not bound to a model (bind the trainer's model first)")
        batch = self.tokenizer(
            texts, return_tensors="pt", padding=True, truncation=True, max_length=self.max_length, padding_side="right"
        )
        batch = {key: value.to(self.model.device) for key, value in batch.items()}
        with torch.no_grad():
            hidden = self.model(**batch, output_hidden_states=True).hidden_states[-1].float()
        mask = batch["attention_mask"].unsqueeze(-1).float()
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1)
        return torch.nn.functional.normalize(pooled, dim=-1).cpu().numpy()


def make_embedder(name: str, tokenizer):
    """The embedder a memory option names: the policy's own, or a sentence-transformers model."""
    if name == "policy":
        return PolicyEmbedder(tokenizer)
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError as error:
        raise ImportError(
            f"memory.embedder {name!r} needs sentence-transformers (pip install "
            "sentence-transformers), or use embedder: policy"
        ) from error
    model = SentenceTransformer(name)
    return lambda texts: model.encode(texts, normalize_embeddings=True)
