"""A character-level tokenizer that needs no download.

Every distinct character of the training text is one token, as in nanoGPT's
``shakespeare_char``: Shakespeare's plays need about 65-100 tokens. It is saved
beside the model as a small JSON file and reloaded with it.

>>> tok = CharTokenizer.fit("to be or not to be")
>>> tok.decode(tok.encode("be not"))
'be not'
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from ._validate import check_choice

TOKENIZER_FILE = "char_tokenizer.json"


class CharTokenizer:
    """Map characters to integer ids and back.

    Parameters
    ----------
    chars : sequence of str
        The vocabulary, one single character per entry, no duplicates. Token id
        ``i`` is ``chars[i]``.
    """

    def __init__(self, chars: Sequence[str]):
        chars = list(chars)
        if not chars:
            raise ValueError("`chars` must hold at least one character.")
        for c in chars:
            if not isinstance(c, str) or len(c) != 1:
                raise ValueError(f"`chars` must hold single characters (got {c!r}).")
        if len(set(chars)) != len(chars):
            raise ValueError("`chars` must not contain duplicates.")
        self.chars = chars
        self.stoi = {c: i for i, c in enumerate(chars)}

    # ------------------------------------------------------------------ build
    @classmethod
    def fit(cls, text: str) -> "CharTokenizer":
        """The tokenizer whose vocabulary is the sorted set of characters in ``text``."""
        if not isinstance(text, str):
            raise TypeError(f"`text` must be a str (got {type(text).__name__}).")
        if not text:
            raise ValueError("`text` must not be empty.")
        return cls(sorted(set(text)))

    @property
    def vocab_size(self) -> int:
        return len(self.chars)

    def __len__(self) -> int:
        return len(self.chars)

    def __repr__(self) -> str:
        return f"CharTokenizer(vocab_size={self.vocab_size})"

    def __eq__(self, other) -> bool:
        return isinstance(other, CharTokenizer) and other.chars == self.chars

    # ------------------------------------------------------------------ use
    def encode(self, text: str, errors: str = "strict") -> np.ndarray:
        """Token ids of ``text`` as an int64 array.

        ``errors="strict"`` raises a ``ValueError`` naming the first unknown
        character; ``errors="ignore"`` drops unknown characters.
        """
        if not isinstance(text, str):
            raise TypeError(f"`text` must be a str (got {type(text).__name__}).")
        check_choice("errors", errors, ("strict", "ignore"))
        if errors == "ignore":
            return np.array([self.stoi[c] for c in text if c in self.stoi], dtype=np.int64)
        try:
            return np.array([self.stoi[c] for c in text], dtype=np.int64)
        except KeyError as exc:
            raise ValueError(f"`text` contains the character {exc.args[0]!r}, which is not in the "
                             f"vocabulary of {self.vocab_size} characters; pass errors='ignore' "
                             "to drop unknown characters.") from None

    def decode(self, ids: Iterable[int]) -> str:
        """The text of a sequence of token ids (list, numpy array or torch tensor)."""
        if hasattr(ids, "tolist"):
            ids = ids.tolist()
        out = []
        for i in ids:
            i = int(i)
            if not 0 <= i < self.vocab_size:
                raise ValueError(f"token id {i} is outside the vocabulary [0, {self.vocab_size - 1}].")
            out.append(self.chars[i])
        return "".join(out)

    def decode_batch(self, batch) -> list[str]:
        """Decode each row of a 2-D array of ids."""
        return [self.decode(row) for row in batch]

    # ------------------------------------------------------------------ disk
    def save(self, directory) -> Path:
        """Write ``tokenizer.json`` into ``directory`` (created if needed); return its path."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / TOKENIZER_FILE
        path.write_text(json.dumps({"type": "char", "chars": self.chars}, ensure_ascii=False), encoding="utf-8")
        return path

    @classmethod
    def load(cls, path) -> "CharTokenizer":
        """Read a tokenizer saved by :meth:`save` (a folder or the JSON file itself)."""
        path = Path(path)
        if path.is_dir():
            path = path / TOKENIZER_FILE
        if not path.is_file():
            raise FileNotFoundError(f"no tokenizer at {path}; save one with CharTokenizer.save(folder).")
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("type") != "char":
            raise ValueError(f"{path} is not a character-level tokenizer (type={data.get('type')!r}).")
        return cls(data["chars"])


BPE_FILE = "bpe_tokenizer.json"


