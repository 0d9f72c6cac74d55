import json

import numpy as np
import pytest

from collapse_kit.tokenizer import TOKENIZER_FILE, CharTokenizer


def test_round_trip_and_sorted_vocab():
    tok = CharTokenizer.fit("hello world\n")
    assert tok.chars == sorted(set("hello world\n"))
    ids = tok.encode("world hello")
    assert ids.dtype == np.int64
    assert tok.decode(ids) == "world hello"
    assert tok.decode(list(ids)) == "world hello"
    assert tok.decode_batch(np.stack([ids, ids])) == ["world hello"] * 2
    assert tok.vocab_size == len(set("hello world\n")) == len(tok)


def test_unknown_characters():
    tok = CharTokenizer.fit("abc")
    with pytest.raises(ValueError, match="'z'"):
        tok.encode("abz")
    assert tok.decode(tok.encode("abz", errors="ignore")) == "ab"
    with pytest.raises(ValueError, match="errors"):
        tok.encode("ab", errors="replace")
    with pytest.raises(ValueError, match="outside the vocabulary"):
        tok.decode([5])


def test_bad_inputs():
    with pytest.raises(ValueError):
        CharTokenizer.fit("")
    with pytest.raises(TypeError):
        CharTokenizer.fit(b"abc")
    with pytest.raises(ValueError, match="duplicates"):
        CharTokenizer(["a", "a"])
    with pytest.raises(ValueError, match="single characters"):
        CharTokenizer(["ab"])


def test_save_load_is_plain_json(tmp_path):
    tok = CharTokenizer.fit("Thou art ‘sweet’.\n")
    path = tok.save(tmp_path)
    assert path.name == TOKENIZER_FILE
    assert json.loads(path.read_text(encoding="utf-8"))["type"] == "char"
    again = CharTokenizer.load(tmp_path)
    assert again == tok
    assert CharTokenizer.load(path) == tok
    with pytest.raises(FileNotFoundError):
        CharTokenizer.load(tmp_path / "nothing")
