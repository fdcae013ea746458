"""gguf internals, written against gguf 0.17-0.19 with transformers 5.2x's GGUF loader."""

from __future__ import annotations

import contextlib
import functools

from . import fell_back, switched_off, took_effect

__all__ = ["read_once"]


@contextlib.contextmanager
def read_once(on: bool = True):
    """While loading: each GGUF file parsed once and each of gguf's tensor-name maps built once. transformers
    parses the file anew for the tokenizer, the config and the weights (through ``gguf.GGUFReader``), and builds
    the name map again for every module (``gguf.get_tensor_name_map``): ~20 of the ~30 s the default's base takes.
    Read-only objects, so sharing them changes nothing. It took effect when transformers asked for a file again
    and got the parse it already had."""
    import gguf

    if not on:
        switched_off("gguf-read-once")
        yield
        return
    reader_class, name_map = gguf.GGUFReader, gguf.get_tensor_name_map
    readers, asked = {}, []

    def reader(path, mode="r"):
        asked.append(path)
        if (str(path), mode) not in readers:
            readers[str(path), mode] = reader_class(path, mode)
        return readers[str(path), mode]

    gguf.GGUFReader, gguf.get_tensor_name_map = reader, functools.lru_cache(maxsize=None)(name_map)
    try:
        yield
    finally:
        gguf.GGUFReader, gguf.get_tensor_name_map = reader_class, name_map
    if len(asked) > len(readers):
        took_effect("gguf-read-once")
    elif not asked:
        fell_back("gguf-read-once", "transformers did not open the file through gguf.GGUFReader")
