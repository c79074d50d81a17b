#!/usr/bin/env bash
# Install grappe with every extra and run the whole check: ruff, mypy, then the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install --quiet --disable-pip-version-check -e '.[dev]'
python3 -m ruff check src tests bench scripts
python3 -m mypy
python3 -m pytest "$@"
