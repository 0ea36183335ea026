#!/usr/bin/env bash
# The report's browser test (tests/planner/test_report_html.py) opens report.html in Debian's Chromium through
# Playwright. Install Debian's `chromium` package when /usr/bin/chromium is missing, and the `playwright` Python
# package into the venv when it cannot be imported; do nothing otherwise. Never runs `playwright install`: the test
# drives /usr/bin/chromium (executable_path), and Playwright's own browser downloads are blocked here.
# Usage: scripts/ensure-chromium.sh [path/to/python]   (default: .venv/bin/python of this repository)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
python="${1:-$root/.venv/bin/python}"
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "ensure-chromium: no /usr/bin/chromium and not root; install Debian's 'chromium' package" >&2
    exit 1
  fi
  echo "ensure-chromium: installing Debian's chromium package for the report's browser test" >&2
  export DEBIAN_FRONTEND=noninteractive
  # update the package lists only when apt has none (or the first install attempt cannot find the package)
  if ! compgen -G "/var/lib/apt/lists/*_Packages" >/dev/null; then
    apt-get update -qq
  fi
  if ! apt-get install -y -qq chromium >/dev/null; then
    apt-get update -qq
    apt-get install -y -qq chromium >/dev/null
  fi
  if [ ! -x /usr/bin/chromium ]; then
    echo "ensure-chromium: installed 'chromium' but found no /usr/bin/chromium" >&2
    exit 1
  fi
fi
if ! "$python" -c "import playwright.sync_api" 2>/dev/null; then
  echo "ensure-chromium: installing the playwright Python package into $("$python" -c 'import sys; print(sys.prefix)')" >&2
  "$python" -m pip install -q "playwright>=1.40,<2"
fi
/usr/bin/chromium --version 2>/dev/null
"$python" -c "import importlib.metadata as m; print('playwright', m.version('playwright'))"
