"""task=pretrain: train a ClinicalNoteBERT encoder with MLM (+ note-type prediction) (SPEC 2).

    python -m clinicalnotebert task=pretrain corpus.path=<prepare run>/corpus model=tiny \
        seq=segment objective=mlm_ntp

Writes ``<run>/checkpoints/`` (Lightning, ``last.ckpt`` resumes a rerun in the same run dir),
``<run>/logs/`` (the tracker) and ``<run>/model/`` (a Hugging Face ``BertForMaskedLM`` folder
with the tokenizer and a model card). A curriculum is a chain of runs, each with
``model.init_from=<previous run>/model``.
"""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path

import numpy as np
from omegaconf import DictConfig

from clinicalnotebert.corpus.store import corpus_tokenizer, load_meta, load_variant
from clinicalnotebert.errors import UserError, require
from clinicalnotebert.hub import resolve_pretrained
from clinicalnotebert.models.bert import (
    BertWithPoolerForMaskedLM,
    build_mlm_model,
    count_parameters,
)
from clinicalnotebert.models.export import model_card, save_hf_model
from clinicalnotebert.models.tokenizer import load_tokenizer
from clinicalnotebert.pretrain.data import (
    BatchSettings,
    LoaderSettings,
    PretrainDataModule,
    padded_width,
    split_rows,
)
from clinicalnotebert.pretrain.masking import MaskingSettings, WholeWordMasker
from clinicalnotebert.pretrain.module import (
    NTP_HEAD_FILE,
    ObjectiveSettings,
    OptimizerSettings,
    PretrainingModule,
)
from clinicalnotebert.utils.distributed import one_ddp_job
from clinicalnotebert.utils.training import TokenThroughput, build_logger, build_trainer

log = logging.getLogger(__name__)

OBJECTIVES = ("mlm", "mlm_ntp")
LAST_CHECKPOINT = "last.ckpt"
TRAIN_METRICS = ("train/loss", "train/mlm_loss", "train/ntp_loss")


def run(cfg: DictConfig) -> dict:
    out_dir = Path(cfg.paths.output_dir)
    check_settings(cfg)
    tokenizer = training_tokenizer(cfg)
    dataset, lengths = load_training_data(cfg, tokenizer)
    model, new_weights = build_mlm_model(cfg.model, tokenizer, cfg.pretrain.tie_decoder)
    require(
        lengths.max() <= model.config.max_position_embeddings,
        f"corpus variant '{cfg.pretrain.variant}' has sequences of {lengths.max()} tokens, more "
        f"than the model's {model.config.max_position_embeddings} positions",
    )
    module = PretrainingModule(
        model, objective_settings(cfg), optimizer_settings(cfg), cfg.seed, cfg.pretrain.compile
    )
    if cfg.model.init_from:
        init_dir = resolve_pretrained(cfg.model.init_from, "model.init_from")
        if module.load_ntp_head(init_dir):
            log.info("note-type head continued from %s/%s", init_dir, NTP_HEAD_FILE)
    datamodule = build_datamodule(cfg, tokenizer, dataset, lengths)
    resume_from = resume_checkpoint(cfg.pretrain.ckpt_path, out_dir)
    throughput = TokenThroughput()
    trainer = make_trainer(cfg, out_dir, throughput, resume_from)
    with one_ddp_job(out_dir, trainer):
        trainer.fit(module, datamodule=datamodule, ckpt_path=resume_from, weights_only=True)
        trainer.save_checkpoint(out_dir / "checkpoints" / LAST_CHECKPOINT, weights_only=False)
        trained = {k: float(v) for k, v in trainer.callback_metrics.items()}
        validated = trainer.validate(module, datamodule=datamodule, verbose=False)
        metrics = run_metrics(
            trainer, module, trained, validated[0] if validated else {}, throughput
        )
        state = trainer.strategy.lightning_module_state_dict()  # every rank: FSDP gathers here
        if trainer.is_global_zero:
            card = pretrain_card(cfg, module, dataset, lengths, metrics, new_weights)
            export_model(module, state, tokenizer, out_dir / "model", card)
    return metrics


# ---- configuration ------------------------------------------------------------------------


