#!/usr/bin/env bash
# The Python environment of the browser and client-library tests: .venv with tests/browser/requirements.txt
# from PyPI (Selenium drives Debian's /usr/bin/chromedriver; nothing else is downloaded). Re-installs only when
# the requirements change. Prints the interpreter's path.
set -euo pipefail
cd "$(dirname "$0")/.."
requirements=tests/browser/requirements.txt
stamp=.venv/.requirements
if [ ! -x .venv/bin/python ] || ! cmp -s "$requirements" "$stamp"; then
  python3 -m venv .venv >&2
  .venv/bin/pip install -q --disable-pip-version-check -r "$requirements" >&2
  cp "$requirements" "$stamp"
fi
echo "$PWD/.venv/bin/python"
