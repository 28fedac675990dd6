#!/usr/bin/env bash
# Set up .venv when needed, then serve the WebUI (default http://0.0.0.0:7860).
# Options go to `python -m app serve`, e.g. `bash start_app.sh --port 8080 --auth user:pass`.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bash "$root/scripts/ensure_venv.sh" requirements.txt
cd "$root"
exec .venv/bin/python -m app serve "$@"