class BPETokenizer:
    """A byte-level BPE tokenizer trained locally (Hugging Face ``tokenizers``, no download).

    Byte-pair encoding starts from the 256 byte values and merges the most frequent
    adjacent pair again and again until the vocabulary has ``vocab_size`` tokens, so
    common words become one token (``" the"``) and rare ones a few pieces
    (``" qu" + "estion"``). This is how GPT-2 and OPT (the paper's model) read text;
    with 2,048 tokens 64 tokens are about 170 characters of Shakespeare, a phrase or
    two, close to the paper's 64-token blocks. Any text can be encoded (no unknown
    characters), and decoding gives the text back exactly.

    >>> tok = BPETokenizer.fit("to be or not to be " * 50, vocab_size=300)
    >>> tok.decode(tok.encode("be not"))
    'be not'
    """

    def __init__(self, tokenizer):
        from tokenizers import Tokenizer

        if not isinstance(tokenizer, Tokenizer):
            raise TypeError(f"`tokenizer` must be a tokenizers.Tokenizer (got {type(tokenizer).__name__}).")
        self.tokenizer = tokenizer

    @classmethod
    def fit(cls, text: str, vocab_size: int = 2048) -> "BPETokenizer":
        """Train a byte-level BPE vocabulary of ``vocab_size`` tokens on ``text`` (seconds, deterministic)."""
        from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

        if not isinstance(text, str):
            raise TypeError(f"`text` must be a str (got {type(text).__name__}).")
        if not text:
            raise ValueError("`text` must not be empty.")
        if not isinstance(vocab_size, (int, np.integer)) or isinstance(vocab_size, bool) or not 257 <= vocab_size <= 65536:
            raise ValueError(f"`vocab_size` must be an int in [257, 65536] (got {vocab_size!r}).")
        tok = Tokenizer(models.BPE())
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        tok.decoder = decoders.ByteLevel()
        trainer = trainers.BpeTrainer(vocab_size=int(vocab_size), show_progress=False,
                                      initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
        tok.train_from_iterator([text], trainer)
        return cls(tok)

    @property
    def vocab_size(self) -> int:
        return self.tokenizer.get_vocab_size()

    def __len__(self) -> int:
        return self.vocab_size

    def __repr__(self) -> str:
        return f"BPETokenizer(vocab_size={self.vocab_size})"

    def __eq__(self, other) -> bool:
        return isinstance(other, BPETokenizer) and other.tokenizer.to_str() == self.tokenizer.to_str()

    def encode(self, text: str, errors: str = "strict") -> np.ndarray:
        """Token ids of ``text`` as an int64 array (every text can be encoded; ``errors`` is accepted
        for the same call as :meth:`CharTokenizer.encode`)."""
        if not isinstance(text, str):
            raise TypeError(f"`text` must be a str (got {type(text).__name__}).")
        check_choice("errors", errors, ("strict", "ignore"))
        return np.asarray(self.tokenizer.encode(text).ids, dtype=np.int64)

    def decode(self, ids: Iterable[int]) -> str:
        """The text of a sequence of token ids (list, numpy array or torch tensor)."""
        if hasattr(ids, "tolist"):
            ids = ids.tolist()
        ids = [int(i) for i in ids]
        bad = [i for i in ids if not 0 <= i < self.vocab_size]
        if bad:
            raise ValueError(f"token id {bad[0]} is outside the vocabulary [0, {self.vocab_size - 1}].")
        return self.tokenizer.decode(ids)

    def decode_batch(self, batch) -> list[str]:
        """Decode each row of a 2-D array of ids."""
        return [self.decode(row) for row in batch]

    def pieces(self, text: str) -> list[str]:
        """The text of each token of ``text`` (to show how BPE cuts words)."""
        return [self.decode([i]) for i in self.encode(text)]

    def save(self, directory) -> Path:
        """Write ``bpe_tokenizer.json`` into ``directory`` (created if needed); return its path."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / BPE_FILE
        path.write_text(self.tokenizer.to_str(), encoding="utf-8")
        return path

    @classmethod
    def load(cls, path) -> "BPETokenizer":
        """Read a tokenizer saved by :meth:`save` (a folder or the JSON file itself)."""
        from tokenizers import Tokenizer

        path = Path(path)
        if path.is_dir():
            path = path / BPE_FILE
        if not path.is_file():
            raise FileNotFoundError(f"no BPE tokenizer at {path}; save one with BPETokenizer.save(folder).")
        return cls(Tokenizer.from_str(path.read_text(encoding="utf-8")))


def load_tokenizer(directory):
    """The tokenizer saved in ``directory`` (character-level or BPE), or ``None`` if there is none."""
    directory = Path(directory)
    if (directory / TOKENIZER_FILE).is_file():
        return CharTokenizer.load(directory)
    if (directory / BPE_FILE).is_file():
        return BPETokenizer.load(directory)
    return None
