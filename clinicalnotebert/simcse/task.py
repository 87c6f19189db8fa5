"""task=simcse: unsupervised SimCSE on a prepared corpus -> ``<run>/encoder/`` (docs/simcse_sts.md).

``simcse.select_from=<sweep dir>`` instead selects the best job of a finished sweep by its STS
score, writes ``selection.csv`` / ``selection.md`` listing every trial, retrains the best job's
config in this run dir and scores it on ``simcse.select_eval_split``.
"""

from __future__ import annotations

import logging
from pathlib import Path

from clinicalnotebert import sweeps
from clinicalnotebert.config import Config, SimCSEConfig, load_run_config, typed
from clinicalnotebert.io import write_text_atomic
from clinicalnotebert.models.encoder import load_encoder
from clinicalnotebert.models.export import CARD_FILE, model_card
from clinicalnotebert.models.sentence_transformers_export import MLP_FILE, export_encoder
from clinicalnotebert.simcse.data import PadCollator, lines_needed, simcse_lines, simcse_loader
from clinicalnotebert.simcse.module import SimCSEModule, set_dropout
from clinicalnotebert.sts.evaluate import evaluate, sts_pairs
from clinicalnotebert.sweeps import Job
from clinicalnotebert.utils.runtime import is_rank_zero, seed_everything
from clinicalnotebert.utils.training import TrainingSetup, build_trainer

log = logging.getLogger(__name__)
STS_COLUMNS = ("sts.pearson", "sts.spearman")
CARD_SUMMARY = (
    "Unsupervised SimCSE encoder built with clinicalnotebert: each batch is encoded twice with "
    "dropout as the only noise, [CLS] + MLP (tanh) during training, in-batch contrastive loss. "
    f"The MLP is not part of the model (its weights are kept in `{MLP_FILE}`): the embedding is "
    "the raw [CLS] vector, the pooling sentence-transformers is configured with."
)
CARD_USAGE = """
from sentence_transformers import SentenceTransformer
embeddings = SentenceTransformer(PATH).encode(sentences)  # CLS pooling

from transformers import AutoModel, AutoTokenizer
model = AutoModel.from_pretrained(PATH)  # last_hidden_state[:, 0] is the embedding
"""


def build_simcse_trainer(cfg: Config):
    """With GradCache the module steps the optimizer itself, once per (large) batch."""
    s = cfg.simcse
    return build_trainer(
        TrainingSetup.from_config(cfg),
        max_steps=s.max_steps,
        max_epochs=-1,
        accumulate_grad_batches=1 if s.grad_cache else s.accumulate,
        gradient_clip_val=None if s.grad_cache else s.gradient_clip_val,
        enable_checkpointing=False,
    )


def training_facts(cfg: Config, world_size: int, lines: int) -> dict:
    s = cfg.simcse
    local = s.per_device * s.accumulate if s.grad_cache else s.per_device
    return {
        "base encoder": cfg.encoder.path,
        "corpus variant": f"{s.variant} ({lines} lines)",
        "steps": s.max_steps,
        "learning rate": s.lr,
        "sequences per step": s.per_device * world_size * s.accumulate,
        "contrastive batch (negatives)": local * (world_size if s.gather else 1),
        "temperature": s.temperature,
        "grad cache": s.grad_cache,
        "seed": cfg.seed,
    }


def training_loader(cfg: Config, tokenizer, world_size: int):
    """Batches of the sampled corpus lines; with GradCache one batch is a whole optimizer step."""
    s = cfg.simcse
    count = lines_needed(s.per_device, world_size, s.accumulate, s.max_steps, s.fold)
    lines = simcse_lines(
        cfg.corpus.path, s.variant, tokenizer, count, s.max_tokens, cfg.seed, s.num_proc, s.distinct
    )
    batch = s.per_device * s.accumulate if s.grad_cache else s.per_device
    collator = PadCollator(tokenizer.pad_token_id, s.pad_to_multiple_of, s.max_tokens)
    return simcse_loader(lines, collator, batch, cfg.seed, s.num_workers)


