#!/usr/bin/env bash
# The whole test suite, as `make test` and CI run it (after scripts/setup.sh):
#   1. unit tests + every notebook in lessons/ and solutions/ under nbval, quick mode, 2 workers;
#   2. the widget tests and widget notebooks again under ipywidgets 7.7.1 (Colab's version).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
export COLLAPSE_KIT_QUICK=1 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 MPLBACKEND=Agg
export COLLAPSE_KIT_CACHE=${COLLAPSE_KIT_CACHE:-$PWD/.cache/collapse_kit}
WORKERS=${WORKERS:-2}
# one compute thread per test worker: two workers each running torch with 2 threads on 2 cores
# oversubscribe the CPU and made the GPT notebooks ~15x slower
if [ "$WORKERS" -gt 1 ]; then export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}; fi
start=$(date +%s)

echo "==> [1/2] unit tests and notebooks (nbval, quick mode, $WORKERS workers)"
"$VENV/bin/python" -m pytest -n "$WORKERS" --dist loadfile --nbval-lax --nbval-current-env \
  --durations=15 tests lessons solutions "$@"

echo "==> [2/2] widgets under ipywidgets 7.7.1 (Colab)"
bash scripts/ipywidgets7_env.sh
IW7=${IW7_VENV:-.venv-ipywidgets7}
# solutions only: a lesson runs the same widget code, with exercise stubs in place of answers
mapfile -t widget_nbs < <(grep -l -E "explorer\(|Explorer\(" solutions/*.ipynb || true)
COLLAPSE_KIT_EXPECT_IPYWIDGETS=7.7.1 "$IW7/bin/python" -m pytest -n "$WORKERS" --dist loadfile --nbval-lax --nbval-current-env \
  -k "widget or explorer or ipynb" tests "${widget_nbs[@]}"

echo "==> all tests passed in $(( $(date +%s) - start )) s"
