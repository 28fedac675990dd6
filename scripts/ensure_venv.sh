#!/usr/bin/env bash
# Create .venv at the repository root and (re)install a requirements file when it changed.
# Usage: bash scripts/ensure_venv.sh requirements.txt|requirements-dev.txt
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
req="${1:-requirements.txt}"
cd "$root"
python_bin="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    echo "creating virtual environment in $root/.venv"
    "$python_bin" -m venv .venv
fi
# Hash every requirements file the chosen one pulls in, so an edit to either re-installs.
stamp=".venv/.installed-$(basename "$req")"
want="$(cat requirements*.txt | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "installing $req into .venv (first run or requirements changed)"
    .venv/bin/python -m pip install --disable-pip-version-check -q -U pip
    .venv/bin/python -m pip install --disable-pip-version-check -q -r "$req"
    # The recognition model's wheel, without its dependencies (opencv-python would clash with
    # opencv-python-headless; we only read its model files). Optional: detection works without it.
    .venv/bin/python -m pip install --disable-pip-version-check -q --no-deps -r requirements-nodeps.txt \
        || echo "warning: requirements-nodeps.txt not installed: text recognition (--recognize) is unavailable" >&2
    # OpenVINO runs the int8 model about 2x faster than ONNX Runtime on CPUs with AMX (README,
    # "The default backend"); elsewhere it was no faster, so it is installed only there.
    if [ "$req" = requirements.txt ] && grep -qw amx_int8 /proc/cpuinfo 2>/dev/null; then
        .venv/bin/python -m pip install --disable-pip-version-check -q -r requirements-openvino.txt \
            || echo "warning: requirements-openvino.txt not installed: ONNX Runtime runs the int8 model" >&2
    fi
    echo "$want" > "$stamp"
fi
