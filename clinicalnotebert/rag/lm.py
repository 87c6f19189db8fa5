"""The causal LM whose perplexity retrieval should lower (GPT-2 or Llama style), and the demo LM.

``rag.lm=<local dir or hub id>`` loads any ``AutoModelForCausalLM``. ``rag.lm=demo`` builds a
tiny GPT-2 (byte-level BPE tokenizer + 2 layers) trained for a few hundred steps on the
datastore chunks, which hold no test patient's notes. It exists so that the demo runs offline
end to end; it is not a model to report numbers with.
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from pathlib import Path

import torch

from clinicalnotebert.cache import entry_dir, load_or_build
from clinicalnotebert.config import DemoLmConfig
from clinicalnotebert.errors import UserError
from clinicalnotebert.hub import resolve_pretrained
from clinicalnotebert.models.tokenizer import load_tokenizer
from clinicalnotebert.utils.progress import progress

log = logging.getLogger(__name__)

DEMO = "demo"
PRECISIONS = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}
END_OF_TEXT = "<|endoftext|>"


def torch_dtype(precision: str, device: str) -> torch.dtype:
    """``auto``: bf16 on a GPU that has it (else fp16), fp32 on CPU."""
    if precision == "auto":
        if not device.startswith("cuda"):
            return torch.float32
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if precision not in PRECISIONS:
        raise UserError(f"rag.precision '{precision}' is not one of auto, {', '.join(PRECISIONS)}")
    return PRECISIONS[precision]


def lm_reference(configured) -> str:
    """``rag.lm`` checked before any heavy work: ``demo``, a local dir, or a hub id."""
    if configured in (None, ""):
        raise UserError(
            "rag.lm is not set: name a causal LM (a local dir or a hub id such as gpt2 or "
            "meta-llama/Llama-2-7b-hf), or 'demo' for the tiny demo LM"
        )
    return DEMO if configured == DEMO else resolve_pretrained(configured, "rag.lm")


def load_lm(reference: str, device: str, dtype: torch.dtype):
    """``(tokenizer, model)`` in eval mode; safetensors or safe loading, never remote code."""
    from transformers import AutoModelForCausalLM

    tokenizer = load_tokenizer(reference, "rag.lm")
    try:
        model = AutoModelForCausalLM.from_pretrained(reference, dtype=dtype)
    except (OSError, ValueError) as exc:
        message = " ".join(str(exc).split())
        raise UserError(f"rag.lm: cannot load a causal LM from '{reference}': {message}") from None
    rows = model.get_input_embeddings().num_embeddings
    if len(tokenizer) > rows:
        raise UserError(
            f"rag.lm: tokenizer has {len(tokenizer)} tokens but the LM's embedding has {rows}: "
            "they do not belong together"
        )
    return tokenizer, model.to(device).eval()


def max_positions(model, configured) -> int:
    """The longest input the LM takes: ``rag.lm_max_positions`` or its config's positions."""
    if configured:
        return int(configured)
    positions = getattr(model.config, "max_position_embeddings", None)
    if not positions:
        raise UserError("rag.lm_max_positions: the LM's config names no position limit; set it")
    return int(positions)


# --- the demo LM -------------------------------------------------------------------------------


def train_byte_bpe(texts, vocab_size: int):
    """A GPT-2 style byte-level BPE tokenizer trained on ``texts`` (no download)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    backend = Tokenizer(models.BPE())
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=[END_OF_TEXT],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    backend.train_from_iterator(texts, trainer=trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=backend,
        bos_token=END_OF_TEXT,
        eos_token=END_OF_TEXT,
        unk_token=END_OF_TEXT,
    )


def tiny_gpt2(tokenizer, cfg: DemoLmConfig):
    from transformers import GPT2Config, GPT2LMHeadModel

    config = GPT2Config(
        vocab_size=len(tokenizer),
        n_positions=cfg.n_positions,
        n_embd=cfg.n_embd,
        n_layer=cfg.n_layer,
        n_head=cfg.n_head,
        bos_token_id=tokenizer.eos_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    return GPT2LMHeadModel(config)


def train_lm(model, ids: torch.Tensor, cfg: DemoLmConfig, seed: int) -> float:
    """Next-token training on random ``block_size`` slices of ``ids``; returns the last loss."""
    if len(ids) <= cfg.block_size + 1:
        raise UserError(f"rag.demo_lm: the datastore has only {len(ids)} tokens to train on")
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr)
    model.train()
    loss = torch.tensor(float("nan"))
    for _ in progress(range(cfg.steps), "rag: train demo LM"):
        starts = torch.randint(0, len(ids) - cfg.block_size, (cfg.batch_size,), generator=generator)
        batch = torch.stack([ids[start : start + cfg.block_size] for start in starts.tolist()])
        loss = model(input_ids=batch, labels=batch).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
    model.eval()
    return loss.item()


def demo_lm(
    chunks, chunks_fingerprint: str, cfg: DemoLmConfig, cache_dir: Path, seed: int
) -> str:
    """The demo LM's directory, trained once per datastore (cached)."""
    parts = {"chunks": chunks_fingerprint, "seed": seed, **asdict(cfg)}

    def build(out: Path) -> None:
        texts = chunks[: cfg.train_chunks]["text"]
        torch.manual_seed(seed)
        tokenizer = train_byte_bpe(texts, cfg.vocab_size)
        ids = tokenizer(" ".join(texts), add_special_tokens=False, verbose=False)["input_ids"]
        model = tiny_gpt2(tokenizer, cfg)
        loss = train_lm(model, torch.tensor(ids, dtype=torch.long), cfg, seed)
        log.info("rag: demo LM trained on %d tokens, last loss %.3f", len(ids), loss)
        tokenizer.save_pretrained(out)
        model.save_pretrained(out)

    return str(load_or_build(entry_dir(cache_dir, "demo-lm", parts), parts, build, Path)[0])
