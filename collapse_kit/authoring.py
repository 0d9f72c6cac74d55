"""Authoring tool: write ``lessons/`` from ``solutions/`` and check they agree.

``solutions/NN_name.ipynb`` is the only source. Code between nbgrader-compatible
markers ::

    ### BEGIN SOLUTION
    ...
    ### END SOLUTION

is replaced in the lesson by a stub at the same indentation::

    # YOUR CODE HERE
    raise NotImplementedError()

exactly nbgrader's own stubs (in a markdown cell: ``YOUR ANSWER HERE``). Every
cell with a solution block gets nbgrader's cell metadata (``solution: true``,
a stable ``grade_id``), so ``nbgrader generate_assignment`` accepts
``solutions/`` as-is and writes the same student notebooks as ``lessons/``.
Cells tagged ``solution-only`` are left out of the lesson. The first code cell
of every notebook is the course's one setup cell, :data:`SETUP_CELL` (it pins
``collapse-kit==<collapse_kit.__version__>`` on Colab). Outputs, execution
counts and saved widget state are stripped from both copies.

Command line (run from the repository root)::

    python -m collapse_kit.authoring            # regenerate lessons/, canonical solutions/
    python -m collapse_kit.authoring --check    # exit 1 if anything would change
"""
from __future__ import annotations

import argparse
import copy
import re
import sys
from pathlib import Path

BEGIN = re.compile(r"^(?P<indent>[ \t]*)### BEGIN SOLUTION[ \t]*$")
END = re.compile(r"^[ \t]*### END SOLUTION[ \t]*$")
CODE_STUB = ["# YOUR CODE HERE", "raise NotImplementedError()"]
MARKDOWN_STUB = ["YOUR ANSWER HERE"]
SOLUTION_ONLY_TAG = "solution-only"
PROJECT_URL = "https://github.com/collapse-kit/collapse-kit"  # pyproject's [project.urls] agree (a test checks)

# The first code cell of every notebook. On Colab it installs exactly this version of the course
# package with pip constraints that pin Colab's own torch, numpy and ipywidgets; when the package
# index cannot provide it, a course wheel or checkout next to the notebook, in /content or in
# Google Drive, or a source named in COLLAPSE_KIT_SOURCE; otherwise it stops with one message.
# Off Colab it only imports collapse_kit and prints the device/mode report.
SETUP_CELL = r'''# Setup. On Colab: installs this course's package, collapse-kit==@VERSION@, next to Colab's own
# torch, numpy and ipywidgets (pinned: pip may not replace them). Elsewhere: see INSTALL.md.
COLLAPSE_KIT_SOURCE = ""  # optional: a course wheel, a course folder or a pip URL to install from
import sys
if "google.colab" in sys.modules:
    import glob, importlib, importlib.metadata as md, itertools, os, subprocess, tempfile
    def _pip_install(target):
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as pins:
            for name in ("torch", "numpy", "ipywidgets"):
                try:
                    pins.write(f"{name}=={md.version(name)}\n")
                except md.PackageNotFoundError:
                    pass
        run = subprocess.run([sys.executable, "-m", "pip", "install", "-c", pins.name, target],
                             capture_output=True, text=True)
        print(f"pip install {target}:", "done" if run.returncode == 0 else "not possible")
        return run.returncode == 0
    def _course_copies():  # wheels, then checkouts: next to the notebook, in /content, in Google Drive
        roots = [".", "..", "/content", "/content/drive/MyDrive"]
        for r in roots:
            for pattern in ("", "*/", "*/dist/", "dist/"):
                yield from sorted(glob.glob(f"{r}/{pattern}collapse_kit-@VERSION@-*.whl"))
        for r in roots:
            for folder in [r] + sorted(glob.glob(f"{r}/*/")):
                if os.path.isfile(f"{folder}/pyproject.toml") and os.path.isfile(f"{folder}/collapse_kit/__init__.py"):
                    yield os.path.abspath(folder)
    try:
        have = md.version("collapse-kit")
    except md.PackageNotFoundError:
        have = None
    if have != "@VERSION@":
        sources = [COLLAPSE_KIT_SOURCE] if COLLAPSE_KIT_SOURCE else []
        if not any(map(_pip_install, itertools.chain(sources, ["collapse-kit==@VERSION@"], _course_copies()))):
            raise SystemExit(
                "collapse-kit @VERSION@ is not installed: the package index does not have it and no course "
                "wheel or folder was found.\nDo one of these, then run this cell again:\n"
                " 1. upload collapse_kit-@VERSION@-py3-none-any.whl (@URL@/releases) to Colab's Files\n"
                "    pane, or put it in Google Drive and mount Drive (Files pane > Mount Drive);\n"
                " 2. or run  !git clone @URL@ /content/collapse-kit  in a cell;\n"
                " 3. or set COLLAPSE_KIT_SOURCE above to a wheel, a course folder or a pip URL.")
        importlib.invalidate_caches()
try:
    import collapse_kit as ck
except ModuleNotFoundError as missing:
    if missing.name != "collapse_kit":
        raise
    raise SystemExit("collapse_kit is not installed in this kernel: run `make lab` in the course folder, "
                     "or see INSTALL.md.") from None
info = ck.setup(seed=0)'''


