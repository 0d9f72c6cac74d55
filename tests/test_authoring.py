import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from collapse_kit import authoring

ROOT = Path(__file__).resolve().parents[1]


def test_stub_keeps_indentation_and_code_around():
    src = "def f(x):\n    y = 1\n    ### BEGIN SOLUTION\n    return x + y\n    ### END SOLUTION\n\nprint('ok')"
    out = authoring.stub_source(src)
    assert out == "def f(x):\n    y = 1\n    # YOUR CODE HERE\n    raise NotImplementedError()\n\nprint('ok')"
    compile(out, "<lesson>", "exec")


def test_markdown_blocks_become_an_answer_prompt():
    out = authoring.stub_source("Why?\n### BEGIN SOLUTION\nBecause.\n### END SOLUTION", "markdown")
    assert out == "Why?\n*Your answer here.*"


@pytest.mark.parametrize("src, match", [
    ("### BEGIN SOLUTION\nx", "never closed"),
    ("x\n### END SOLUTION", "without a BEGIN"),
    ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION", "inside another"),
])
def test_unbalanced_markers_are_reported(src, match):
    with pytest.raises(authoring.AuthoringError, match=match):
        authoring.stub_source(src, where="x.ipynb, cell 3")


def _write_solution(root: Path):
    nb = new_notebook(cells=[
        new_markdown_cell("# T"),
        new_code_cell("def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION"),
        new_code_cell("secret = 42", metadata={"tags": ["solution-only"]}),
    ])
    nb.cells[1].outputs = [nbformat.v4.new_output("stream", text="hi")]
    nb.cells[1].execution_count = 3
    (root / "solutions").mkdir()
    nbformat.write(nb, root / "solutions" / "01_x.ipynb")


def test_sync_writes_lessons_strips_and_check_mode(tmp_path):
    _write_solution(tmp_path)
    drift = authoring.sync(tmp_path, check=True)
    assert "lessons/01_x.ipynb" in drift and "solutions/01_x.ipynb" in drift  # outputs not yet stripped
    authoring.sync(tmp_path)
    assert authoring.sync(tmp_path, check=True) == []
    lesson = nbformat.read(tmp_path / "lessons" / "01_x.ipynb", as_version=4)
    assert len(lesson.cells) == 2 and "NotImplementedError" in lesson.cells[1].source
    sol = nbformat.read(tmp_path / "solutions" / "01_x.ipynb", as_version=4)
    assert sol.cells[1].outputs == [] and sol.cells[1].execution_count is None
    # hand-editing a lesson is drift
    (tmp_path / "lessons" / "01_x.ipynb").write_text((tmp_path / "lessons" / "01_x.ipynb").read_text() + " ")
    assert authoring.sync(tmp_path, check=True) == ["lessons/01_x.ipynb"]
    (tmp_path / "lessons" / "99_orphan.ipynb").write_text("{}")
    assert any("orphan" in d for d in authoring.sync(tmp_path, check=True))


def test_repository_lessons_are_in_sync_with_solutions():
    """The committed lessons/ are exactly what the tool generates from solutions/."""
    proc = subprocess.run([sys.executable, "-m", "collapse_kit.authoring", "--check", "--root", str(ROOT)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_repository_notebooks_have_no_outputs_and_pair_up():
    lessons = sorted(p.name for p in (ROOT / "lessons").glob("*.ipynb"))
    solutions = sorted(p.name for p in (ROOT / "solutions").glob("*.ipynb"))
    assert lessons == solutions and len(solutions) >= 2
    for folder in ("lessons", "solutions"):
        for path in (ROOT / folder).glob("*.ipynb"):
            nb = json.loads(path.read_text())
            for cell in nb["cells"]:
                if cell["cell_type"] == "code":
                    assert cell["outputs"] == [] and cell["execution_count"] is None, path
            assert "widgets" not in nb["metadata"], path


def test_every_lesson_starts_with_title_and_guarded_setup():
    for path in sorted((ROOT / "solutions").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# "), path
        setup = nb.cells[1].source
        assert nb.cells[1].cell_type == "code" and '"google.colab" in sys.modules' in setup, path
        assert "ck.setup(" in setup, path
        for forbidden in ("install -q torch", "install torch", "ipywidgets==", "numpy=="):
            assert forbidden not in setup, (path, forbidden)
