"""Write an encoder folder that loads with both ``AutoModel`` and ``SentenceTransformer``.

Beside the Hugging Face files go ``modules.json`` (Transformer -> Pooling),
``1_Pooling/config.json`` (CLS pooling: what the paper evaluates; the SimCSE MLP is not part of
the model) and ``sentence_bert_config.json``. The SimCSE MLP is kept in a side file,
``simcse_mlp.safetensors``, so that ``sts.pooling=cls_mlp`` can still use it.
"""

from __future__ import annotations

from pathlib import Path

import torch

from clinicalnotebert.io import atomic_dir, write_json_atomic
from clinicalnotebert.models.export import save_hf_model

MLP_FILE = "simcse_mlp.safetensors"  # tensors "weight" [hidden, hidden] and "bias" [hidden]
POOLING_DIR = "1_Pooling"
# The classic module names: every sentence-transformers release (2.x to 6.x) resolves them.
MODULES = [
    {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
    {"idx": 1, "name": "1", "path": POOLING_DIR, "type": "sentence_transformers.models.Pooling"},
]


def pooling_config(hidden_size: int, pooling: str) -> dict:
    return {
        "word_embedding_dimension": hidden_size,
        "pooling_mode_cls_token": pooling == "cls",
        "pooling_mode_mean_tokens": pooling == "mean",
        "pooling_mode_max_tokens": False,
        "pooling_mode_mean_sqrt_len_tokens": False,
    }


def write_sentence_transformers_files(
    directory: str | Path, hidden_size: int, max_seq_length: int, pooling: str = "cls"
) -> None:
    """``modules.json``, ``1_Pooling/config.json`` and ``sentence_bert_config.json``."""
    directory = Path(directory)
    write_json_atomic(directory / "modules.json", MODULES)
    write_json_atomic(directory / POOLING_DIR / "config.json", pooling_config(hidden_size, pooling))
    # Lower-casing is the tokenizer's business (its normalizer), not sentence-transformers'.
    write_json_atomic(
        directory / "sentence_bert_config.json",
        {"max_seq_length": max_seq_length, "do_lower_case": False},
    )


def load_mlp(directory: str | Path) -> dict[str, torch.Tensor] | None:
    """The SimCSE head saved beside an encoder (``weight``, ``bias``), or None if there is none."""
    from safetensors.torch import load_file

    path = Path(str(directory)) / MLP_FILE
    return load_file(str(path)) if path.is_file() else None


def export_encoder(
    target: str | Path,
    model,
    tokenizer,
    mlp: dict[str, torch.Tensor],
    max_seq_length: int,
    card: str,
) -> Path:
    """HF files + card + MLP side file (``save_hf_model``) + sentence-transformers files, atomically."""
    with atomic_dir(target) as tmp:
        save_hf_model(model, tokenizer, tmp, card, extra_tensors={MLP_FILE: mlp})
        write_sentence_transformers_files(tmp, model.config.hidden_size, max_seq_length)
    return Path(target)
