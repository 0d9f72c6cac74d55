#!/usr/bin/env bash
# Lessons 00-02, 04 and 08 (no torch) under Python 3.13, from the built wheel, outside the source tree:
# build the wheel, install it with its non-torch requirements into a fresh .venv-py313, and run
# copies of the notebooks with nbval from a temporary folder. (Lesson 03 trains a VAE, so it imports
# torch through collapse_kit.images; torch and the GPT lessons are tested on 3.11, whose CPU wheel we have.)
#   PY313=/path/to/python3.13 bash scripts/py313_wheel.sh [extra pytest args]
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
VENV=${VENV:-.venv}
PY313=${PY313:-$(ls -d "$(pyenv root 2>/dev/null || echo /nonexistent)"/versions/3.13.*/bin/python 2>/dev/null | tail -1)}
if [ -z "$PY313" ] || ! "$PY313" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13))' 2>/dev/null; then
  echo "error: no Python 3.13 found; set PY313=/path/to/python3.13" >&2
  exit 1
fi
P13=${P13_VENV:-$ROOT/.venv-py313}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "==> building the wheel"
mkdir -p "$work/src"
cp pyproject.toml README.md "$work/src/"
cp -r collapse_kit "$work/src/"
"$VENV/bin/python" -m build --no-isolation --wheel --outdir "$work/dist" "$work/src" >/dev/null
wheel=$(ls "$work"/dist/collapse_kit-*.whl)
[ -x "$P13/bin/python" ] || "$PY313" -m venv "$P13"
# the wheel's requirements without torch, transformers and safetensors (no CPU torch wheel for 3.13 here)
mapfile -t deps < <("$P13/bin/python" - "$ROOT/pyproject.toml" <<'PY'
import re, sys, tomllib
for dep in tomllib.load(open(sys.argv[1], "rb"))["project"]["dependencies"]:
    if re.split(r"[<>=!~ \[]", dep)[0] not in ("torch", "transformers", "safetensors"):
        print(dep)
PY
)
echo "==> installing $(basename "$wheel") on $("$P13/bin/python" -V) (no torch)"
"$P13/bin/python" -m pip install --disable-pip-version-check -q "${deps[@]}" pytest pytest-xdist nbval ipykernel nbformat
"$P13/bin/python" -m pip install --disable-pip-version-check -q --no-deps --force-reinstall "$wheel"
mkdir "$work/run"
cp solutions/0[01248]_*.ipynb "$work/run/"
cd "$work/run"
"$P13/bin/python" -c 'import collapse_kit as c; assert "site-packages" in c.__file__, c.__file__; print("from", c.__file__)'
# torch is absent here, so a lesson that imported it (even indirectly) would fail
if "$P13/bin/python" -c 'import torch' 2>/dev/null; then echo "error: torch is installed in $P13" >&2; exit 1; fi
COLLAPSE_KIT_QUICK=1 MPLBACKEND=Agg "$P13/bin/python" -m pytest -p no:cacheprovider -q --nbval-lax --nbval-current-env \
  ./*.ipynb "$@"
