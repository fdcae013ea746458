#!/usr/bin/env bash
# Refreshes requirements/cpu.lock, the exact versions of forgetlab's dependencies and checks (the `test` extra)
# for a CPU machine: Linux x86-64, Python 3.11. uv resolves pyproject.toml's ranges to their newest releases; run
# the suite after refreshing, so the lock keeps saying what it passed with.
#
#   bash requirements/lock.sh                      # torch stays at the locked version
#   TORCH=2.14.0 bash requirements/lock.sh         # move torch too
#   bash requirements/lock.sh evalscope            # requirements/evalscope.lock instead (see below)
#
# torch comes from PyTorch's CPU wheels (TORCH_CPU_WHEELS: that page, or a folder holding the wheel), so the lock
# carries no CUDA packages; its pin drops the +cpu label, so the same lock also constrains a GPU machine's build.
#
# With a NAME, the lock of .venvs/NAME (requirements/venv.sh) instead: that environment is made anew at the newest
# versions that fit requirements/NAME.txt over this machine's core install, and requirements/venv_lock.py writes
# down what it adds to the core. It is resolved against the installed core, so install the core at cpu.lock first
# (README: Install; a core package at another version is named), then run its tests in the new environment.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -gt 0 ]; then
    name=$1
    UNLOCKED=1 bash requirements/venv.sh "$name"
    trap 'rm -f "requirements/$name.lock.tmp"' EXIT
    ".venvs/$name/bin/python" requirements/venv_lock.py "$name" >"requirements/$name.lock.tmp"
    mv "requirements/$name.lock.tmp" "requirements/$name.lock"
    echo "wrote requirements/$name.lock"
    exit
fi
lock=requirements/cpu.lock
torch=${TORCH:-$(sed -n 's/^torch==\([0-9.]*\).*/\1/p' "$lock")}
python -m pip install --quiet "uv>=0.13"
override=$(mktemp)
trap 'rm -f "$override"' EXIT
echo "torch==$torch+cpu" >"$override"
python -m uv pip compile pyproject.toml --extra test --python-version 3.11 --python-platform x86_64-manylinux_2_28 \
    --find-links "${TORCH_CPU_WHEELS:-https://download.pytorch.org/whl/cpu/torch/}" --override "$override" \
    --custom-compile-command "bash requirements/lock.sh" --no-emit-package forgetlab --quiet --output-file "$lock"
sed -i 's/^torch==\([0-9.]*\)+cpu$/torch==\1/' "$lock"
echo "wrote $lock (torch $torch)"
