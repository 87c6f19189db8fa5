"""References to pretrained artifacts: a local directory, or a Hugging Face hub id.

The network is only touched when the user names a hub id; a path that looks local but does not
exist is a user error, not a failed download.
"""

from __future__ import annotations

import functools
import os
import socket
import threading
from pathlib import Path

from clinicalnotebert.errors import UserError


def resolve_pretrained(path_or_id: str | Path | None, key: str, remedy: str | None = None) -> str:
    """Return an existing local directory (absolute) or a hub id; ``key`` names the config key,
    ``remedy`` says how to give a local copy instead of a hub id (default: ``<key>=<folder>``)."""
    if path_or_id in (None, ""):
        raise UserError(f"{key} is not set (a local directory or a hub id)")
    text = str(path_or_id)
    local = Path(text).expanduser()
    if local.is_dir():
        return str(local.resolve())
    if local.exists():
        raise UserError(f"{key} '{text}' is a file; give the model's directory")
    looks_local = local.is_absolute() or text.startswith((".", "~")) or text.count("/") > 1
    if looks_local:
        raise UserError(f"{key} '{text}' does not exist")
    check_hub_id(text, key, remedy)
    return text


HUB_TIMEOUT_S = 3.0  # one connection attempt; Hugging Face's own retries take about a minute
CACHE_PROBES = ("config.json", "tokenizer_config.json")


@functools.cache
def hub_reachable() -> bool:
    """Whether the hub answers (checked once per process); never when ``HF_HUB_OFFLINE`` is set."""
    from urllib.parse import urlparse

    from huggingface_hub import constants

    if constants.HF_HUB_OFFLINE:
        return False
    endpoint = urlparse(constants.ENDPOINT)
    answered: list[bool] = []

    def connect() -> None:
        try:
            socket.create_connection((endpoint.hostname, endpoint.port or 443), HUB_TIMEOUT_S)
            answered.append(True)
        except OSError:
            answered.append(False)

    # a thread bounds the name lookup too, which the socket timeout does not cover
    probe = threading.Thread(target=connect, daemon=True)
    probe.start()
    probe.join(HUB_TIMEOUT_S)
    return bool(answered and answered[0])


def in_local_cache(repo_id: str) -> bool:
    from huggingface_hub import try_to_load_from_cache

    return any(isinstance(try_to_load_from_cache(repo_id, f), str) for f in CACHE_PROBES)


def check_hub_id(repo_id: str, key: str, remedy: str | None = None) -> None:
    """A hub id is usable online, or offline from the local Hugging Face cache; otherwise fail
    now, in one line, instead of after the hub client's minute of retries."""
    from huggingface_hub import constants

    if hub_reachable():
        return
    if in_local_cache(repo_id):
        os.environ["HF_HUB_OFFLINE"] = "1"  # read the cache without trying the network first
        constants.HF_HUB_OFFLINE = True
        return
    why = "offline (HF_HUB_OFFLINE is set)" if constants.HF_HUB_OFFLINE else "not reachable"
    remedy = remedy or f"download it where the hub is reachable and pass its folder ({key}=...)"
    raise UserError(
        f"{key} '{repo_id}' is a Hugging Face hub id, but the hub is {why} and no copy is cached "
        f"here: {remedy}"
    )


WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin")
MODEL_CONFIG = "config.json"


def require_model_folder(reference: str, key: str) -> None:
    """A local folder given as a model must hold the model's ``config.json`` (say so, rather
    than what transformers reports while guessing at it); a hub id is left to the loader."""
    folder = Path(reference)
    if folder.is_dir() and not (folder / MODEL_CONFIG).is_file():
        raise UserError(f"{key} '{reference}' is not a model folder (no {MODEL_CONFIG})")


def weights_file(reference: str) -> str:
    """The weights file of a local model folder (the name to report), or the reference."""
    folder = Path(reference)
    for name in WEIGHT_FILES:
        if (folder / name).is_file():
            return str(folder / name)
    return reference


def load_problem(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    if "mismatch" in text.lower():
        return "its config.json and weights disagree (tensor shapes differ)"
    if type(exc).__name__ == "SafetensorError" or "deserializ" in text:
        return f"the file is damaged or cut off ({text[:120]})"
    return text[:240]


def from_pretrained_quietly(model_class, reference: str, key: str = "encoder.path", **kwargs):
    """``(model, loading_info)`` from ``model_class.from_pretrained`` without transformers' load
    table, which flags every expected difference (an MLM head left out, a new task head); the
    caller says in one line what matters. A folder that cannot be loaded (cut-off weights, a
    config that does not fit them, no weights) is a user error naming the folder and file."""
    from transformers.utils import logging as hf_logging

    require_model_folder(reference, key)
    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    try:
        return model_class.from_pretrained(reference, output_loading_info=True, **kwargs)
    except Exception as exc:  # safetensors, torch and transformers raise many kinds
        raise UserError(
            f"{key}: cannot load the model in {weights_file(reference)}: {load_problem(exc)}"
        ) from None
    finally:
        hf_logging.set_verbosity(verbosity)
