"""task=sts: score any encoder on STS sentence pairs (SPEC 4).

Metrics: ``pearson`` and ``spearman`` (x100) of the cosine similarities against the gold
scores, ``pairs`` and ``split``; ``sts_predictions.csv`` holds the per-pair numbers (no text).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from clinicalnotebert.errors import UserError
from clinicalnotebert.io import write_text_atomic
from clinicalnotebert.models.encoder import load_encoder
from clinicalnotebert.models.sentence_transformers_export import MLP_FILE, load_mlp
from clinicalnotebert.sts.evaluate import cosine_rows, embed_pairs, load_split, score_pairs
from clinicalnotebert.sts.readers import Pairs
from clinicalnotebert.tasks.tokenizer import resolve_data
from clinicalnotebert.utils.runtime import resolve_device

log = logging.getLogger(__name__)
PREDICTIONS_FILE = "sts_predictions.csv"


def encoder_mlp(encoder_path) -> dict:
    """The SimCSE head saved beside a local encoder, for ``sts.pooling=cls_mlp``."""
    mlp = load_mlp(encoder_path) if Path(str(encoder_path)).is_dir() else None
    if mlp is None:
        raise UserError(f"sts.pooling=cls_mlp: encoder.path '{encoder_path}' has no {MLP_FILE}")
    return mlp


def sts_pairs(cfg, split: str) -> Pairs:
    """The pairs of ``split`` from ``cfg.sts.path`` (the demo data is generated on first use)."""
    sts = cfg.sts
    if str(sts.path) == str(cfg.data.get("sts_dir")):
        resolve_data(cfg)
    return load_split(sts.path, split, sts.layout, sts.sample_size, sts.sample_seed)


def evaluate(cfg, pairs: Pairs, split: str, tokenizer, model, mlp=None, out_dir=None) -> dict:
    """Score ``model`` on ``pairs``; write the per-pair predictions into ``out_dir`` if given."""
    sts = cfg.sts
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


def run(cfg) -> dict:
    pairs = sts_pairs(cfg, cfg.sts.split)
    mlp = encoder_mlp(cfg.encoder.path) if cfg.sts.pooling == "cls_mlp" else None
    tokenizer, model = load_encoder(cfg.encoder.path, device=resolve_device(cfg.sts.device))
    return evaluate(cfg, pairs, cfg.sts.split, tokenizer, model, mlp, cfg.paths.output_dir)
