"""Load any encoder (our ``model/`` or ``encoder/``, a local HF dir, a hub id) and embed text.

Shared by every evaluation that needs sentence / note vectors (STS, RAG, clinical prediction).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import torch

from clinicalnotebert.config import POOLINGS
from clinicalnotebert.errors import UserError
from clinicalnotebert.hub import from_pretrained_quietly, require_model_folder, resolve_pretrained
from clinicalnotebert.models.tokenizer import load_tokenizer
from clinicalnotebert.utils.progress import progress

log = logging.getLogger(__name__)


def load_encoder(path_or_id, key: str = "encoder.path", device: str = "cpu"):
    """``(tokenizer, model)`` in eval mode; weights from safetensors, never remote code."""
    from transformers import AutoModel

    reference = resolve_pretrained(path_or_id, key)
    require_model_folder(reference, key)  # before the tokenizer: the folder is the problem
    tokenizer = load_tokenizer(reference, key)
    model, info = from_pretrained_quietly(AutoModel, reference, key)
    if info["missing_keys"]:  # an encoder's weights should all come from the checkpoint
        log.warning("%s: newly initialised weights: %s", key, ", ".join(info["missing_keys"]))
    if len(tokenizer) > model.get_input_embeddings().num_embeddings:
        raise UserError(
            f"{key}: tokenizer has {len(tokenizer)} tokens but the encoder's embedding has "
            f"{model.get_input_embeddings().num_embeddings}: they do not belong together"
        )
    return tokenizer, model.to(device).eval()


def pool(hidden: torch.Tensor, attention_mask: torch.Tensor, mode: str) -> torch.Tensor:
    """``cls``: the first position; ``mean``: the average over real (unpadded) tokens only."""
    if mode == "cls":
        return hidden[:, 0]
    if mode == "mean":
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
    raise UserError(f"pooling '{mode}' is not one of {', '.join(POOLINGS)}")


def length_sorted_batches(lengths: Sequence[int], batch_size: int) -> list[np.ndarray]:
    """Index batches of similar length (longest first), so little compute goes to padding."""
    order = np.argsort(-np.asarray(lengths), kind="stable")
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]


@torch.inference_mode()
def encode_texts(
    texts: Sequence[str],
    tokenizer,
    model,
    pooling: str = "cls",
    batch_size: int = 64,
    max_length: int = 128,
    description: str | None = None,
) -> np.ndarray:
    """Embed ``texts`` (float32, input order) with length-sorted batches and dynamic padding."""
    if pooling not in POOLINGS:
        raise UserError(f"pooling '{pooling}' is not one of {', '.join(POOLINGS)}")
    device = next(model.parameters()).device
    encoded = tokenizer(list(texts), truncation=True, max_length=max_length)
    lengths = [len(ids) for ids in encoded["input_ids"]]
    out = np.zeros((len(texts), model.config.hidden_size), dtype=np.float32)
    batches = length_sorted_batches(lengths, batch_size)
    if description:
        batches = progress(batches, description, advance=len, total=len(texts))
    for index in batches:
        features = tokenizer.pad(
            {key: [encoded[key][i] for i in index] for key in encoded}, return_tensors="pt"
        ).to(device)
        hidden = model(**features).last_hidden_state
        out[index] = pool(hidden, features["attention_mask"], pooling).float().cpu().numpy()
    return out
