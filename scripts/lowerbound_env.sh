#!/usr/bin/env bash
# The lower-bound test environment: the oldest versions the package admits that Colab runs,
# transformers 5.15 and ipywidgets 7.7.1, as an overlay venv on top of the main venv's packages.
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
ok = ipywidgets.__version__ == "7.7.1" and transformers.__version__.startswith("5.15.")
print("lower bounds: ipywidgets", ipywidgets.__version__, "| transformers", transformers.__version__,
      "| tokenizers", tokenizers.__version__,
      "| huggingface-hub", huggingface_hub.__version__); sys.exit(0 if ok else 1)'
if ! "$LB/bin/python" -c "$check" >/dev/null 2>&1; then
  # --no-deps: every other requirement is met by .venv (transformers 5.15 wants tokenizers<=0.23.0, huggingface-hub<2)
  "$VENV/bin/python" -m pip install --disable-pip-version-check -q --no-warn-script-location --no-deps \
    --target "$site" --upgrade "transformers==5.15.*" "tokenizers>=0.22,<=0.23.0" "huggingface-hub>=1.5,<2.0" \
    ipywidgets==7.7.1 "widgetsnbextension==3.6.*" "jupyterlab_widgets==1.1.*" "ipython_genutils==0.2.0"
fi
"$LB/bin/python" -c "$check"