def check_settings(cfg: DictConfig) -> None:
    """Config mistakes found before any data or model is loaded."""
    pre, objective = cfg.pretrain, cfg.objective
    require(
        objective.name in OBJECTIVES,
        f"objective.name '{objective.name}' is not one of {', '.join(OBJECTIVES)}",
    )
    require(
        0 < objective.mlm_probability < 1,
        f"objective.mlm_probability must be in (0, 1), got {objective.mlm_probability}",
    )
    require(pre.max_steps >= 1, f"pretrain.max_steps must be at least 1, got {pre.max_steps}")
    require(
        pre.batch.sequences >= 1 and pre.batch.accumulate >= 1,
        "pretrain.batch.sequences and pretrain.batch.accumulate must be at least 1",
    )
    require(
        0 <= pre.val_fraction < 1,
        f"pretrain.val_fraction must be in [0, 1), got {pre.val_fraction}",
    )
    for key in ("val_every_steps", "checkpoint_every_steps"):
        require(pre[key] >= 1, f"pretrain.{key} must be at least 1, got {pre[key]}")


def objective_settings(cfg: DictConfig) -> ObjectiveSettings:
    meta = load_meta(cfg.corpus.path)
    return ObjectiveSettings(
        name=cfg.objective.name,
        ntp_weight=float(cfg.objective.ntp_weight),
        num_note_types=len(meta["note_types"]),
        sparse=bool(cfg.pretrain.sparse_mlm),
    )


def optimizer_settings(cfg: DictConfig) -> OptimizerSettings:
    opt = cfg.pretrain.optimizer
    return OptimizerSettings(
        lr=float(opt.lr),
        weight_decay=float(opt.weight_decay),
        betas=(float(opt.betas[0]), float(opt.betas[1])),
        eps=float(opt.eps),
        warmup_ratio=float(cfg.pretrain.schedule.warmup_ratio),
        max_steps=int(cfg.pretrain.max_steps),
        fused=opt.fused,
    )


def batch_settings(cfg: DictConfig) -> BatchSettings:
    batch = cfg.pretrain.batch
    return BatchSettings(
        sequences=int(batch.sequences),
        tokens=int(batch.tokens) if batch.tokens else None,
        group_batches=int(batch.group_batches),
        pad_to_multiple_of=int(batch.pad_to_multiple_of),
    )


# ---- data ---------------------------------------------------------------------------------


def training_tokenizer(cfg: DictConfig):
    """The tokenizer the corpus ids belong to: the one recorded in the corpus ``meta.json``, or
    ``tokenizer.path`` (e.g. a moved copy), which must then have the same vocabulary."""
    recorded = corpus_tokenizer(cfg.corpus.path)
    if not cfg.tokenizer.path:
        return load_tokenizer(recorded, key=f"the tokenizer of corpus '{cfg.corpus.path}'")
    tokenizer = load_tokenizer(cfg.tokenizer.path)
    with contextlib.suppress(UserError):
        if load_tokenizer(recorded).get_vocab() != tokenizer.get_vocab():
            raise UserError(
                f"tokenizer.path '{cfg.tokenizer.path}' has another vocabulary than the corpus "
                f"tokenizer '{recorded}'; the corpus ids belong to the latter"
            )
    return tokenizer


def load_training_data(cfg: DictConfig, tokenizer):
    """``(dataset, lengths)`` of the configured variant, memory-mapped, checked against the
    tokenizer and the objective."""
    path, variant = cfg.corpus.path, cfg.pretrain.variant
    meta = load_meta(path)
    require(
        meta.get("vocab_size", len(tokenizer)) == len(tokenizer),
        f"corpus '{path}' was tokenised with {meta.get('vocab_size')} tokens but the tokenizer "
        f"has {len(tokenizer)}",
    )
    dataset = load_variant(path, variant)
    missing = {"input_ids", "length"} - set(dataset.column_names)
    require(not missing, f"corpus '{path}' variant '{variant}' lacks columns {sorted(missing)}")
    require(len(dataset) > 0, f"corpus '{path}' variant '{variant}' has no sequences")
    if cfg.objective.name == "mlm_ntp":
        require(
            "note_category" in dataset.column_names,
            f"objective=mlm_ntp needs note-type labels, but corpus '{path}' variant '{variant}' "
            "has no note_category column (use objective=mlm)",
        )
    lengths = dataset.with_format("arrow")["length"].to_numpy()
    budget = cfg.pretrain.batch.tokens
    if budget:
        longest = padded_width(int(lengths.max()), int(cfg.pretrain.batch.pad_to_multiple_of))
        require(
            budget >= longest,
            f"pretrain.batch.tokens {budget} is less than the longest (padded) sequence, {longest}",
        )
    return dataset, lengths


