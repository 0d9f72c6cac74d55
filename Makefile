# collapse-kit: the two commands of the README.
#   make lab    set up .venv (first time only) and open JupyterLab on lessons/
#   make test   set up .venv and run the whole test suite in quick mode
.PHONY: lab test setup lessons check-lessons bench clean

setup:
	bash scripts/setup.sh

# (--allow-root only where you really are root, e.g. in a container)
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)

lab: setup
	.venv/bin/jupyter lab $(ROOT_FLAG) $(LAB_ARGS) lessons/

test: setup
	bash scripts/test.sh

# regenerate lessons/ from solutions/ (and strip outputs) after editing a solution
lessons: setup
	.venv/bin/python -m collapse_kit.authoring

check-lessons: setup
	.venv/bin/python -m collapse_kit.authoring --check

bench: setup
	for b in benchmarks/bench_*.py; do echo "== $$b"; .venv/bin/python $$b || exit 1; done

clean:
	rm -rf .venv .venv-ipywidgets7 .cache test-artifacts build dist *.egg-info
