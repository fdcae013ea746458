"""Generation engines: HF ``generate`` (CPU or GPU) and vLLM (GPU). Both take prompt texts exactly as the
model reads them and return one completion per text, in order."""

from __future__ import annotations

import importlib.util
import os

from .config import BACKENDS

__all__ = ["BACKENDS", "HFEngine", "VLLMEngine", "generation_batch_size", "open_engine", "resolve_backend"]

# (parameters below, prompts per batch) on a GPU, smallest models first; larger models get GPU_BATCH_LARGEST
GPU_BATCHES = ((1e9, 256), (1e10, 64))
GPU_BATCH_LARGEST = 16
CPU_BATCH = 64


def generation_batch_size(model, device: str) -> int:
    """Prompts per generation batch for ``model`` on ``device`` when the config leaves it open: on the CPU more
    rows only amortise per-step overhead; on a GPU the KV cache of a larger model fills memory sooner."""
    if device != "cuda":
        return CPU_BATCH
    parameters = sum(p.numel() for p in model.parameters())
    return next((size for limit, size in GPU_BATCHES if parameters < limit), GPU_BATCH_LARGEST)


def resolve_backend(name: str, vllm_installed: bool | None = None, gpu: bool | None = None) -> str:
    """'hf' or 'vllm'; 'auto' picks vLLM when it is installed and a CUDA GPU is present."""
    if name not in BACKENDS:
        raise ValueError(f"generation backend must be one of {BACKENDS}, not {name!r}")
    if vllm_installed is None:
        vllm_installed = importlib.util.find_spec("vllm") is not None
    if gpu is None:
        import torch

        gpu = torch.cuda.is_available()
    if name == "vllm" and not (vllm_installed and gpu):
        missing = (
            "vLLM is not installed (pip install 'forgetlab[gpu]')"
            if not vllm_installed
            else "no CUDA GPU is in use (none visible, or device: cpu)"
        )
        raise ValueError(f"generation backend 'vllm' cannot run here: {missing}; use 'hf' or 'auto'")
    if name == "auto":
        return "vllm" if vllm_installed and gpu else "hf"
    return name


def _encode(tokenizer, texts: list[str], chat: bool):
    # A rendered chat template already holds its special tokens; a plain prompt gets the tokenizer's own.
    return tokenizer(texts, add_special_tokens=not chat)


class HFEngine:
    """Batched generation with an HF model (``prefix.generate_ids``: plain sampling or greedy, a shared prefix run
    once, finished rows leave the batch); prompts sorted by length so each batch pads little."""

    name = "hf"

    def __init__(self, model, tokenizer, batch_size: int = CPU_BATCH):
        self.model, self.tokenizer, self.batch_size = model, tokenizer, batch_size

    def __call__(
        self, texts: list[str], max_new_tokens: int, temperature: float = 0.0, chat: bool = True, progress=None
    ) -> list[str]:
        """One completion per text; ``progress`` (a forgetlab.progress.Progress) advances after each batch."""
        from .prefix import generate_ids

        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        completions: list[str] = [""] * len(texts)
        self.model.eval()
        encoded = _encode(self.tokenizer, texts, chat)["input_ids"]
        for start in range(0, len(order), self.batch_size):
            batch = order[start : start + self.batch_size]
            new_tokens = generate_ids(
                self.model, [encoded[i] for i in batch], self.tokenizer.pad_token_id, max_new_tokens, temperature
            )
            for i, text in zip(batch, self.tokenizer.batch_decode(new_tokens, skip_special_tokens=True)):
                completions[i] = text
            if progress is not None:
                progress.advance(len(batch))
        return completions

    def close(self) -> None:
        pass


class VLLMEngine:
    """vLLM on a GPU. Prompts go in as token ids encoded like the HF path, so both read the same tokens."""

    name = "vllm"

    def __init__(self, model_dir: str | os.PathLike, tokenizer, seed: int = 0, gpu_memory_utilization: float = 0.8):
        from vllm import LLM

        self.tokenizer = tokenizer
        self.llm = LLM(model=str(model_dir), seed=seed, gpu_memory_utilization=gpu_memory_utilization)

    def __call__(
        self, texts: list[str], max_new_tokens: int, temperature: float = 0.0, chat: bool = True, progress=None
    ) -> list[str]:
        from vllm import SamplingParams

        # top_k=-1 / top_p=1: plain sampling, as on the HF path
        params = SamplingParams(max_tokens=max_new_tokens, temperature=temperature, top_k=-1, top_p=1.0)
        prompts = [{"prompt_token_ids": ids} for ids in _encode(self.tokenizer, texts, chat)["input_ids"]]
        completions = [output.outputs[0].text for output in self.llm.generate(prompts, params, use_tqdm=False)]
        if progress is not None:  # vLLM schedules the whole list itself: one line at the end
            progress.advance(len(texts))
        return completions

    def close(self) -> None:
        """Free the GPU memory vLLM reserved, so an HF model can load next in the same job."""
        import gc

        import torch

        del self.llm
        gc.collect()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()


def open_engine(
    backend: str,
    model_dir: str | os.PathLike,
    tokenizer,
    batch_size: int | None = None,
    seed: int = 0,
    device: str = "auto",
):
    """The engine ``backend`` ('auto', 'hf', 'vllm') names, with the checkpoint in ``model_dir`` loaded on
    ``device`` (vLLM always runs on the GPU and batches by itself); ``batch_size`` None: by model size and device."""
    from ..models import load_model, resolve_device

    if resolve_backend(backend, gpu=resolve_device(device) == "cuda") == "vllm":
        return VLLMEngine(model_dir, tokenizer, seed=seed)
    model = load_model(model_dir, device)
    return HFEngine(model, tokenizer, batch_size or generation_batch_size(model, resolve_device(device)))