def build_datamodule(cfg: DictConfig, tokenizer, dataset, lengths: np.ndarray):
    pre = cfg.pretrain
    masking = MaskingSettings(
        probability=float(cfg.objective.mlm_probability),
        mask_token_ratio=float(pre.masking.mask_token_ratio),
        random_token_ratio=float(pre.masking.random_token_ratio),
        max_predictions=int(pre.masking.max_predictions),
    )
    batch = batch_settings(cfg)
    masker = WholeWordMasker(tokenizer, masking, batch.pad_to_multiple_of)
    splits = split_rows(len(dataset), pre.val_fraction, pre.val_max_sequences, cfg.seed)
    loader = LoaderSettings(cfg.seed, int(pre.batch.accumulate), int(pre.num_workers))
    with_labels = cfg.objective.name == "mlm_ntp"
    return PretrainDataModule(dataset, lengths, masker, batch, loader, splits, with_labels)


# ---- training -----------------------------------------------------------------------------


def resume_checkpoint(setting, out_dir: Path) -> str | None:
    """``last``: the run dir's ``checkpoints/last.ckpt`` when it exists (a rerun continues);
    ``null``: start afresh; anything else: a checkpoint file to resume from."""
    if not setting:
        return None
    if setting == "last":
        last = out_dir / "checkpoints" / LAST_CHECKPOINT
        return str(last) if last.is_file() else None
    require(Path(setting).is_file(), f"pretrain.ckpt_path '{setting}' does not exist")
    return str(setting)


def resumed_log_version(cfg: DictConfig, out_dir: Path) -> str:
    """A fresh logger subfolder (``resume-N``): the CSV logger would wipe the earlier run's."""
    logs = out_dir / str(cfg.logger.get("name", "logs"))
    number = 1
    while (logs / f"resume-{number}").exists():
        number += 1
    return f"resume-{number}"


def make_trainer(cfg: DictConfig, out_dir: Path, throughput, resume_from: str | None):
    from pytorch_lightning.callbacks import ModelCheckpoint

    pre = cfg.pretrain
    checkpoints = ModelCheckpoint(
        dirpath=out_dir / "checkpoints",
        filename="step-{step:07d}",
        auto_insert_metric_name=False,
        every_n_train_steps=pre.checkpoint_every_steps,
        save_last=True,
        save_top_k=-1 if pre.keep_step_checkpoints else 0,
        enable_version_counter=False,
    )
    version = resumed_log_version(cfg, out_dir) if resume_from and cfg.get("logger") else None
    accumulate = int(pre.batch.accumulate)
    return build_trainer(
        cfg,
        callbacks=[checkpoints, throughput],
        logger=build_logger(cfg, version=version),
        max_steps=int(pre.max_steps),
        max_epochs=-1,
        accumulate_grad_batches=accumulate,
        gradient_clip_val=pre.gradient_clip_val,
        val_check_interval=int(pre.val_every_steps) * accumulate,  # counted in micro-batches
        check_val_every_n_epoch=None,
        num_sanity_val_steps=0,
        use_distributed_sampler=False,  # the data module shards by rank itself
    )


# ---- results and export -------------------------------------------------------------------


def run_metrics(trainer, module, trained: dict, validated: dict, throughput) -> dict:
    """Final numbers: the last logged training losses, the final validation, the throughput."""
    metrics = {
        "steps": int(trainer.global_step),
        "processes": int(trainer.world_size),
        "parameters": count_parameters(module),
        "train": {k.removeprefix("train/"): v for k, v in trained.items() if k in TRAIN_METRICS},
        "val": {k.removeprefix("val/"): float(v) for k, v in validated.items()},
    }
    if throughput.tokens_per_second() > 0:  # 0 when a rerun found the training complete
        metrics["tokens_per_second"] = throughput.tokens_per_second()
        metrics["padding_fraction"] = throughput.padding_fraction()
    return metrics


def export_model(module, state: dict, tokenizer, target: Path, card: str) -> None:
    """``model/``: ``BertForMaskedLM``-loadable weights (+ the pooler, which ``AutoModel`` uses),
    the tokenizer, the note-type head in its own file, and the model card."""
    hf_state, ntp_state = module.split_state(state)
    model = BertWithPoolerForMaskedLM(module.model.config)
    model.load_state_dict({k: v.detach().cpu() for k, v in hf_state.items()})
    extra = {NTP_HEAD_FILE: ntp_state} if ntp_state else None
    save_hf_model(model, tokenizer, target, card, ["BertForMaskedLM"], extra)
    log.info("exported %s", target)


def pretrain_card(cfg, module, dataset, lengths, metrics: dict, new_weights: list[str]) -> str:
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
