"""The package installs as a proper wheel; pyproject.toml and environment.yml agree;
the README's test command is what CI runs."""
import os
import re
import subprocess
import sys
import tomllib
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CONDA_TO_PYPI = {"pytorch": "torch", "python-build": "build"}


def _name(req: str) -> str:
    return re.split(r"[<>=!~\[ ;]", req.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _pyproject():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_environment_yml_lists_the_same_packages_as_pyproject():
    import yaml

    proj = _pyproject()["project"]
    wanted = {_name(r) for r in proj["dependencies"] + proj["optional-dependencies"]["dev"]}
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    have = set()
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            have |= {_name(p) for p in dep["pip"] if not p.startswith("-e")}
        else:
            name = _name(dep)
            if name not in ("python", "pip"):
                have.add(CONDA_TO_PYPI.get(name, name))
    assert wanted == have, f"only in pyproject: {wanted - have}; only in environment.yml: {have - wanted}"


def test_requirements_are_loose_enough_for_colab():
    deps = {_name(r): r for r in _pyproject()["project"]["dependencies"]}
    assert deps["torch"].replace(" ", "") in ("torch", "torch>=2.4")  # never pin: Colab/GPU users keep theirs
    assert "<9" in deps["ipywidgets"] and ">=7.7" in deps["ipywidgets"]
    assert _pyproject()["project"]["requires-python"] == ">=3.11,<3.14"


def test_readme_test_command_is_what_ci_runs():
    readme = (ROOT / "README.md").read_text()
    assert "make test" in readme and "make lab" in readme
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(r"^make test\b", ci, re.M)


@pytest.mark.slow
def test_wheel_builds_installs_and_imports_outside_the_source_tree(tmp_path):
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(dist), str(ROOT)], check=True)
    wheels = list(dist.glob("collapse_kit-*.whl"))
    assert len(wheels) == 1
    import zipfile

    names = zipfile.ZipFile(wheels[0]).namelist()
    assert "collapse_kit/loop.py" in names and "collapse_kit/exercises/lesson01.py" in names
    assert not any(n.startswith(("tests/", "solutions/", "lessons/")) for n in names)
    data_files = [p.relative_to(ROOT).as_posix() for p in (ROOT / "collapse_kit" / "data").rglob("*")
                  if p.is_file() and "__pycache__" not in p.parts]
    for f in data_files:
        assert f in names, f"{f} missing from the wheel"
    # a clean venv: the wheel alone, its light dependencies borrowed read-only from this env
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=False)
    site = next(env_dir.glob("lib/python*/site-packages"))
    borrow = [p for p in sys.path if p.endswith("site-packages")]
    (site / "_borrow.pth").write_text("\n".join(borrow) + "\n")
    py = env_dir / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site / "_wheel"),
                    str(wheels[0])], check=True)
    # the wheel's folder must come before the editable source install of this env
    (site / "_aaa_wheel_first.pth").write_text(str(site / "_wheel") + "\n")
    code = ("import collapse_kit, importlib.resources as r, pathlib; "
            "p = pathlib.Path(collapse_kit.__file__); print(p); "
            "assert '_wheel' in str(p), p; "
            "from collapse_kit import loop, gaussian, checks, authoring, widgets, plots; "
            "print(sorted(x.name for x in r.files('collapse_kit').joinpath('data').iterdir()) "
            "if r.files('collapse_kit').joinpath('data').is_dir() else [])")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    out = subprocess.run([str(py), "-c", code], cwd=tmp_path, capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    assert "_wheel" in out.stdout
