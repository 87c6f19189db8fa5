"""Hand-made run dirs for the report tests: ``.hydra/config.yaml`` + ``metrics.json``."""

from __future__ import annotations

import json
from pathlib import Path

from omegaconf import OmegaConf
from transformers import BertConfig, BertModel


def make_run(root: Path, name: str, config: dict, metrics: dict) -> Path:
    run_dir = root / name
    (run_dir / ".hydra").mkdir(parents=True)
    OmegaConf.save(OmegaConf.create(config), run_dir / ".hydra" / "config.yaml")
    (run_dir / "metrics.json").write_text(json.dumps(metrics))
    return run_dir


def pretrain_run(root: Path, name: str, size: str, hidden: int) -> tuple[Path, int]:
    """A pretraining run with a tiny saved ``model/``; returns (run dir, its parameter count)."""
    run_dir = make_run(
        root,
        name,
        {
            "task": {"name": "pretrain"},
            "model": {"size": size, "init_from": None},
            "objective": {"name": "mlm_ntp"},
        },
        {"val.mlm_loss": 3.0},
    )
    return run_dir, save_encoder(run_dir / "model", hidden)


def save_encoder(folder: Path, hidden: int) -> int:
    """A 1-layer random BERT saved to ``folder``; returns its parameter count."""
    config = BertConfig(
        vocab_size=256,
        hidden_size=hidden,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=4 * hidden,
    )
    model = BertModel(config)
    model.save_pretrained(folder)
    return sum(p.numel() for p in model.parameters())


def encoder_run(
    root: Path,
    name: str,
    task: str,
    encoder: Path | str,
    extra: dict,
    metrics: dict,
    encoder_name: str | None = None,
) -> Path:
    config = {
        "task": {"name": task},
        "encoder": {"path": str(encoder), "name": encoder_name},
        **extra,
    }
    return make_run(root, name, config, metrics)


def predict_metrics(seeds: list[float], std: float | None, metric: str = "auroc") -> dict:
    """``test.<metric>.mean``, ``.std`` (left out when None) and ``.seed_<i>``, as the prediction
    stage writes them; the caller types the std (NumPy's, ddof 0) worked out by hand."""
    metrics = {f"test.{metric}.seed_{i}": value for i, value in enumerate(seeds)}
    metrics[f"test.{metric}.mean"] = sum(seeds) / len(seeds)
    if std is not None:
        metrics[f"test.{metric}.std"] = std
    return metrics