def setup_cell_source() -> str:
    """The course's setup cell (the first code cell of every notebook), for this version."""
    from . import __version__

    return SETUP_CELL.replace("@VERSION@", __version__).replace("@URL@", PROJECT_URL)


def is_setup_cell(cell) -> bool:
    """True for a setup cell, the canonical one or an older one (guarded Colab install)."""
    return cell.cell_type == "code" and (cell.source.startswith("# Setup")
                                         or '"google.colab" in sys.modules' in cell.source)


class AuthoringError(ValueError):
    """A solutions notebook that the tool cannot turn into a lesson."""


def stub_source(source: str, cell_type: str = "code", where: str = "cell") -> str:
    """Replace every marked solution block in one cell's source by a stub."""
    out: list[str] = []
    inside = False
    indent = ""
    for lineno, line in enumerate(source.split("\n"), start=1):
        m = BEGIN.match(line)
        if not m and not END.match(line) and ("BEGIN SOLUTION" in line or "END SOLUTION" in line):
            raise AuthoringError(f"{where}: line {lineno} mentions a solution marker inside other text; nbgrader "
                                 "would treat the line as a marker. Keep the markers on lines of their own "
                                 "and rephrase the text (e.g. 'nbgrader's solution markers').")
        if m:
            if inside:
                raise AuthoringError(f"{where}: line {lineno} opens a solution block inside another one; "
                                     "close the first with '### END SOLUTION'.")
            inside, indent = True, m.group("indent")
            stub = CODE_STUB if cell_type == "code" else MARKDOWN_STUB
            out.extend(indent + s for s in stub)
            continue
        if END.match(line):
            if not inside:
                raise AuthoringError(f"{where}: line {lineno} has '### END SOLUTION' without a BEGIN.")
            inside = False
            continue
        if not inside:
            out.append(line)
    if inside:
        raise AuthoringError(f"{where}: a '### BEGIN SOLUTION' block is never closed; add '### END SOLUTION'.")
    return "\n".join(out)


def strip_notebook(nb):
    """Remove outputs, execution counts and saved widget state (in place); return nb."""
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        for key in ("execution", "collapsed", "scrolled", "ExecuteTime"):
            cell.metadata.pop(key, None)
    nb.metadata.pop("widgets", None)
    return nb


def has_solution(source: str) -> bool:
    """True if a cell's source holds a solution block."""
    return any(BEGIN.match(line) for line in source.split("\n"))