def train(cfg: Config) -> dict:
    s = cfg.simcse
    # the STS data is read first: a bad path fails before training
    eval_pairs = sts_pairs(cfg.sts, cfg.data, s.eval_split) if s.eval_split else None
    tokenizer, encoder = load_encoder(cfg.encoder.path)
    if s.dropout is not None:
        set_dropout(encoder, s.dropout)
    trainer = build_simcse_trainer(cfg)
    loader = training_loader(cfg, tokenizer, trainer.world_size)
    module = SimCSEModule(encoder, s)
    trainer.fit(module, train_dataloaders=loader)
    metrics = {"train": {"loss": module.last_loss}, "steps": trainer.global_step}
    metrics["lines"] = len(loader.dataset)
    if trainer.is_global_zero:
        facts = training_facts(cfg, trainer.world_size, len(loader.dataset))
        metrics.update(export_and_score(cfg, tokenizer, module, facts, eval_pairs))
    return metrics


def encoder_card(variant: str, facts: dict, scores: dict | None = None) -> str:
    sections = {"Training": facts}
    if scores:
        sections["Evaluation (STS)"] = {
            k: scores[k] for k in ("split", "pairs", "pearson", "spearman")
        }
    return model_card(
        f"SimCSE {variant} encoder",
        CARD_SUMMARY,
        sections,
        CARD_USAGE,
        tags=("clinical", "bert", "simcse", "sentence-similarity"),
        pipeline_tag="sentence-similarity",
    )


def export_and_score(cfg: Config, tokenizer, module: SimCSEModule, facts: dict, eval_pairs) -> dict:
    """Write ``<run>/encoder/``; score it on STS when asked and add the scores to its card."""
    s = cfg.simcse
    out_dir = Path(cfg.paths.output_dir)
    encoder, mlp = module.encoder.eval(), module.mlp_state()
    target = out_dir / "encoder"
    export_encoder(target, encoder, tokenizer, mlp, s.max_tokens, encoder_card(s.variant, facts))
    if eval_pairs is None:
        return {}
    scores = evaluate(cfg.sts, eval_pairs, s.eval_split, tokenizer, encoder, mlp, out_dir)
    write_text_atomic(target / CARD_FILE, encoder_card(s.variant, facts, scores))
    return {"sts": scores}


def best_config(cfg: Config, job: Job) -> Config:
    """The best job's own config, retrained here and scored on ``select_eval_split``."""
    best = load_run_config(job.config_file)
    best.paths.output_dir = cfg.paths.output_dir
    best.simcse.select_from = None
    best.simcse.eval_split = cfg.simcse.select_eval_split
    return typed(best)


def select_and_retrain(cfg: Config) -> dict:
    s = cfg.simcse
    out_dir = Path(cfg.paths.output_dir)
    jobs = sweeps.read_jobs(s.select_from, "simcse.select_from")
    best = sweeps.best_job(jobs, s.select_metric, f"simcse.select_from '{s.select_from}'")
    rows = sweeps.trial_rows(jobs, list(dict.fromkeys([s.select_metric, *STS_COLUMNS])), best)
    if is_rank_zero():  # the trial table survives a failed retraining
        sweeps.write_trials(out_dir, rows)
    log.info("simcse selection: best job %s of %d", best.name, len(jobs))
    best_cfg = best_config(cfg, best)
    seed_everything(best_cfg.seed)
    metrics = train(best_cfg)
    if "sts" in metrics:  # rank zero, after the evaluation
        write_text_atomic(out_dir / "selection.md", selection_report(s, rows, metrics["sts"]))
    return {"selection": sweeps.summary(jobs, best, s.select_metric), **metrics}


def selection_report(simcse: SimCSEConfig, rows: list[dict], final: dict) -> str:
    best = next(row["job"] for row in rows if row["status"] == "best")
    return (
        f"# SimCSE selection\n\nSweep: `{simcse.select_from}`; selected by "
        f"`{simcse.select_metric}`.\n\n{sweeps.rows_markdown(rows)}\nBest job {best}, retrained and "
        f"scored on {final['split']}: Pearson {final['pearson']:.2f}, Spearman "
        f"{final['spearman']:.2f} ({final['pairs']} pairs).\n"
    )


def run(cfg: Config) -> dict:
    if cfg.simcse.select_from:
        return select_and_retrain(cfg)
    return train(cfg)
