#!/usr/bin/env bash
# The project's test command (README, .ci/run): install the Debian packages the tests need
# (only those missing), set up .venv with the dev requirements, lint (ruff, settings in
# pyproject.toml), then run the whole suite.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/ensure_system_packages.sh"
bash "$root/scripts/ensure_venv.sh" requirements-dev.txt
cd "$root"
.venv/bin/python -m ruff check .
exec .venv/bin/python -m pytest -q -p no:cacheprovider --timeout=600 tests "$@"
