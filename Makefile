# collapse-kit: the two commands of the README.
#   make lab    set up .venv (first time only) and open JupyterLab on lessons/
#   make test   set up .venv and run the whole test suite in quick mode
.PHONY: sweep-full lab test setup lessons check-lessons dist bench base-gpt test-slow clean

setup:
	bash scripts/setup.sh

# (--allow-root only where you really are root, e.g. in a container)
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)

# JupyterLab with the project's own settings (scripts/lab/overrides.json, copied into the venv by
# setup: no "news" pop-up); your own JupyterLab settings still apply on top.
lab: setup
	.venv/bin/jupyter lab $(ROOT_FLAG) $(LAB_ARGS) lessons/

test: setup
	bash scripts/test.sh

# regenerate lessons/ from solutions/ (and strip outputs) after editing a solution
lessons: setup
	.venv/bin/python -m collapse_kit.authoring

check-lessons: setup
	.venv/bin/python -m collapse_kit.authoring --check

# the release files (wheel + sdist) in dist/, checked as PyPI will (the release workflow does the same)
dist: setup
	rm -rf dist && .venv/bin/python -m build --outdir dist . && .venv/bin/python -m twine check --strict dist/*

# rebuild the shipped base GPT of lessons 05-07 (about 40 minutes on 2 CPU cores; writes collapse_kit/data/base_gpt/)
base-gpt: setup
	.venv/bin/python scripts/build_base_gpt.py

# the long checks that CI does not run: the build script reproduces the shipped base GPT (about 40 minutes)
test-slow: setup
	COLLAPSE_KIT_SLOW=1 COLLAPSE_KIT_QUICK=1 HF_HUB_OFFLINE=1 OMP_NUM_THREADS=1 .venv/bin/python -m pytest -q \
	  tests/test_base_build.py tests/test_seed_sweep_lesson03.py tests/test_seed_sweep_lesson06.py \
	  tests/test_seed_sweep_lesson05.py::test_lesson05_character_model_asserts_hold_for_many_seeds \
	  tests/test_seed_sweep_lesson07_watermark.py \
	  tests/test_seed_sweep_lesson08.py::test_lesson08_neural_flow_holds_for_many_seeds

# one-off full-mode pass rates of the neural notebook asserts (what `make test-slow` sweeps at quick sizes),
# SEEDS seeds from FIRST, WORKERS side by side: for a GPU or many-core machine. CPU time per seed on the 2-core
# test machine (two sweeps side by side): lesson 05's character model about 4 min (the `cpu` preset
# pre-trained again), lesson 03 about 2.3 min, lesson 06's main run 3 to 6 min, lesson 08's flow about 1.5 min,
# lesson 07's filter run about 70 s and its watermark checks about 1 min, lesson 06's decoding arms about
# 5 min: about 20 CPU-minutes a seed, roughly 32 CPU-hours for 100 seeds of everything
# (benchmarks/RESULTS.md, "Seed sweeps")
FIRST ?= 100
SEEDS ?= 100
WORKERS ?= 12
sweep-full: setup
	cd tests && COLLAPSE_KIT_QUICK=0 HF_HUB_OFFLINE=1 MPLBACKEND=Agg OMP_NUM_THREADS=1 ../.venv/bin/python \
	  sweep_pass_rates.py $(FIRST) $(SEEDS) --workers $(WORKERS) test_seed_sweep_lesson03 test_seed_sweep_lesson05 \
	  test_seed_sweep_lesson06 test_seed_sweep_lesson07_watermark test_seed_sweep_lesson08 \
	  --only nb03_all_asserts --only nb05_character_model_asserts --only nb06_main_run_asserts \
	  --only nb06_decoding_asserts --only nb07_watermark_detection --only nb07_filter_run_asserts \
	  --only nb08_neural_flow_fixed_set_delays_fresh_prevents

bench: setup
	for b in benchmarks/bench_*.py; do echo "== $$b"; .venv/bin/python $$b || exit 1; done

clean:
	rm -rf .venv .venv-ipywidgets7 .venv-lowerbound .venv-py313 .cache test-artifacts build dist *.egg-info
