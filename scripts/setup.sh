#!/usr/bin/env bash
# Create (or update) the course's virtual environment: ./.venv by default.
#
#   bash scripts/setup.sh            # what `make lab` and `make test` run first
#
# Environment variables:
#   PYTHON          the interpreter to build the venv from (default: python3; needs 3.11-3.13)
#   VENV            where the venv lives (default: .venv)
#   TORCH_SPEC      the torch to install when none is present (default: torch==2.13.0)
#   TORCH_INDEX_URL an extra package index for torch. Default: on Linux without an NVIDIA GPU
#                   (no nvidia-smi), PyTorch's CPU-only index https://download.pytorch.org/whl/cpu
#                   (a 190 MB wheel instead of 500 MB plus several GB of CUDA libraries); elsewhere none.
#                   TORCH_INDEX_URL=none always uses your normal package index.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}
TORCH_SPEC=${TORCH_SPEC:-torch==2.13.0}
CPU_INDEX=https://download.pytorch.org/whl/cpu

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
# the project's JupyterLab settings (no "news" pop-up), as defaults of this venv's JupyterLab only
lab_settings="$VENV/share/jupyter/lab/settings"
mkdir -p "$lab_settings" && cp scripts/lab/overrides.json "$lab_settings/overrides.json"
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
  if [ -z "${TORCH_INDEX_URL:-}" ] && [ "$(uname -s)" = Linux ] && ! command -v nvidia-smi >/dev/null 2>&1; then
    echo "==> no NVIDIA GPU here (no nvidia-smi): installing the CPU build of torch from PyTorch's CPU index"
    echo "    ($CPU_INDEX: a 190 MB wheel instead of PyPI's 500 MB one plus several GB of CUDA libraries)."
    echo "    Override: TORCH_INDEX_URL=<index> or TORCH_INDEX_URL=none (your normal index), TORCH_SPEC=<spec>."
    # a short probe, so that offline machines and CI (whose registry mirrors the CPU wheel) do not wait
    if timeout 10 "$VENV/bin/python" -c "import urllib.request as u; u.urlopen('$CPU_INDEX/torch/', timeout=5)" \
         >/dev/null 2>&1; then
      TORCH_INDEX_URL=$CPU_INDEX
    else
      echo "    $CPU_INDEX is not reachable from here: using your normal package index instead."
    fi
  fi
  echo "==> installing $TORCH_SPEC${TORCH_INDEX_URL:+ (extra index: $TORCH_INDEX_URL)}"
  if [ -n "${TORCH_INDEX_URL:-}" ] && [ "$TORCH_INDEX_URL" != none ]; then
    "${PIP[@]}" install --progress-bar on "$TORCH_SPEC" --extra-index-url "$TORCH_INDEX_URL"
  else
    "${PIP[@]}" install --progress-bar on "$TORCH_SPEC"
  fi
fi
echo "==> installing collapse-kit (editable) with the course tools"
"${PIP[@]}" install --progress-bar on -e ".[dev]"
echo "$want" > "$stamp"
"$VENV/bin/python" -c "import collapse_kit as ck; print(ck.runtime.device_report())"
