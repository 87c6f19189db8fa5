"""The encoder part of the RAG cache keys (the generic helpers live in clinicalnotebert.cache)."""

from __future__ import annotations

import hashlib

import torch


def model_fingerprint(model: torch.nn.Module, tokenizer) -> str:
    """A digest of the weights and the tokenizer: the same for a local dir and a hub id that hold
    the same model, different after any retraining."""
    hasher = hashlib.blake2b(digest_size=16)
    for name, tensor in sorted(model.state_dict().items()):
        hasher.update(name.encode("utf-8"))
        hasher.update(str(tensor.dtype).encode("utf-8"))
        raw = tensor.detach().cpu().contiguous().reshape(-1).view(torch.uint8)
        hasher.update(raw.numpy().tobytes())
    hasher.update(tokenizer.backend_tokenizer.to_str().encode("utf-8"))
    return hasher.hexdigest()
