"""Memory-R as its study computes it (``memory.variant: seed``): thaihungle/Memory-R @ b5eb20c,
``rewards/ir_knn_st.py`` and ``run_gsm8k.py:153-195,284-299``.

Keys are question texts, found by L2 over their embeddings; each keeps its latest ``capacity`` (reasoning text,
embedding) pairs. A completion is remembered before it is scored (a success in the exploit memory, a failure in the
explore memory), so a question's first success meets itself. Exploit (knn): the L2 distance from the completion's
embedding to the centroid of the successes under the k nearest keys, min-max normalised over its own window,
rewarded as 1 - that. Explore (knn+): 1 - the largest cosine similarity to the failures under the k nearest keys,
normalised over its own window; 0 until failures of ``explore_warmup`` questions are remembered. The reward is
their sum (the study weighs each part 1).
"""

from __future__ import annotations

import re
from collections import deque

import numpy as np

from .memory import IntrinsicReward, MemoryOptions, Window, pack_texts, stack, unpack_texts

__all__ = ["KeyedMemory", "SeedMemoryReward", "question_text", "reasoning_block"]


def reasoning_block(text: str) -> str:
    """The text after the last opening <reasoning> or <think> tag, up to a closing one (the study's
    extract_xml_reasoning, which knows <reasoning>); the whole text without tags."""
    *_, rest = re.split(r"<(?:reasoning|think)>", text)
    return re.split(r"</(?:reasoning|think)>", rest, maxsplit=1)[0].strip()


def question_text(prompt) -> str:
    """The question of a prompt: its last turn's content (the study's ``prompts[0][-1]['content']``), or the text."""
    return prompt[-1]["content"] if isinstance(prompt, list) else str(prompt)


class KeyedMemory:
    """The study's FastKNNMemory: question keys with their embeddings, each with its latest ``capacity``
    (value text, value embedding) pairs, the oldest forgotten first."""

    def __init__(self, capacity: int):
        self.capacity = capacity
        self.clear()

    def clear(self) -> None:
        self.keys: list[str] = []
        self.key_vectors: list[np.ndarray] = []
        self.values: list[deque] = []
        self.positions: dict[str, int] = {}
        self.matrix = None  # the key embeddings stacked, rebuilt when a key is added

    def insert(self, key: str, key_vector: np.ndarray, text: str, vector: np.ndarray) -> None:
        # a key is matched by its text: the study matches equal embeddings, which batched embedding can perturb
        if key not in self.positions:
            self.positions[key] = len(self.keys)
            self.keys.append(key)
            self.key_vectors.append(key_vector)
            self.values.append(deque(maxlen=self.capacity))
        self.values[self.positions[key]].append((text, vector))

    def nearest(self, key_vector: np.ndarray, k: int) -> list[np.ndarray]:
        """The value embeddings under the k keys nearest ``key_vector`` by L2; none while no key is known."""
        if not self.keys:
            return []
        if self.matrix is None or len(self.matrix) != len(self.keys):
            self.matrix = np.stack(self.key_vectors)
        order = np.argsort(((self.matrix - key_vector) ** 2).sum(1), kind="stable")
        return [vector for position in order[:k] for _, vector in self.values[position]]

    def state(self, name: str) -> dict[str, np.ndarray]:
        keys, key_lengths = pack_texts(self.keys)
        texts, text_lengths = pack_texts([text for values in self.values for text, _ in values])
        return {
            f"{name}.keys": keys, f"{name}.key_lengths": key_lengths, f"{name}.key_vectors": stack(self.key_vectors),
            f"{name}.counts": np.array([len(values) for values in self.values], np.int64),
            f"{name}.texts": texts, f"{name}.text_lengths": text_lengths,
            f"{name}.vectors": stack([vector for values in self.values for _, vector in values]),
        }  # fmt: skip

    def restore(self, arrays, name: str) -> None:
        self.clear()
        pairs = zip(unpack_texts(arrays[f"{name}.texts"], arrays[f"{name}.text_lengths"]), arrays[f"{name}.vectors"])
        keys = unpack_texts(arrays[f"{name}.keys"], arrays[f"{name}.key_lengths"])
        for key, key_vector, count in zip(keys, arrays[f"{name}.key_vectors"], arrays[f"{name}.counts"]):
            for _ in range(count):
                self.insert(key, key_vector, *next(pairs))


