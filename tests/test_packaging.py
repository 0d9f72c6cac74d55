"""The package builds as a wheel and an sdist that pass `twine check` and install outside the source
tree; pyproject.toml and environment.yml agree; the release workflow publishes on a tag; the README's
test command is what CI runs."""
import os
import re
import shutil
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
    assert deps["torch"].replace(" ", "") in ("torch", "torch>=2.5")  # never pin: Colab/GPU users keep theirs
    assert "<9" in deps["ipywidgets"] and ">=7.7" in deps["ipywidgets"]
    # declared = tested: 3.11 runs everything, 3.13 the no-torch lessons from the wheel (scripts/test.sh)
    assert _pyproject()["project"]["requires-python"] == ">=3.11,<3.14"
    assert "py313" in (ROOT / "scripts" / "test.sh").read_text()


def test_lower_bound_environment_tests_pyprojects_floors():
    # "admitted = tested": scripts/lowerbound_env.sh installs each dependency's floor, exactly
    line = re.search(r'^FLOORS="([^"]+)"', (ROOT / "scripts" / "lowerbound_env.sh").read_text(), re.M).group(1)
    from packaging.version import Version

    pins = {k: Version(v) for k, v in (p.split("==") for p in line.split())}
    floors = {}
    for req in _pyproject()["project"]["dependencies"]:
        m = re.search(r">=\s*([0-9][0-9.]*)", req)
        if m:
            floors[_name(req)] = Version(m.group(1))
    untested = {"torch", "transformers", "ipywidgets"}   # torch: INSTALL.md; the other two: Colab's, checked below
    assert {k: v for k, v in floors.items() if k not in untested} == pins
    script = (ROOT / "scripts" / "lowerbound_env.sh").read_text()
    assert 'transformers==5.15.*' in script and "ipywidgets==7.7.1" in script
    assert floors["transformers"] == Version("5.15") and floors["ipywidgets"] == Version("7.7")


def test_binder_reads_an_exact_python_pin():
    import yaml

    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pins = [d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python")]
    assert pins and re.fullmatch(r"python=3\.\d+", pins[0]), pins


def test_release_workflow_builds_checks_and_publishes_on_a_tag():
    import yaml

    wf = yaml.safe_load((ROOT / ".github" / "workflows" / "release.yml").read_text())
    on = wf.get("on", wf.get(True))  # YAML 1.1 reads a bare `on` as True
    assert on["push"]["tags"] == ["v*"]
    build = " ".join(str(step.get("run", "")) for step in wf["jobs"]["build"]["steps"])
    assert "python -m build" in build and "twine check" in build and "GITHUB_REF_NAME" in build
    publish = wf["jobs"]["publish"]
    assert publish["permissions"]["id-token"] == "write"
    assert any(str(step.get("uses", "")).startswith("pypa/gh-action-pypi-publish") for step in publish["steps"])


def test_project_urls_and_version_source():
    proj = _pyproject()["project"]
    assert {"Homepage", "Source", "Issues"} <= set(proj["urls"])
    assert proj["dynamic"] == ["version"]


@pytest.fixture(scope="module")
def dist(tmp_path_factory):
    """wheel + sdist built (no isolation, offline) from a copy of the sources."""
    src = tmp_path_factory.mktemp("src")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(ROOT / "collapse_kit", src / "collapse_kit",
                    ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    out = src / "dist"
    proc = subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(src)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return out


def test_wheel_and_sdist_pass_twine_check(dist):
    import collapse_kit

    names = sorted(p.name for p in dist.iterdir())
    v = collapse_kit.__version__
    assert names == [f"collapse_kit-{v}-py3-none-any.whl", f"collapse_kit-{v}.tar.gz"]
    proc = subprocess.run([sys.executable, "-m", "twine", "check", "--strict", *map(str, dist.iterdir())],
                          capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout.count("PASSED") == 2, proc.stdout + proc.stderr


def test_readme_test_command_is_what_ci_runs():
    readme = (ROOT / "README.md").read_text()
    assert "make test" in readme and "make lab" in readme
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(r"^make test\b", ci, re.M)


def test_wheel_installs_and_imports_outside_the_source_tree(tmp_path, dist):
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


def test_project_lab_settings_switch_the_news_popup_off(tmp_path):
    """scripts/lab/overrides.json, copied by setup.sh into the venv, makes 'never fetch news' the default."""
    import sysconfig

    from jupyterlab_server.settings_utils import get_settings

    assert 'share/jupyter/lab/settings' in (ROOT / "scripts" / "setup.sh").read_text()
    app_settings = tmp_path / "app"
    app_settings.mkdir()
    shutil.copy(ROOT / "scripts" / "lab" / "overrides.json", app_settings / "overrides.json")
    schemas = Path(sysconfig.get_paths()["data"]) / "share" / "jupyter" / "lab" / "schemas"
    plugin = "@jupyterlab/apputils-extension:notification"
    got, _ = get_settings(str(app_settings), str(schemas), str(tmp_path / "user"), plugin)
    props = got["schema"]["properties"]
    assert props["fetchNews"]["default"] == "false" and props["checkForUpdates"]["default"] is False
    plain, _ = get_settings(str(tmp_path / "none"), str(schemas), str(tmp_path / "user"), plugin)
    assert plain["schema"]["properties"]["fetchNews"]["default"] != "false"  # JupyterLab's own default asks
