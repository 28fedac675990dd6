#!/usr/bin/env bash
# Install the Debian packages the renderer and the tests need, only those missing:
# fonts (CJK and Latin) for the renderer and the UI, Chromium for the HTML renders and the
# browser test, poppler for the PDF renders. As root it installs them with apt-get; as
# another user it stops and prints the exact apt-get line to run.
# Usage: bash scripts/ensure_system_packages.sh
set -euo pipefail
pkgs=(
    fonts-noto-cjk fonts-wqy-microhei fonts-wqy-zenhei fonts-dejavu fonts-liberation2 fonts-urw-base35
    fonts-freefont-ttf fonts-arphic-ukai fonts-arphic-uming fonts-roboto fonts-open-sans fonts-cantarell
    fonts-noto-core chromium chromium-driver poppler-utils
)
if ! command -v dpkg >/dev/null 2>&1; then
    echo "ensure_system_packages: not a Debian/Ubuntu system (no dpkg); install the equivalents of:" >&2
    echo "  ${pkgs[*]}" >&2
    exit 1
fi
missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
line="apt-get install -y ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
    echo "ensure_system_packages: missing Debian packages; run as root:" >&2
    echo "  apt-get update && $line" >&2
    exit 1
fi
echo "installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq "${missing[@]}" >/dev/null
fc-cache -f >/dev/null 2>&1 || true
