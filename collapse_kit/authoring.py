"""Authoring tool: write ``lessons/`` from ``solutions/`` and check they agree.

``solutions/NN_name.ipynb`` is the only source. Code between nbgrader-compatible
markers ::

    ### BEGIN SOLUTION
    ...
    ### END SOLUTION

is replaced in the lesson by a stub at the same indentation::

    # YOUR CODE HERE
    raise NotImplementedError()

(In a markdown cell the block becomes ``*Your answer here.*``.) Cells tagged
``solution-only`` are left out of the lesson. Outputs, execution counts and
saved widget state are stripped from both copies.

Command line (run from the repository root)::

    python -m collapse_kit.authoring            # regenerate lessons/, strip solutions/
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
MARKDOWN_STUB = ["*Your answer here.*"]
SOLUTION_ONLY_TAG = "solution-only"


class AuthoringError(ValueError):
    """A solutions notebook that the tool cannot turn into a lesson."""


def stub_source(source: str, cell_type: str = "code", where: str = "cell") -> str:
    """Replace every marked solution block in one cell's source by a stub."""
    out: list[str] = []
    inside = False
    indent = ""
    for lineno, line in enumerate(source.split("\n"), start=1):
        m = BEGIN.match(line)
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


def make_lesson(nb, name: str = "notebook"):
    """A lesson notebook (new object) from a solutions notebook."""
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
    """Regenerate ``lessons/`` from ``solutions/`` (and strip ``solutions/``).

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
        nb = nbformat.reads(text, as_version=4)
        clean_sol = _dump(strip_notebook(copy.deepcopy(nb)))
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