class SeedMemoryReward(IntrinsicReward):
    """The study's knn (exploit) and knn+ (exploit + explore) rewards as one; logs memory/raw (the exploit's
    distances), memory/raw_explore (with ``explore``), memory/normalised (the reward before the schedule) and
    memory/scale per step."""

    def __init__(self, options: MemoryOptions, correct, steps: int, embed):
        super().__init__(options, correct, steps, embed)
        self.successes, self.failures = KeyedMemory(options.capacity), KeyedMemory(options.capacity)
        self.exploit_window, self.explore_window = Window(maxlen=options.window), Window(maxlen=options.window)

    def score(self, prompts, records, texts) -> tuple[list[float], dict[str, float]]:
        questions = [question_text(prompt) for prompt in prompts]
        unique = list(dict.fromkeys(questions))
        key_vectors = dict(zip(unique, self.embed(unique)))
        blocks = [reasoning_block(text) for text in texts]
        values, exploit_raw, explore_raw = [], [], []
        for question, block, vector, record, text in zip(questions, blocks, self.embed(blocks), records, texts):
            key_vector, success = key_vectors[question], bool(self.correct(record, text))
            if success:  # remembered first, then scored, as the study does
                self.successes.insert(question, key_vector, block, vector)
            value = self.exploit(key_vector, vector, exploit_raw)
            if self.options.explore:
                if not success:
                    self.failures.insert(question, key_vector, block, vector)
                value += self.explore(key_vector, vector, explore_raw)
            values.append(value)
        metrics = {"memory/raw": float(np.mean(exploit_raw)) if exploit_raw else 0.0}
        if self.options.explore:
            metrics["memory/raw_explore"] = float(np.mean(explore_raw)) if explore_raw else 0.0
        return values, {**metrics, "memory/normalised": float(np.mean(values))}

    def exploit(self, key_vector: np.ndarray, vector: np.ndarray, raw: list[float]) -> float:
        """1 - the normalised distance to the successes' centroid (novelty_score_mean); with no success anywhere,
        the study's novelty 1 (reward 0), not windowed; while the window has no range, 1 - the distance itself."""
        successes = self.successes.nearest(key_vector, self.options.k)
        if not successes:
            return 0.0
        distance = float(np.linalg.norm(vector - np.mean(successes, axis=0)))
        raw.append(distance)
        self.exploit_window.append(distance)
        scaled = self.exploit_window.normalise(distance)
        return 1.0 - (distance if scaled is None else scaled)

    def explore(self, key_vector: np.ndarray, vector: np.ndarray, raw: list[float]) -> float:
        """The normalised 1 - largest cosine similarity to the failures (novelty_score_max): 0 during the warm-up
        or while the window has no range, 1 with no failure anywhere (only without a warm-up)."""
        if len(self.failures.keys) < self.options.explore_warmup:
            return 0.0
        failures = self.failures.nearest(key_vector, self.options.k)
        if not failures:
            return 1.0
        matrix = np.stack(failures)
        novelty = float(1.0 - np.max(matrix @ vector / (np.linalg.norm(matrix, axis=1) * np.linalg.norm(vector))))
        raw.append(novelty)
        self.explore_window.append(novelty)
        return self.explore_window.normalise(novelty) or 0.0

    def state(self) -> dict[str, np.ndarray]:
        return {**self.successes.state("successes"), **self.failures.state("failures"),
                "exploit_window": np.array(self.exploit_window, np.float64),
                "explore_window": np.array(self.explore_window, np.float64)}  # fmt: skip

    def restore(self, arrays) -> None:
        self.successes.restore(arrays, "successes")
        self.failures.restore(arrays, "failures")
        for name in ("exploit_window", "explore_window"):
            getattr(self, name).clear()
            getattr(self, name).extend(float(value) for value in arrays[name])
