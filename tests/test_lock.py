"""The locked install: requirements/cpu.lock satisfies pyproject.toml's ranges, and the README and CI install
torch and everything else at its versions."""

import re

import tomllib
from packaging.requirements import Requirement

from forgetlab.provenance import locked_versions

from .conftest import ROOT

LOCK = locked_versions((ROOT / "requirements" / "cpu.lock").read_text())
REFRESH = "bash requirements/lock.sh"


def _declared() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return [Requirement(text) for text in project["dependencies"] + project["optional-dependencies"]["test"]]


def test_the_lock_pins_every_declared_dependency_within_its_range():
    wrong = [
        f"{requirement}: locked {LOCK.get(requirement.name.lower())}"
        for requirement in _declared()
        if not requirement.specifier.contains(LOCK.get(requirement.name.lower(), "0"), prereleases=True)
    ]
    assert not wrong, f"requirements/cpu.lock disagrees with pyproject.toml (run: {REFRESH}):\n" + "\n".join(wrong)


def test_the_readme_and_ci_install_from_the_lock():
    torch = LOCK["torch"]
    readme, ci = (ROOT / "README.md").read_text(), (ROOT / ".ci" / "run").read_text()
    for text in (readme, ci):
        cpu_index = r"--index-url https://download\.pytorch\.org/whl/cpu"
        assert re.search(rf"{cpu_index} [^\n]*torch=={re.escape(torch)}\+cpu", text)
        assert re.search(r'pip install (--quiet )?-c requirements/cpu\.lock -e "\.\[test\]"', text)
    assert REFRESH in readme
    for env in ("analysis", "evaluation", "training"):  # evalscope's own env pins what evalscope needs
        assert '"-c ../requirements/cpu.lock"' in (ROOT / "envs" / f"{env}.yaml").read_text(), env


def test_the_lock_carries_no_cuda_packages():
    assert not [name for name in LOCK if name.startswith(("nvidia-", "triton"))]


def test_evalscopes_environment_is_locked_and_made_and_tested_as_the_readme_says():
    """requirements/evalscope.lock pins what requirements/evalscope.txt asks for beyond the core lock, evalscope at
    the version whose names forgetlab checks configs against; envs/evalscope.yaml installs the same with the core
    lock's torch and accelerate; the README and CI make the environment and run its tests."""
    from forgetlab.evaluate.evalscope_benchmarks import EVALSCOPE_VERSION

    lines = (ROOT / "requirements" / "evalscope.txt").read_text().splitlines()
    wanted = [Requirement(line.split("#")[0]) for line in lines if line.split("#")[0].strip()]
    pins = locked_versions((ROOT / "requirements" / "evalscope.lock").read_text())
    versions = {**LOCK, **pins}  # the environment's own, else the core's
    wrong = [str(r) for r in wanted if not r.specifier.contains(versions.get(r.name.lower(), "0"), prereleases=True)]
    assert not wrong, f"requirements/evalscope.lock disagrees with evalscope.txt (run: {REFRESH} evalscope): {wrong}"
    assert pins["evalscope"] == EVALSCOPE_VERSION
    conda = (ROOT / "envs" / "evalscope.yaml").read_text()
    assert "-c ../requirements/evalscope.lock" in conda and "-r ../requirements/evalscope.txt" in conda
    for name in ("torch", "accelerate"):
        assert f"{name}=={LOCK[name]}" in conda, name
    readme, ci = (ROOT / "README.md").read_text(), (ROOT / ".ci" / "run").read_text()
    for text in (readme, ci):
        assert "bash requirements/venv.sh evalscope" in text
        assert ".venvs/evalscope/bin/python -m pytest tests/evalscope" in text


def test_verls_environment_is_locked_and_made_and_tested_as_the_readme_says():
    """requirements/verl.lock pins verl at the release forgetlab.compat.verl was written against, and what
    requirements/verl.txt asks for; envs/verl.yaml installs the same; the README and CI make it and run its tests."""
    from forgetlab.compat.verl import WRITTEN_AGAINST

    lines = (ROOT / "requirements" / "verl.txt").read_text().splitlines()
    wanted = [Requirement(line.split("#")[0]) for line in lines if line.split("#")[0].strip()]
    pins = locked_versions((ROOT / "requirements" / "verl.lock").read_text())
    versions = {**LOCK, **pins}
    wrong = [str(r) for r in wanted if not r.specifier.contains(versions.get(r.name.lower(), "0"), prereleases=True)]
    assert not wrong, f"requirements/verl.lock disagrees with verl.txt (run: {REFRESH} verl): {wrong}"
    assert pins["verl"] == WRITTEN_AGAINST
    conda = (ROOT / "envs" / "verl.yaml").read_text()
    assert "-c ../requirements/verl.lock" in conda and "-r ../requirements/verl.txt" in conda
    for name in ("torch", "math-verify", "jsonschema"):
        assert f"{name}=={LOCK[name]}" in conda, name
    readme, ci = (ROOT / "README.md").read_text(), (ROOT / ".ci" / "run").read_text()
    for text in (readme, ci):
        assert "bash requirements/venv.sh verl" in text
        assert ".venvs/verl/bin/python -m pytest tests/verl" in text
