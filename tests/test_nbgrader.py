"""nbgrader for real: its own ``generate_assignment`` accepts every solution notebook and writes
the same student notebooks as the authoring tool writes to ``lessons/``."""
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from collapse_kit import authoring

pytest.importorskip("nbgrader")
ROOT = Path(__file__).resolve().parents[1]


def _cells(nb):
    return [(c.cell_type, c.source) for c in nb.cells]


@pytest.fixture(scope="module")
def released(tmp_path_factory):
    """solutions/ in canonical form (the authoring tool on a copy), released by nbgrader."""
    root = tmp_path_factory.mktemp("repo")
    shutil.copytree(ROOT / "solutions", root / "solutions")
    authoring.sync(root)
    course = tmp_path_factory.mktemp("course")
    shutil.copytree(root / "solutions", course / "source" / "course")
    proc = subprocess.run([sys.executable, "-m", "nbgrader", "generate_assignment", "course", "--no-db",
                           "--force", f"--CourseDirectory.root={course}"], capture_output=True, text=True,
                          cwd=course, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return root, course / "release" / "course"


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(p.name for p in (ROOT / "solutions").glob("*.ipynb")))
def test_nbgrader_release_equals_the_lesson(released, name):
    root, release = released
    student = nbformat.read(release / name, as_version=4)
    lesson = nbformat.read(root / "lessons" / name, as_version=4)
    assert _cells(student) == _cells(lesson)  # (a `solution-only` cell would differ: nbgrader keeps it)
    solution_cells = [c for c in nbformat.read(root / "solutions" / name, as_version=4).cells
                      if authoring.has_solution(c.source)]
    assert solution_cells, "every lesson has at least one exercise"
    ids = [c.metadata["nbgrader"]["grade_id"] for c in solution_cells]
    assert len(set(ids)) == len(ids)


def test_nbgrader_rejects_a_solution_cell_without_metadata(tmp_path):
    """Negative control: without the metadata the tool writes, nbgrader refuses the notebook."""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION")])
    (tmp_path / "source" / "a").mkdir(parents=True)
    nbformat.write(nb, tmp_path / "source" / "a" / "x.ipynb")
    proc = subprocess.run([sys.executable, "-m", "nbgrader", "generate_assignment", "a", "--no-db", "--force",
                           f"--CourseDirectory.root={tmp_path}"], capture_output=True, text=True, cwd=tmp_path,
                          timeout=300)
    assert proc.returncode != 0 and "Solution region detected in a non-solution cell" in proc.stderr
