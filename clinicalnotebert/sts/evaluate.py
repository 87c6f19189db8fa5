"""Score an encoder on STS pairs: cosine of the two embeddings against the gold scores (docs/reference.md §4)."""

from __future__ import annotations

import logging
import random
from pathlib import Path

import numpy as np
import torch

from clinicalnotebert.config import DataConfig, StsConfig
from clinicalnotebert.demo import ensure_demo_data
from clinicalnotebert.errors import UserError
from clinicalnotebert.io import write_text_atomic
from clinicalnotebert.models.encoder import encode_texts
from clinicalnotebert.models.sentence_transformers_export import MLP_FILE, load_mlp
from clinicalnotebert.sts.readers import Pairs, read_pairs, split_file

log = logging.getLogger(__name__)
PREDICTIONS_FILE = "sts_predictions.csv"

SPLITS = ("train", "dev", "test", "train_sample")
POOLINGS = ("cls", "mean", "cls_mlp")


def sample_indices(total: int, size: int, seed: int) -> list[int]:
    """The reference's ``train_sample``: ``random.seed(seed); random.sample(items, size)``.

    ``random.sample`` picks positions from the length alone, so sampling indices once gives the
    same pairs as the reference's three re-seeded samples of s1, s2 and scores. A file with
    fewer than ``size`` pairs is used whole (in the sampled order).
    """
    return random.Random(seed).sample(range(total), min(size, total))


def load_split(path: str | Path, split: str, layout: str, sample_size: int, seed: int) -> Pairs:
    """Pairs of ``split`` from a file or a ClinicalSTS / STS-B directory.

    ``train_sample`` draws ``sample_size`` pairs from the train file (or from the file given).
    """
    if split not in SPLITS:
        raise UserError(f"sts.split '{split}' is not one of {', '.join(SPLITS)}")
    source = Path(str(path)).expanduser()
    if source.is_dir():
        source = split_file(source, "train" if split == "train_sample" else split, layout)
    pairs = read_pairs(source, layout)
    if split == "train_sample":
        pairs = pairs.subset(sample_indices(len(pairs), sample_size, seed))
    return pairs


def cosine_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cosine similarity of each row of ``a`` with the same row of ``b``."""
    norms = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
    return (a * b).sum(axis=1) / np.maximum(norms, 1e-12)


def correlations(gold: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    """Pearson and Spearman correlations, x100 as the paper reports them."""
    from scipy.stats import pearsonr, spearmanr

    return {
        "pearson": float(pearsonr(gold, predicted)[0] * 100),
        "spearman": float(spearmanr(gold, predicted)[0] * 100),
    }


def apply_mlp(embeddings: np.ndarray, mlp: dict[str, torch.Tensor]) -> np.ndarray:
    """The SimCSE training head ``tanh(W h + b)`` on pooled ``[CLS]`` vectors."""
    hidden = torch.from_numpy(embeddings) @ mlp["weight"].float().T + mlp["bias"].float()
    return torch.tanh(hidden).numpy()


def embed_pairs(
    pairs: Pairs,
    tokenizer,
    model,
    pooling: str,
    batch_size: int,
    max_length: int,
    mlp: dict[str, torch.Tensor] | None = None,
    description: str | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Embeddings of both sides; every distinct sentence is encoded once."""
    if pooling not in POOLINGS:
        raise UserError(f"sts.pooling '{pooling}' is not one of {', '.join(POOLINGS)}")
    if pooling == "cls_mlp" and mlp is None:
        raise UserError("sts.pooling=cls_mlp needs the SimCSE head (simcse_mlp.safetensors)")
    unique = list(dict.fromkeys(pairs.first + pairs.second))
    position = {text: i for i, text in enumerate(unique)}
    base = "cls" if pooling == "cls_mlp" else pooling
    vectors = encode_texts(unique, tokenizer, model, base, batch_size, max_length, description)
    if pooling == "cls_mlp":
        vectors = apply_mlp(vectors, mlp)
    first = vectors[[position[t] for t in pairs.first]]
    second = vectors[[position[t] for t in pairs.second]]
    return first, second


def score_pairs(pairs: Pairs, first: np.ndarray, second: np.ndarray) -> dict:
    """``pearson``, ``spearman`` (x100) and ``pairs`` for embedded pairs."""
    if len(pairs) < 2:
        raise UserError("STS needs at least 2 sentence pairs to compute a correlation")
    return {**correlations(pairs.scores, cosine_rows(first, second)), "pairs": len(pairs)}


def encoder_mlp(encoder_path) -> dict:
    """The SimCSE head saved beside a local encoder, for ``sts.pooling=cls_mlp``."""
    mlp = load_mlp(encoder_path) if Path(str(encoder_path)).is_dir() else None
    if mlp is None:
        raise UserError(f"sts.pooling=cls_mlp: encoder.path '{encoder_path}' has no {MLP_FILE}")
    return mlp


def sts_pairs(sts: StsConfig, data: DataConfig, split: str) -> Pairs:
    """The pairs of ``split`` from ``sts.path`` (the demo data is generated on first use)."""
    if str(sts.path) == str(data.sts_dir):
        ensure_demo_data(data)
    return load_split(sts.path, split, sts.layout, sts.sample_size, sts.sample_seed)


def evaluate(
    sts: StsConfig, pairs: Pairs, split: str, tokenizer, model, mlp=None, out_dir=None
) -> dict:
    """Score ``model`` on ``pairs``; write the per-pair predictions into ``out_dir`` if given."""
    first, second = embed_pairs(
        pairs,
        tokenizer,
        model,
        sts.pooling,
        sts.batch_size,
        sts.max_length,
        mlp,
        description=f"sts: encode {split}",
    )
    metrics = {**score_pairs(pairs, first, second), "split": split}
    if out_dir is not None:
        write_predictions(
            Path(out_dir) / PREDICTIONS_FILE, pairs.scores, cosine_rows(first, second)
        )
    log.info("sts %s: pearson %.2f spearman %.2f", split, metrics["pearson"], metrics["spearman"])
    return metrics


def write_predictions(path: Path, gold: np.ndarray, cosine: np.ndarray) -> None:
    rows = [f"{i},{g:.6g},{c:.6f}" for i, (g, c) in enumerate(zip(gold, cosine, strict=True))]
    write_text_atomic(path, "\n".join(["index,gold,cosine", *rows]) + "\n")
