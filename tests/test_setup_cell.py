"""The notebooks' setup cell, run for real in a fresh environment with Colab faked.

Each case runs the cell (``authoring.setup_cell_source()``, the text every notebook starts with)
in a new interpreter of a fresh venv with nothing installed but fake distributions of Colab's
torch, numpy and ipywidgets. ``google.colab`` is a stub module and ``python -m pip`` is a fake
that records every call (with its constraint file) and "installs" a stand-in collapse_kit when
the scenario lets that target succeed. ``/content`` is redirected to a folder of the test.
"""
import json
import os
import subprocess
import sys
import textwrap
import tomllib
import venv
from pathlib import Path

import pytest

import collapse_kit
from collapse_kit import authoring

ROOT = Path(__file__).resolve().parents[1]
V = collapse_kit.__version__
COLAB_PINS = {"torch": "2.5.1+cu121", "numpy": "2.0.2", "ipywidgets": "7.7.1"}

FAKE_PIP = textwrap.dedent('''
    import json, os, sys, sysconfig
    args = sys.argv[1:]
    cons = args[args.index("-c") + 1] if "-c" in args else None
    target = args[-1]
    with open(os.environ["FAKE_PIP_LOG"], "a") as log:
        log.write(json.dumps({"args": args, "constraints": open(cons).read() if cons else None}) + "\\n")
    ok = os.environ.get("FAKE_PIP_OK", "")
    kind = ("index" if target.startswith("collapse-kit==") else "wheel" if target.endswith(".whl")
            else "folder" if os.path.isdir(target) else "source")
    if kind not in ok.split(","):
        print("ERROR: No matching distribution found for", target, file=sys.stderr)
        sys.exit(1)
    site = sysconfig.get_paths()["purelib"]
    os.makedirs(f"{site}/collapse_kit", exist_ok=True)
    with open(f"{site}/collapse_kit/__init__.py", "w") as f:
        f.write("def setup(seed):\\n    print('FAKE SETUP from', %r)\\n    return {}\\n" % kind)
    os.makedirs(f"{site}/collapse_kit-VERSION.dist-info", exist_ok=True)
    with open(f"{site}/collapse_kit-VERSION.dist-info/METADATA", "w") as f:
        f.write("Metadata-Version: 2.1\\nName: collapse-kit\\nVersion: VERSION\\n")
''').replace("VERSION", V)


