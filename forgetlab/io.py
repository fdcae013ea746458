"""File helpers: JSON/JSONL that never leave a half-written file under the final name."""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

__all__ = [
    "atomic_dir",
    "atomic_path",
    "check_writable",
    "claim_folder",
    "json_text",
    "link_tree",
    "partial_path",
    "read_json",
    "read_jsonl",
    "write_json",
    "write_jsonl",
]


def _default_mode(is_dir: bool) -> int:
    umask = os.umask(0)
    os.umask(umask)
    return (0o777 if is_dir else 0o666) & ~umask


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary sibling of ``path``; it becomes ``path`` only if the block succeeds (an error or Ctrl-C
    removes it). An OSError names ``path``, not the temporary file."""
    path = Path(path)
    with _naming(path, None):
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    try:
        with _naming(path, tmp):
            yield Path(tmp)
            os.chmod(tmp, _default_mode(is_dir=False))  # mkstemp files are private; targets are not
            os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary sibling folder; it replaces ``path`` only if the block succeeds (an error or Ctrl-C
    removes it). An OSError names ``path`` (or the file inside it), not the temporary folder."""
    path = Path(path)
    with _naming(path, None):
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    try:
        with _naming(path, tmp):
            yield tmp
            os.chmod(tmp, _default_mode(is_dir=True))
            if path.exists():
                shutil.rmtree(path)
            os.replace(tmp, path)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)


@contextlib.contextmanager
def _naming(path: Path, tmp: str | os.PathLike | None):
    """Re-raise an OSError about the temporary ``tmp`` (or, with None, about a temporary not yet named) as one
    about ``path``, the name the caller gave."""
    try:
        yield
    except OSError as error:
        for attribute in ("filename", "filename2"):
            name = getattr(error, attribute)
            if name is None:
                continue
            name = str(name)
            if tmp is None and Path(name).parent == path.parent and Path(name).name.startswith(f".{path.name}."):
                setattr(error, attribute, str(path))
            elif tmp is not None and (name == str(tmp) or name.startswith(f"{tmp}{os.sep}")):
                setattr(error, attribute, str(path) + name[len(str(tmp)) :])
        raise


def json_text(data, indent: int | None = None) -> str:
    """``data`` as JSON text, strictly: a NaN or infinite number (numpy's too) becomes null, which every JSON reader
    accepts, where Python's default writes NaN, which is not JSON. Every JSON forgetlab writes goes through it."""
    return json.dumps(_finite(data), indent=indent, allow_nan=False, default=_plain_number)


def _finite(value):
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(item) for item in value]
    return value


def _plain_number(value):
    """numpy scalars and arrays (``default`` of json.dumps: what it cannot write itself), non-finite as null."""
    if hasattr(value, "tolist"):
        return _finite(value.tolist())
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def partial_path(path: str | os.PathLike) -> Path:
    """Where a file written over a long job grows until it is whole: ``path`` with ``.partial`` added, beside it."""
    path = Path(path)
    return path.with_name(path.name + ".partial")


def write_jsonl(rows: Iterable[dict], path: str | os.PathLike) -> None:
    with atomic_path(path) as tmp, open(tmp, "w") as handle:
        for row in rows:
            handle.write(json_text(row) + "\n")


def read_jsonl(path: str | os.PathLike) -> list[dict]:
    rows = []
    with open(path) as handle:
        for number, line in enumerate(handle, 1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError as error:
                    raise ValueError(f"{path}:{number}: not valid JSON ({error.msg})") from None
    return rows


def write_json(data, path: str | os.PathLike) -> None:
    with atomic_path(path) as tmp, open(tmp, "w") as handle:
        handle.write(json_text(data, indent=2) + "\n")


def read_json(path: str | os.PathLike):
    with open(path) as handle:
        return json.load(handle)


def link_tree(source: str | os.PathLike, target: str | os.PathLike) -> Path:
    """Copy a folder as hard links (no extra disk; a plain copy across file systems), atomically."""
    with atomic_dir(target) as tmp:
        os.rmdir(tmp)
        try:
            shutil.copytree(source, tmp, copy_function=os.link)
        except OSError:
            shutil.rmtree(tmp, ignore_errors=True)
            shutil.copytree(source, tmp)
    return Path(target)


def check_writable(path: str | os.PathLike, what: str = "output") -> Path:
    """``path`` as a Path when a file or folder can be written there; else ValueError naming ``what``, the path
    given and why (a parent that is a file, a folder that cannot be made, one that cannot be written in), before
    any work is done. Tried for real: the missing parent folders are made and a probe file written in the last,
    then both removed."""
    given, path, parent = os.fspath(path), Path(path), Path(os.path.abspath(path)).parent
    missing = []
    for folder in (parent, *parent.parents):
        if folder.exists():
            if not folder.is_dir():
                raise ValueError(f"{what} {given!r}: {folder} is a file, not a folder")
            break
        missing.append(folder)
    try:
        for folder in reversed(missing):
            try:
                folder.mkdir()
            except OSError as error:
                missing = missing[missing.index(folder) + 1 :]  # those made so far, to remove
                raise ValueError(f"{what} {given!r}: cannot make the folder {folder} ({error.strerror})") from None
        try:
            fd, probe = tempfile.mkstemp(prefix=f".{path.name}.probe.", dir=parent)
        except OSError as error:
            raise ValueError(f"{what} {given!r}: cannot write in {parent} ({error.strerror})") from None
        os.close(fd)
        os.unlink(probe)
    finally:
        for folder in missing:  # deepest first
            with contextlib.suppress(OSError):
                folder.rmdir()
    return path


def claim_folder(folder: str | os.PathLike, job: dict, what: str = "saved training state") -> None:
    """Make ``folder`` the saved work of ``job`` (a JSON-able description of what is being trained), so that a
    rerun of the same job resumes from it: work there of another job, or of none that says which, is removed first,
    saying so. The job's fingerprint is kept in ``folder/job.json``."""
    folder = Path(folder)
    fingerprint = hashlib.sha256(json.dumps(job, sort_keys=True, default=str).encode()).hexdigest()
    marker = folder / "job.json"
    if folder.exists() and any(folder.iterdir()):
        known = json.loads(marker.read_text())["fingerprint"] if marker.exists() else None
        if known != fingerprint:
            print(
                f"discarding the {what} in {folder}: it is of another stage configuration, parent or data", flush=True
            )
            shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)
    write_json({"fingerprint": fingerprint}, marker)
