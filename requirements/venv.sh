#!/usr/bin/env bash
# Makes .venvs/NAME anew, an environment of its own for a backend whose pins clash with the core install (evalscope
# needs transformers < 5, verl < 5.11; forgetlab's core needs 5.23 or later). It sees the core install's packages
# (torch among them, so pip pulls no CUDA build) and adds requirements/NAME.txt at requirements/NAME.lock's
# versions, which shadow the core's where they differ (bash requirements/lock.sh NAME refreshes that lock).
#
#   bash requirements/venv.sh evalscope      # then: .venvs/evalscope/bin/python -m pytest tests/evalscope
set -euo pipefail
cd "$(dirname "$0")/.."
name=${1:?usage: bash requirements/venv.sh NAME (a requirements/NAME.txt)}
[ -f "requirements/$name.txt" ] || { echo "no requirements/$name.txt" >&2; exit 2; }
# no pip of its own: the core's installs into it, and the core's setuptools (torch's floor) stays in sight instead of
# the older one a venv is seeded with
python -m venv --clear --without-pip --system-site-packages ".venvs/$name"
constraints=()
# UNLOCKED=1: the newest versions that fit (requirements/lock.sh NAME, to refresh the lock)
[ -f "requirements/$name.lock" ] && [ -z "${UNLOCKED:-}" ] && constraints=(-c "requirements/$name.lock")
".venvs/$name/bin/python" -m pip install --quiet "${constraints[@]}" -r "requirements/$name.txt"
echo "made .venvs/$name"