def _dist(site: Path, name: str, version: str):
    d = site / f"{name}-{version}.dist-info"
    d.mkdir()
    (d / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")


@pytest.fixture(scope="module")
def fresh_venv(tmp_path_factory):
    """A venv without pip or anything else, holding only Colab's (fake) torch, numpy, ipywidgets."""
    env_dir = tmp_path_factory.mktemp("colab") / "venv"
    venv.create(env_dir, with_pip=False)
    return env_dir


def _run(fresh_venv, tmp_path, *, ok="", source="", colab=True, installed=False, files=()):
    site = Path(subprocess.check_output([str(fresh_venv / "bin" / "python"), "-c",
                                         "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                        text=True).strip())
    # each case starts clean: only the fake Colab distributions
    for p in site.iterdir():
        if p.name.startswith(("collapse_kit", "torch-", "numpy-", "ipywidgets-")):
            subprocess.run(["rm", "-rf", str(p)], check=True)
    for name, version in COLAB_PINS.items():
        _dist(site, name, version)
    stubs = tmp_path / "stubs"
    (stubs / "google" / "colab").mkdir(parents=True)
    (stubs / "google" / "__init__.py").write_text("")
    (stubs / "google" / "colab" / "__init__.py").write_text("")
    (stubs / "pip").mkdir()
    (stubs / "pip" / "__init__.py").write_text("")
    (stubs / "pip" / "__main__.py").write_text(FAKE_PIP)
    if installed:
        fake_pip = [str(fresh_venv / "bin" / "python"), str(stubs / "pip" / "__main__.py")]
        subprocess.run([*fake_pip, "install", f"collapse-kit=={V}"],
                       env={**os.environ, "FAKE_PIP_LOG": os.devnull, "FAKE_PIP_OK": "index"}, check=True)
    content = tmp_path / "content"
    notebook_dir = content / "course_notebooks"  # where the notebook runs (its working folder)
    notebook_dir.mkdir(parents=True)
    for rel in files:
        f = tmp_path / rel
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text("")
    cell = authoring.setup_cell_source().replace('"/content', f'"{content}')
    cell = cell.replace('COLLAPSE_KIT_SOURCE = ""', f'COLLAPSE_KIT_SOURCE = {source!r}')
    driver = ("import google.colab\n" if colab else "") + cell
    log = tmp_path / "pip.jsonl"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PIP_FIND_LINKS")}
    env.update(PYTHONPATH=str(stubs), FAKE_PIP_LOG=str(log), FAKE_PIP_OK=ok, MPLBACKEND="Agg")
    proc = subprocess.run([str(fresh_venv / "bin" / "python"), "-c", driver], cwd=notebook_dir, env=env,
                          capture_output=True, text=True, timeout=60)
    calls = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    for call in calls:  # never torch, numpy or ipywidgets without a pin to the installed version
        pins = dict(line.split("==") for line in call["constraints"].split())
        assert pins == COLAB_PINS, call
        for arg in call["args"]:
            assert not arg.startswith(("torch", "numpy", "ipywidgets")), call
        assert call["args"][:1] == ["install"] and "--upgrade" not in call["args"] and "-U" not in call["args"]
    return proc, [c["args"][-1] for c in calls], content


def test_index_works_installs_exactly_the_pinned_version(fresh_venv, tmp_path):
    proc, targets, _ = _run(fresh_venv, tmp_path, ok="index")
    assert proc.returncode == 0, proc.stderr
    assert targets == [f"collapse-kit=={V}"]
    assert "FAKE SETUP from index" in proc.stdout


def test_index_fails_wheel_next_to_the_notebook(fresh_venv, tmp_path):
    wheel = f"content/course_notebooks/collapse_kit-{V}-py3-none-any.whl"
    proc, targets, content = _run(fresh_venv, tmp_path, ok="wheel", files=[wheel, "content/other-1.0-py3-none-any.whl"])
    assert proc.returncode == 0, proc.stderr
    assert targets == [f"collapse-kit=={V}", f"./collapse_kit-{V}-py3-none-any.whl"]
    assert "FAKE SETUP from wheel" in proc.stdout


def test_index_fails_wheel_in_google_drive(fresh_venv, tmp_path):
    wheel = f"content/drive/MyDrive/collapse-kit/dist/collapse_kit-{V}-py3-none-any.whl"
    proc, targets, content = _run(fresh_venv, tmp_path, ok="wheel", files=[wheel])
    assert proc.returncode == 0, proc.stderr
    drive_dist = content / "drive" / "MyDrive" / "collapse-kit" / "dist"
    assert targets == [f"collapse-kit=={V}", f"{drive_dist}/collapse_kit-{V}-py3-none-any.whl"]


def test_index_fails_checkout_in_content(fresh_venv, tmp_path):
    checkout = ["content/collapse-kit/pyproject.toml", "content/collapse-kit/collapse_kit/__init__.py"]
    proc, targets, content = _run(fresh_venv, tmp_path, ok="folder", files=checkout)
    assert proc.returncode == 0, proc.stderr
    assert targets == [f"collapse-kit=={V}", str(content / "collapse-kit")]
    assert "FAKE SETUP from folder" in proc.stdout


def test_the_learners_source_variable_comes_first(fresh_venv, tmp_path):
    src = "git+https://example.org/course/collapse-kit@main"
    proc, targets, _ = _run(fresh_venv, tmp_path, ok="source", source=src)
    assert proc.returncode == 0, proc.stderr
    assert targets == [src]


def test_nothing_found_stops_with_one_clear_message(fresh_venv, tmp_path):
    proc, targets, _ = _run(fresh_venv, tmp_path, ok="")
    assert targets == [f"collapse-kit=={V}"]
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr and "FAKE SETUP" not in proc.stdout
    msg = proc.stderr
    assert f"collapse-kit {V} is not installed" in msg and "run this cell again" in msg
    for what in (f"collapse_kit-{V}-py3-none-any.whl", "Mount Drive", "git clone", "COLLAPSE_KIT_SOURCE"):
        assert what in msg, what


def test_already_installed_version_installs_nothing(fresh_venv, tmp_path):
    proc, targets, _ = _run(fresh_venv, tmp_path, ok="", installed=True)
    assert proc.returncode == 0, proc.stderr
    assert targets == []


def test_off_colab_it_only_imports_and_reports(tmp_path):
    """Outside Colab the cell never calls pip: it imports collapse_kit and prints the device report."""
    log = tmp_path / "pip.jsonl"
    stubs = tmp_path / "stubs" / "pip"
    stubs.mkdir(parents=True)
    (stubs / "__init__.py").write_text("")
    (stubs / "__main__.py").write_text(FAKE_PIP)
    env = {**os.environ, "PYTHONPATH": str(stubs.parent), "FAKE_PIP_LOG": str(log), "MPLBACKEND": "Agg"}
    proc = subprocess.run([sys.executable, "-c", authoring.setup_cell_source()], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert f"collapse_kit {V} | device:" in proc.stdout
    assert not log.exists()


def test_the_pin_is_the_package_version_one_source_of_truth():
    cell = authoring.setup_cell_source()
    assert f'"collapse-kit=={V}"' in cell and "@VERSION@" not in cell
    proj = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert "version" not in proj and "version" in proj["dynamic"]
    tool = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["dynamic"]
    assert tool["version"] == {"attr": "collapse_kit.__version__"}
    assert authoring.PROJECT_URL in proj["urls"].values()
