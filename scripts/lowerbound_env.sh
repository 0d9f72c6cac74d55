#!/usr/bin/env bash
# The lower-bound test environment: the oldest versions the package admits (pyproject.toml), as an
# overlay venv on top of the main venv's packages: what Colab runs (transformers 5.15, ipywidgets 7.7.1)
# and the floors of numpy, scipy, pandas, matplotlib, seaborn, scikit-learn, tqdm, tokenizers and
# safetensors (each the oldest release that works with numpy 2; tests/test_packaging.py checks that
# these pins are pyproject.toml's floors). torch is the exception: no CPU wheel of torch 2.5 (its
# floor, transformers' own) is installable here, so torch comes from .venv (see INSTALL.md).
# Its own site-packages come first on sys.path (the base is added with site.addsitedir, so its
# .pth files, e.g. the editable install of collapse_kit, work too): `import transformers` gives
# 5.15 and `import ipywidgets` 7.7.1, while everything else (numpy, torch, jupyter, collapse_kit)
# comes from .venv. scripts/test.sh runs the unit tests, the widget notebooks and lessons 05-06 here.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
LB=${LB_VENV:-.venv-lowerbound}
base_site=$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
if [ ! -x "$LB/bin/python" ]; then
  "$VENV/bin/python" -m venv --without-pip "$LB"
fi
site=$("$LB/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
echo "import site; site.addsitedir('$base_site')" > "$site/_collapse_kit_base.pth"
check='import huggingface_hub, ipywidgets, transformers, tokenizers, sys
import numpy, scipy, pandas, matplotlib, seaborn, sklearn, tqdm, safetensors
got = {m.__name__: m.__version__ for m in (numpy, scipy, pandas, matplotlib, seaborn, sklearn, tqdm, safetensors, tokenizers)}
want = dict(p.split("==") for p in sys.argv[1].split())
want["sklearn"] = want.pop("scikit-learn")
ok = (ipywidgets.__version__ == "7.7.1" and transformers.__version__.startswith("5.15.")
      and all(got[k] == v for k, v in want.items()))
print("lower bounds: ipywidgets", ipywidgets.__version__, "| transformers", transformers.__version__,
      "| tokenizers", tokenizers.__version__,
      "| huggingface-hub", huggingface_hub.__version__, "|", " ".join(f"{k} {v}" for k, v in got.items()))
sys.exit(0 if ok else 1)'
# the floors of pyproject.toml's dependencies (one line: tests/test_packaging.py reads it)
FLOORS="numpy==2.0.0 scipy==1.13.0 pandas==2.2.2 matplotlib==3.9.0 seaborn==0.13.0 scikit-learn==1.4.2 tqdm==4.66.0 tokenizers==0.22.0 safetensors==0.8.0"
if ! "$LB/bin/python" -c "$check" "$FLOORS" >/dev/null 2>&1; then
  # --no-deps: every other requirement is met by .venv (transformers 5.15 wants tokenizers<=0.23.0, huggingface-hub<2)
  "$VENV/bin/python" -m pip install --disable-pip-version-check -q --no-warn-script-location --no-deps \
    --target "$site" --upgrade "transformers==5.15.*" "huggingface-hub>=1.5,<2.0" \
    ipywidgets==7.7.1 "widgetsnbextension==3.6.*" "jupyterlab_widgets==1.1.*" "ipython_genutils==0.2.0" \
    $FLOORS pytz  # pytz: pandas 2 needs it, pandas 3 (in .venv) does not
fi
"$LB/bin/python" -c "$check" "$FLOORS"
