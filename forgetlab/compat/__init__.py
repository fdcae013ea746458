"""Every reach into another library's private, experimental or version-specific names, in one place, one module
per library (``compat.trl``, ``compat.transformers``, ``compat.gguf``, ``compat.snakemake``, ``compat.torch``,
``compat.verl``).
Each function says which versions it was written against; the lock (requirements/cpu.lock) holds the versions
the suite passed with.

The fast paths are the speed-ups among them. Each is switched on per job (``fast_paths: true``, the default) or off
(``false``: TRL's and transformers' stock paths), checks at run time that it took effect, and when it did not, writes
one warning to the job's log naming the library, its version and the slower path taken. ``record()`` is what ran in
this process, for the job's outputs and the run's provenance.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from importlib import metadata

__all__ = [
    "FAST_PATHS",
    "FastPath",
    "check_expected",
    "expect",
    "fell_back",
    "record",
    "reset",
    "switched_off",
    "took_effect",
    "version",
]


@dataclass(frozen=True)
class FastPath:
    name: str
    library: str  # the library whose internals it reaches into
    stock: str  # what runs without it


FAST_PATHS = {
    path.name: path
    for path in (
        FastPath("labelled-positions", "trl", "TRL's fused LM head scores every position on the CPU"),
        FastPath("cpu-head-tiles", "trl", "TRL's fused LM head in its own 32768-column tiles"),
        FastPath("shared-prefix", "transformers", "every training row runs its whole prefix"),
        FastPath("shared-prompt-passes", "trl", "TRL's log-probability pass runs every row's prompt"),
        FastPath("decode-rollouts", "trl", "TRL generates the rollouts with HF generate"),
        FastPath("gguf-read-once", "gguf", "transformers parses the GGUF file for the tokenizer, config and weights"),
    )
}

# name -> what happened to it in this process: 'ran', 'off (fast_paths: false)' or 'fell back: <why>'
_STATE: dict[str, str] = {}
# name -> why it would not have run, for fast paths switched on whose code has not run yet (see check_expected)
_EXPECTED: dict[str, str] = {}


def version(library: str) -> str:
    try:
        return metadata.version(library)
    except metadata.PackageNotFoundError:
        return "not installed"


def took_effect(name: str) -> None:
    """``name`` ran (a fall-back reported earlier in the job stands)."""
    _STATE.setdefault(name, "ran")


def switched_off(name: str) -> None:
    _STATE[name] = "off (fast_paths: false)"


def fell_back(name: str, why: str) -> None:
    """``name`` did not take effect: recorded, and one warning in the job's log (stderr) the first time."""
    if _STATE.get(name, "").startswith("fell back"):
        return
    path = FAST_PATHS[name]
    _STATE[name] = f"fell back: {why}"
    print(f"warning: fast path {name!r} not taken with {path.library} {version(path.library)}: {why}; "
          f"running the slower path ({path.stock})", file=sys.stderr, flush=True)  # fmt: skip


def expect(name: str, unseen: str) -> None:
    """``name`` is switched on and should run soon; ``unseen`` says why, if it does not (updated as it declines)."""
    _EXPECTED[name] = unseen


def check_expected() -> None:
    """Each expected fast path that has not run by now fell back (a library that stopped calling the code it
    patched, or a run where it never applied), warned once."""
    for name, unseen in _EXPECTED.items():
        if name not in _STATE:
            fell_back(name, unseen)
    _EXPECTED.clear()


def record() -> dict[str, str]:
    """What each fast path this process reached did, by name."""
    return dict(sorted(_STATE.items()))


def reset() -> None:
    _STATE.clear()
    _EXPECTED.clear()
