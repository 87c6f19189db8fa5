"""task=sts: score any encoder on STS sentence pairs (docs/reference.md §4).

Metrics: ``pearson`` and ``spearman`` (x100) of the cosine similarities against the gold
scores, ``pairs`` and ``split``; ``sts_predictions.csv`` holds the per-pair numbers (no text).
"""

from __future__ import annotations

from clinicalnotebert.config import Config
from clinicalnotebert.models.encoder import load_encoder
from clinicalnotebert.sts.evaluate import encoder_mlp, evaluate, sts_pairs
from clinicalnotebert.utils.runtime import resolve_device


def run(cfg: Config) -> dict:
    sts = cfg.sts
    pairs = sts_pairs(sts, cfg.data, sts.split)
    mlp = encoder_mlp(cfg.encoder.path) if sts.pooling == "cls_mlp" else None
    tokenizer, model = load_encoder(cfg.encoder.path, device=resolve_device(sts.device))
    return evaluate(sts, pairs, sts.split, tokenizer, model, mlp, cfg.paths.output_dir)
