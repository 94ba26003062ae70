#!/usr/bin/env bash
# The README's first command: installs what is missing, then builds and runs
# the demo program (a heap, a few layouts, misuse caught, destroy).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
exec bazel run --color=no --curses=no //examples:demo
