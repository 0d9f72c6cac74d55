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
    assert out == "Why?\nYOUR ANSWER HERE"  # nbgrader's own text stub


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
    # the setup cell is inserted before the first code cell; the solution-only cell is left out
    assert len(lesson.cells) == 3 and lesson.cells[1].source == authoring.setup_cell_source()
    assert "NotImplementedError" in lesson.cells[2].source
    sol = nbformat.read(tmp_path / "solutions" / "01_x.ipynb", as_version=4)
    assert sol.cells[2].outputs == [] and sol.cells[2].execution_count is None
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


def test_every_lesson_starts_with_title_and_the_setup_cell():
    for folder in ("solutions", "lessons"):
        for path in sorted((ROOT / folder).glob("*.ipynb")):
            nb = nbformat.read(path, as_version=4)
            assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# "), path
            first_code = next(c for c in nb.cells if c.cell_type == "code")
            assert first_code.source == authoring.setup_cell_source(), path


def test_setup_cell_is_put_first_and_replaces_an_old_one(tmp_path):
    """On a copy of the repository's solutions: the old setup cell is replaced, a missing one inserted."""
    import shutil

    shutil.copytree(ROOT / "solutions", tmp_path / "solutions")
    path = sorted((tmp_path / "solutions").glob("01_*.ipynb"))[0]
    nb = nbformat.read(path, as_version=4)
    nb.cells[1].source = ('import sys\nif "google.colab" in sys.modules:\n    %pip install -q collapse-kit\n'
                          "import collapse_kit as ck\ninfo = ck.setup(seed=0)")
    n = len(nb.cells)
    nbformat.write(nb, path)
    authoring.sync(tmp_path, only="01")
    for folder in ("solutions", "lessons"):
        out = nbformat.read(tmp_path / folder / path.name, as_version=4)
        assert len(out.cells) == n and out.cells[1].source == authoring.setup_cell_source()
    nb = new_notebook(cells=[new_markdown_cell("# T"), new_code_cell("x = 1")])
    authoring.prepare_solution(nb)
    assert [c.source for c in nb.cells] == ["# T", authoring.setup_cell_source(), "x = 1"]


def test_solution_cells_get_nbgrader_metadata_with_a_stable_id():
    nb = new_notebook(cells=[new_code_cell("def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION"),
                             new_code_cell("y = 2", metadata={"nbgrader": {"solution": True}})])
    authoring.prepare_solution(nb, "07_x.ipynb")
    meta = nb.cells[1].metadata["nbgrader"]
    assert meta == {"grade": False, "grade_id": f"07-{nb.cells[1].id}", "locked": False, "schema_version": 3,
                    "solution": True, "task": False}
    assert "nbgrader" not in nb.cells[0].metadata and "nbgrader" not in nb.cells[2].metadata  # setup, plain
    nb.cells[1].id = "changed"
    authoring.prepare_solution(nb, "07_x.ipynb")
    assert nb.cells[1].metadata["nbgrader"]["grade_id"] == meta["grade_id"]  # kept once set


def test_a_marker_quoted_inside_text_is_refused():
    with pytest.raises(authoring.AuthoringError, match="mentions a solution marker"):
        authoring.stub_source("carry `### BEGIN SOLUTION` / `### END SOLUTION` markers", "markdown")
