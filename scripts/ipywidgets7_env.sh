#!/usr/bin/env bash
# An overlay venv with Colab's ipywidgets (7.7.1) on top of the main venv's packages.
# Its own site-packages come first on sys.path (the base is added with site.addsitedir, so its
# .pth files, e.g. the editable install of collapse_kit, work too): `import ipywidgets` gives 7.7.1 while
# everything else (numpy, torch, jupyter, the editable collapse_kit) comes from .venv.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
IW7=${IW7_VENV:-.venv-ipywidgets7}
base_site=$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
if [ ! -x "$IW7/bin/python" ]; then
  "$VENV/bin/python" -m venv --without-pip "$IW7"
fi
site=$("$IW7/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
echo "import site; site.addsitedir('$base_site')" > "$site/_collapse_kit_base.pth"
if ! "$IW7/bin/python" -c 'import ipywidgets, sys; sys.exit(ipywidgets.__version__ != "7.7.1")' 2>/dev/null \
   || [ ! -d "$site/ipywidgets" ]; then
  "$VENV/bin/python" -m pip install --disable-pip-version-check -q --no-warn-script-location --no-deps --target "$site" \
    ipywidgets==7.7.1 "widgetsnbextension==3.6.*" "jupyterlab_widgets==1.1.*" "ipython_genutils==0.2.0"
fi
"$IW7/bin/python" -c 'import ipywidgets; assert ipywidgets.__version__ == "7.7.1", ipywidgets.__version__; print("ipywidgets", ipywidgets.__version__, "overlay ready")'
