"""Prints requirements/NAME.lock for .venvs/NAME (run by that environment's python; bash requirements/lock.sh NAME).

The lock pins what the environment adds to the core install: every package that requirements/NAME.txt needs
(its dependencies' dependencies included) and that either lies in the environment's own site-packages or is not in
requirements/cpu.lock, the core's lock (a package this machine happens to have). What the core lock holds comes from
the core install and is left out, so that requirements/venv.sh installs the same set on a machine whose core is the
core lock's.
"""

import re
import sys
import sysconfig
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent
SEEDED = {"pip", "setuptools"}  # the installer's own: the core's (requirements/venv.sh makes the venv without pip)


def needed(requirements: list[Requirement]) -> dict[str, metadata.Distribution]:
    """Every installed distribution the requirements need, by canonical name, their extras followed."""
    found, seen, todo = {}, set(), list(requirements)
    while todo:
        requirement = todo.pop()
        name = canonicalize_name(requirement.name)
        if (name, frozenset(requirement.extras)) in seen:
            continue
        seen.add((name, frozenset(requirement.extras)))
        try:
            found[name] = distribution = metadata.distribution(requirement.name)
        except metadata.PackageNotFoundError:
            sys.exit(f"{requirement.name} is needed but not installed: run bash requirements/venv.sh first")
        for line in distribution.requires or []:
            dependency = Requirement(line)
            extras = requirement.extras or {""}
            if dependency.marker is None or any(dependency.marker.evaluate({"extra": e}) for e in extras):
                todo.append(dependency)
    return found


def main(name: str) -> None:
    lines = (ROOT / f"{name}.txt").read_text().splitlines()
    requirements = [Requirement(line.split("#")[0]) for line in lines if line.split("#")[0].strip()]
    core = {
        canonicalize_name(match[1]): match[2]
        for match in re.finditer(r"^([A-Za-z0-9_.\-]+)==(\S+)", (ROOT / "cpu.lock").read_text(), re.M)
    }
    own = Path(sysconfig.get_paths()["purelib"]).resolve()
    pins = {}
    for package, distribution in needed(requirements).items():
        here = Path(distribution.locate_file("")).resolve() == own
        if package in SEEDED or (not here and package in core):
            if not here and core[package].split("+")[0] != distribution.version.split("+")[0]:
                print(f"warning: {package} {distribution.version} is installed, the core lock has {core[package]}: "
                      "install the core at requirements/cpu.lock before locking", file=sys.stderr)  # fmt: skip
            continue
        pins[package] = distribution.version
    print(f"# The packages .venvs/{name} adds to the core install (requirements/cpu.lock), as installed for")
    print(f"# requirements/{name}.txt; written by: bash requirements/lock.sh {name}")
    for package in sorted(pins):
        print(f"{package}=={pins[package]}")


if __name__ == "__main__":
    main(sys.argv[1])
