"""Encoder sizes (``cfg.model``) -> ``BertConfig``, and the MLM model: from scratch or continued.

The model is a Hugging Face ``BertForMaskedLM`` that keeps its pooler (the note-type head reads
the pooled output), so its weights load with ``AutoModelForMaskedLM`` (pooler ignored) and with
``AutoModel`` (pooler included) with no project code.
"""

from __future__ import annotations

import logging

import torch
from transformers import BertConfig, BertModel
from transformers.models.bert.modeling_bert import BertOnlyMLMHead, BertPreTrainedModel

from clinicalnotebert.config import ModelConfig
from clinicalnotebert.errors import UserError
from clinicalnotebert.hub import from_pretrained_quietly, resolve_pretrained
from clinicalnotebert.models.tokenizer import padded_vocab_size

log = logging.getLogger(__name__)

ARCHITECTURE_KEYS = (
    "num_hidden_layers",
    "hidden_size",
    "num_attention_heads",
    "intermediate_size",
    "max_position_embeddings",
    "hidden_dropout_prob",
    "attention_probs_dropout_prob",
)
ATTENTION = "sdpa"  # torch scaled_dot_product_attention (flash / memory-efficient kernels)


class BertWithPoolerForMaskedLM(BertPreTrainedModel):
    """``BertForMaskedLM``'s modules and weight names, plus the pooler of ``BertModel``."""

    _tied_weights_keys = {
        "cls.predictions.decoder.weight": "bert.embeddings.word_embeddings.weight",
        "cls.predictions.decoder.bias": "cls.predictions.bias",
    }

    def __init__(self, config: BertConfig):
        super().__init__(config)
        self.bert = BertModel(config, add_pooling_layer=True)
        self.cls = BertOnlyMLMHead(config)
        self.post_init()

    def get_output_embeddings(self):
        return self.cls.predictions.decoder

    def set_output_embeddings(self, new_embeddings):
        self.cls.predictions.decoder = new_embeddings
        self.cls.predictions.bias = new_embeddings.bias


def scratch_config(model_cfg: ModelConfig, tokenizer, tie_decoder: bool) -> BertConfig:
    """``BertConfig`` of a ``model=`` size, the vocabulary padded to a multiple of 64."""
    fields = {key: getattr(model_cfg, key) for key in ARCHITECTURE_KEYS}
    return BertConfig(
        vocab_size=padded_vocab_size(len(tokenizer)),
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=tie_decoder,
        attn_implementation=ATTENTION,
        **fields,
    )


def check_vocabulary(reference: str, config, tokenizer) -> None:
    """The corpus ids must mean the same tokens to the checkpoint (the paper: PubMedBERT's
    vocabulary for both); a checkpoint without tokenizer files must at least cover the ids."""
    from transformers import AutoTokenizer

    try:
        own = AutoTokenizer.from_pretrained(reference)
    except (OSError, ValueError):
        own = None
    if own is not None and own.get_vocab() != tokenizer.get_vocab():
        raise UserError(
            f"model.init_from '{reference}' has another vocabulary than the corpus tokenizer; "
            "prepare the corpus with that checkpoint's tokenizer (task=prepare tokenizer.path=...)"
        )
    if config.vocab_size < len(tokenizer):
        raise UserError(
            f"model.init_from '{reference}' has {config.vocab_size} embeddings but the corpus "
            f"tokenizer has {len(tokenizer)} tokens"
        )


def load_pretrained(init_from, tokenizer, tie_decoder: bool):
    """``(model, new_weight_names)`` from a local dir or hub id; missing heads start fresh."""
    from transformers import AutoConfig

    reference = resolve_pretrained(init_from, "model.init_from")
    try:
        config = AutoConfig.from_pretrained(reference)
    except (OSError, ValueError) as exc:
        raise UserError(f"model.init_from: cannot load '{init_from}': {exc}") from None
    if config.model_type != "bert":
        raise UserError(
            f"model.init_from '{init_from}' is a '{config.model_type}' model, not a BERT encoder"
        )
    check_vocabulary(reference, config, tokenizer)
    model, info = from_pretrained_quietly(
        BertWithPoolerForMaskedLM,
        reference,
        "model.init_from",
        attn_implementation=ATTENTION,
        tie_word_embeddings=tie_decoder,
        dtype=torch.float32,
    )
    model.train()  # from_pretrained returns eval mode; dropout belongs to training
    new = sorted(info["missing_keys"])
    log.info(
        "model.init_from %s: new (freshly initialised) weights: %s",
        init_from,
        ", ".join(new) or "none",
    )
    return model, new


def build_mlm_model(model_cfg: ModelConfig, tokenizer, tie_decoder: bool):
    """``(model, new_weight_names)``: ``model.init_from`` when set, else the configured size from
    scratch (every weight new)."""
    if model_cfg.init_from:
        return load_pretrained(model_cfg.init_from, tokenizer, tie_decoder)
    model = BertWithPoolerForMaskedLM(scratch_config(model_cfg, tokenizer, tie_decoder))
    log.info("model=%s from scratch: %d parameters", model_cfg.size, count_parameters(model))
    return model, [name for name, _ in model.named_parameters()]


def count_parameters(module: torch.nn.Module) -> int:
    """Distinct parameters (a tied decoder counted once)."""
    return sum(p.numel() for p in module.parameters())
