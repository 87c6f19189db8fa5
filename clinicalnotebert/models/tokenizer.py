"""Train or load the WordPiece tokenizer every stage measures and encodes text with.

A trained tokenizer is saved as a Hugging Face fast tokenizer folder (``tokenizer.json``,
``vocab.txt``, ``tokenizer_config.json``) that ``AutoTokenizer.from_pretrained`` loads with
no project code. Any local dir or hub id can be used instead (the paper used PubMedBERT's).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from pathlib import Path

from clinicalnotebert.errors import UserError
from clinicalnotebert.hub import resolve_pretrained
from clinicalnotebert.io import atomic_dir

log = logging.getLogger(__name__)

SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
# A saved tokenizer folder has at least one of these (fast, WordPiece, BPE, SentencePiece).
TOKENIZER_FILES = (
    "tokenizer.json",
    "tokenizer_config.json",
    "vocab.txt",
    "vocab.json",
    "tokenizer.model",
    "spiece.model",
)
VOCAB_MULTIPLE = 64  # embedding and decoder matrices with a multiple-of-64 row count run faster


def padded_vocab_size(size: int, multiple: int = VOCAB_MULTIPLE) -> int:
    """Round ``size`` up to a multiple of ``multiple`` (30522 -> 30528)."""
    return int(math.ceil(size / multiple) * multiple)


def train_wordpiece(
    texts: Iterable[str], vocab_size: int, min_frequency: int = 2, lowercase: bool = True
):
    """Train an uncased (by default) BERT WordPiece tokenizer on ``texts``.

    The vocabulary is padded with ``[unusedN]`` entries to a multiple of 64, whether the
    trainer filled ``vocab_size`` or the corpus was too small to.
    """
    from tokenizers import Tokenizer, normalizers, pre_tokenizers
    from tokenizers.models import WordPiece
    from tokenizers.trainers import WordPieceTrainer
    from transformers import BertTokenizer

    target = padded_vocab_size(vocab_size)
    backend = Tokenizer(WordPiece(unk_token="[UNK]"))
    backend.normalizer = normalizers.BertNormalizer(lowercase=lowercase)
    backend.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    trainer = WordPieceTrainer(
        vocab_size=target,
        min_frequency=min_frequency,
        special_tokens=list(SPECIAL_TOKENS),
        continuing_subword_prefix="##",
        show_progress=False,
    )
    backend.train_from_iterator(texts, trainer=trainer)
    vocab = backend.get_vocab()
    if len(vocab) <= len(SPECIAL_TOKENS):
        raise UserError("cannot train a tokenizer: no usable notes in the input")
    for i in range(padded_vocab_size(len(vocab)) - len(vocab)):
        vocab[f"[unused{i}]"] = len(vocab)
    return BertTokenizer(vocab=vocab, do_lower_case=lowercase)


def save_tokenizer(tokenizer, out_dir: str | Path) -> Path:
    """Save atomically as a fast tokenizer folder."""
    with atomic_dir(out_dir) as tmp:
        tokenizer.save_pretrained(tmp)
    return Path(out_dir)


def load_tokenizer(path_or_id: str | Path, key: str = "tokenizer.path"):
    """Load a fast tokenizer from a local dir or a hub id (never with remote code)."""
    from transformers import AutoTokenizer

    reference = resolve_pretrained(path_or_id, key)
    folder = Path(reference)
    if folder.is_dir() and not any((folder / name).is_file() for name in TOKENIZER_FILES):
        raise UserError(f"{key} '{path_or_id}' holds no tokenizer (no {TOKENIZER_FILES[0]})")
    try:
        tokenizer = AutoTokenizer.from_pretrained(reference)
    except (OSError, ValueError) as exc:
        raise UserError(f"{key}: cannot load a tokenizer from '{path_or_id}': {exc}") from None
    if not tokenizer.is_fast:
        raise UserError(f"{key}: tokenizer '{path_or_id}' has no fast version (offsets need one)")
    return tokenizer
