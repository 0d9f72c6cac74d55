#!/usr/bin/env bash
# Create (or update) the course's virtual environment: ./.venv by default.
#
#   bash scripts/setup.sh            # what `make lab` and `make test` run first
#
# Environment variables:
#   PYTHON          the interpreter to build the venv from (default: python3; needs 3.11-3.13)
#   VENV            where the venv lives (default: .venv)
#   TORCH_SPEC      the torch to install when none is present (default: torch==2.13.0)
#   TORCH_INDEX_URL an extra package index for torch, e.g. PyTorch's CPU-only wheel index
#                   on Linux laptops without a GPU (much smaller download than PyPI's CUDA build)
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}
TORCH_SPEC=${TORCH_SPEC:-torch==2.13.0}

if ! command -v "$PYTHON" >/dev/null 2>&1; then
  echo "error: $PYTHON not found. Install Python 3.11-3.13 or set PYTHON=/path/to/python3." >&2
  exit 1
fi
if ! "$PYTHON" -c 'import sys; sys.exit(0 if (3, 11) <= sys.version_info[:2] <= (3, 13) else 1)'; then
  echo "error: collapse-kit needs Python 3.11-3.13; $PYTHON is $("$PYTHON" -V 2>&1). Set PYTHON=..." >&2
  exit 1
fi
if [ ! -x "$VENV/bin/python" ]; then
  echo "==> creating virtual environment $VENV"
  "$PYTHON" -m venv "$VENV"
fi
PIP=("$VENV/bin/python" -m pip --disable-pip-version-check)
stamp="$VENV/.collapse-kit-installed"
want="$(cat pyproject.toml scripts/setup.sh | sha256sum 2>/dev/null || shasum -a 256 pyproject.toml scripts/setup.sh)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && "$VENV/bin/python" -c "import collapse_kit, torch" 2>/dev/null; then
  echo "==> $VENV is up to date"
  exit 0
fi
# torch first, and only if absent: a GPU machine's or Colab's own torch is left alone, and a
# pinned release keeps pip from pulling the newest multi-GB build.
if ! "$VENV/bin/python" -c "import torch" 2>/dev/null; then
  echo "==> installing $TORCH_SPEC"
  if [ -n "${TORCH_INDEX_URL:-}" ]; then
    "${PIP[@]}" install "$TORCH_SPEC" --extra-index-url "$TORCH_INDEX_URL"
  else
    "${PIP[@]}" install "$TORCH_SPEC"
  fi
fi
echo "==> installing collapse-kit (editable) with the course tools"
"${PIP[@]}" install -q -e ".[dev]"
echo "$want" > "$stamp"
"$VENV/bin/python" -c "import collapse_kit as ck; print(ck.runtime.device_report())"
