"""The pretrained model's export: ``model/`` loadable by ``AutoModelForMaskedLM`` / ``AutoModel``
with no project code, the note-type head in a side file, and a model card of numbers only."""

from __future__ import annotations

import logging
from pathlib import Path

from clinicalnotebert.config import Config
from clinicalnotebert.corpus.store import load_meta
from clinicalnotebert.models.bert import BertWithPoolerForMaskedLM
from clinicalnotebert.models.export import model_card, save_hf_model
from clinicalnotebert.pretrain.module import NTP_HEAD_FILE

log = logging.getLogger(__name__)


def export_model(module, state: dict, tokenizer, target: Path, card: str) -> None:
    """``model/``: ``BertForMaskedLM``-loadable weights (+ the pooler, which ``AutoModel`` uses),
    the tokenizer, the note-type head in its own file, and the model card."""
    hf_state, ntp_state = module.split_state(state)
    model = BertWithPoolerForMaskedLM(module.model.config)
    model.load_state_dict({k: v.detach().cpu() for k, v in hf_state.items()})
    extra = {NTP_HEAD_FILE: ntp_state} if ntp_state else None
    save_hf_model(model, tokenizer, target, card, ["BertForMaskedLM"], extra)
    log.info("exported %s", target)


def pretrain_card(
    cfg: Config, module, dataset, lengths, metrics: dict, new_weights: list[str]
) -> str:
    config = module.model.config
    pre = cfg.pretrain
    init = cfg.model.init_from or "none (from scratch)"
    sections = {
        "Model": {
            "size": cfg.model.size if not cfg.model.init_from else f"as {cfg.model.init_from}",
            "layers": config.num_hidden_layers,
            "hidden size": config.hidden_size,
            "attention heads": config.num_attention_heads,
            "parameters": metrics["parameters"],
            "vocabulary (padded)": config.vocab_size,
            "initialised from": init,
            "new weights at start": len(new_weights),
        },
        "Training": {
            "objective": cfg.objective.name,
            "mlm probability": cfg.objective.mlm_probability,
            "ntp weight": cfg.objective.ntp_weight if module.with_ntp else "-",
            "steps": metrics["steps"],
            "sequences per step (per process)": pre.batch.sequences * pre.batch.accumulate
            if not pre.batch.tokens
            else f"{pre.batch.tokens} tokens x {pre.batch.accumulate}",
            "processes": metrics["processes"],
            "learning rate": pre.optimizer.lr,
            "tied decoder": bool(pre.tie_decoder),
        },
        "Corpus": {
            "variant": pre.variant,
            "source data": load_meta(cfg.corpus.path).get("data", "unknown"),
            "sequences": len(dataset),
            "tokens": int(lengths.sum()),
            "mean length": float(lengths.mean()),
        },
        "Final metrics": {k: v for k, v in metrics.items() if isinstance(v, float)}
        | {f"val {k}": v for k, v in metrics["val"].items()},
    }
    usage = """from transformers import AutoModelForMaskedLM, AutoTokenizer

tokenizer = AutoTokenizer.from_pretrained(PATH)
model = AutoModelForMaskedLM.from_pretrained(PATH)  # or AutoModel for the encoder alone"""
    summary = (
        "A BERT encoder pretrained on clinical notes with whole-word masked language modelling"
        + (" and note-type prediction" if module.with_ntp else "")
        + " by clinicalnotebert (ClinicalNoteBERT recipe)."
    )
    return model_card("ClinicalNoteBERT encoder", summary, sections, usage)
