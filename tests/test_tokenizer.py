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


def test_bpe_round_trip_merges_and_disk(tmp_path):
    from collapse_kit.tokenizer import BPE_FILE, BPETokenizer, load_tokenizer

    text = "To be, or not to be, that is the question.\nWhether 'tis nobler in the mind to suffer\n" * 40
    tok = BPETokenizer.fit(text, vocab_size=300)
    assert 256 < tok.vocab_size <= 300 and len(tok) == tok.vocab_size
    ids = tok.encode("To be, or not to be")
    assert ids.dtype == np.int64 and len(ids) < len("To be, or not to be") / 2  # words became tokens
    assert tok.decode(ids) == "To be, or not to be"
    odd = "Ünïcødé ✓ never seen\ttabs"  # byte-level: any text round-trips, nothing is unknown
    assert tok.decode(tok.encode(odd)) == odd
    assert "".join(tok.pieces("the question")) == "the question"
    assert BPETokenizer.fit(text, vocab_size=300) == tok  # deterministic
    tok.save(tmp_path)
    assert (tmp_path / BPE_FILE).is_file() and load_tokenizer(tmp_path) == tok
    assert load_tokenizer(tmp_path / "nothing") is None
    with pytest.raises(ValueError, match="vocab_size"):
        BPETokenizer.fit(text, vocab_size=100)
    with pytest.raises(ValueError, match="outside the vocabulary"):
        tok.decode([tok.vocab_size])
    with pytest.raises(FileNotFoundError):
        BPETokenizer.load(tmp_path / "missing")
