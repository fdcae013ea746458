#!/usr/bin/env bash
# Refreshes requirements/cpu.lock, the exact versions of forgetlab's dependencies and checks (the `test` extra)
# for a CPU machine: Linux x86-64, Python 3.11. uv resolves pyproject.toml's ranges to their newest releases; run
# the suite after refreshing, so the lock keeps saying what it passed with.
#
#   bash requirements/lock.sh                      # torch stays at the locked version
#   TORCH=2.14.0 bash requirements/lock.sh         # move torch too
#
# torch comes from PyTorch's CPU wheels (TORCH_CPU_WHEELS: that page, or a folder holding the wheel), so the lock
# carries no CUDA packages; its pin drops the +cpu label, so the same lock also constrains a GPU machine's build.
set -euo pipefail
cd "$(dirname "$0")/.."
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