def prepare_solution(nb, name: str = "notebook"):
    """Canonical form of a solutions notebook (in place; returns nb).

    The first code cell becomes :func:`setup_cell_source` (an older setup cell
    is replaced, otherwise the cell is inserted before the first code cell),
    every cell with a solution block gets nbgrader's solution-cell metadata
    (its ``grade_id`` is kept once set: ``<name>-<cell id>``), and outputs are
    stripped.
    """
    from nbformat.v4 import new_code_cell

    code = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    if code and is_setup_cell(nb.cells[code[0]]):
        nb.cells[code[0]].source = setup_cell_source()
    else:
        nb.cells.insert(code[0] if code else len(nb.cells), new_code_cell(setup_cell_source()))
    stem = Path(name).stem.split("_")[0]
    for i, cell in enumerate(nb.cells):
        if cell.cell_type not in ("code", "markdown"):
            continue
        stub_source(cell.source, cell.cell_type, where=f"{name}, cell {i}")  # validates the markers
        if has_solution(cell.source):
            old = cell.metadata.get("nbgrader", {})
            grade_id = old.get("grade_id") or f"{stem}-{cell.get('id') or i}"
            cell.metadata["nbgrader"] = {"grade": False, "grade_id": grade_id, "locked": False,
                                         "schema_version": 3, "solution": True, "task": False}
        else:
            cell.metadata.pop("nbgrader", None)
    return strip_notebook(nb)


def make_lesson(nb, name: str = "notebook"):
    """A lesson notebook (new object) from a (prepared) solutions notebook."""
    lesson = copy.deepcopy(nb)
    cells = []
    for i, cell in enumerate(lesson.cells):
        if SOLUTION_ONLY_TAG in cell.metadata.get("tags", []):
            continue
        if cell.cell_type in ("code", "markdown"):
            cell.source = stub_source(cell.source, cell.cell_type, where=f"{name}, cell {i}")
        cells.append(cell)
    lesson.cells = cells
    return strip_notebook(lesson)


def _dump(nb) -> str:
    import nbformat

    return nbformat.writes(nb, version=4) + "\n"


def sync(root: str | Path = ".", *, check: bool = False, only: str | None = None) -> list[str]:
    """Regenerate ``lessons/`` from ``solutions/`` (and put ``solutions/`` in canonical form).

    Canonical form: the course's setup cell first, nbgrader metadata on solution
    cells, outputs stripped (see :func:`prepare_solution`).

    With ``check=True`` nothing is written; the return value lists every file
    that differs from what the tool would write (empty when all is in sync).
    ``only`` restricts the work to notebooks whose name starts with it (e.g. ``"02"``).
    """
    import nbformat

    root = Path(root)
    sol_dir, les_dir = root / "solutions", root / "lessons"
    if not sol_dir.is_dir():
        raise AuthoringError(f"no solutions/ folder under {root.resolve()}; run from the repository root.")
    drift: list[str] = []
    expected_lessons = set()
    for sol_path in sorted(sol_dir.glob("*.ipynb")):
        if only is not None and not sol_path.name.startswith(only):
            expected_lessons.add(sol_path.name)
            continue
        text = sol_path.read_text(encoding="utf-8")
        nb = prepare_solution(nbformat.reads(text, as_version=4), sol_path.name)
        clean_sol = _dump(nb)
        lesson_text = _dump(make_lesson(nb, sol_path.name))
        les_path = les_dir / sol_path.name
        expected_lessons.add(les_path.name)
        for path, want in ((sol_path, clean_sol), (les_path, lesson_text)):
            have = path.read_text(encoding="utf-8") if path.exists() else None
            if have != want:
                drift.append(str(path.relative_to(root)))
                if not check:
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_text(want, encoding="utf-8")
    if les_dir.is_dir():
        for extra in sorted(les_dir.glob("*.ipynb")):
            if extra.name not in expected_lessons:
                drift.append(str(extra.relative_to(root)) + " (no matching solution)")
    return drift


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m collapse_kit.authoring", description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="only report drift; exit 1 if any")
    parser.add_argument("--root", default=".", help="repository root (default: current folder)")
    parser.add_argument("--only", default=None, help="only notebooks whose name starts with this (e.g. 02)")
    args = parser.parse_args(argv)
    try:
        drift = sync(args.root, check=args.check, only=args.only)
    except AuthoringError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.check:
        if drift:
            print("lessons/ or solutions/ are out of date (run `python -m collapse_kit.authoring`):")
            for d in drift:
                print("  ", d)
            return 1
        print("lessons/ and solutions/ are in sync, outputs stripped.")
        return 0
    for d in drift:
        print("wrote", d)
    if not drift:
        print("nothing to do: lessons/ and solutions/ already in sync.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
