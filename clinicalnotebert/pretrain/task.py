"""task=pretrain: train a ClinicalNoteBERT encoder with MLM (+ note-type prediction) (docs/pretrain.md).

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

from clinicalnotebert.config import Config
from clinicalnotebert.corpus.store import corpus_tokenizer, load_meta, load_variant
from clinicalnotebert.errors import UserError, require
from clinicalnotebert.hub import resolve_pretrained
from clinicalnotebert.models.bert import (
    build_mlm_model,
    count_parameters,
)
from clinicalnotebert.models.tokenizer import load_tokenizer
from clinicalnotebert.pretrain.card import export_model, pretrain_card
from clinicalnotebert.pretrain.data import PretrainDataModule, padded_width, split_rows
from clinicalnotebert.pretrain.masking import WholeWordMasker
from clinicalnotebert.pretrain.module import NTP_HEAD_FILE, PretrainingModule
from clinicalnotebert.pretrain.resume import LAST_CHECKPOINT, resume_checkpoint, settings_record
from clinicalnotebert.utils.distributed import one_ddp_job
from clinicalnotebert.utils.training import (
    TokenThroughput,
    TrainingSetup,
    build_logger,
    build_trainer,
)

log = logging.getLogger(__name__)

TRAIN_METRICS = ("train/loss", "train/mlm_loss", "train/ntp_loss")


def run(cfg: Config) -> dict:
    out_dir = Path(cfg.paths.output_dir)
    tokenizer = training_tokenizer(cfg)
    dataset, lengths = load_training_data(cfg, tokenizer)
    model, new_weights = build_mlm_model(cfg.model, tokenizer, cfg.pretrain.tie_decoder)
    require(
        lengths.max() <= model.config.max_position_embeddings,
        f"corpus variant '{cfg.pretrain.variant}' has sequences of {lengths.max()} tokens, more "
        f"than the model's {model.config.max_position_embeddings} positions",
    )
    num_note_types = len(load_meta(cfg.corpus.path)["note_types"])
    record = settings_record(model.config, cfg.objective.name, cfg.pretrain.variant, tokenizer)
    resume_from = resume_checkpoint(cfg.pretrain.ckpt_path, out_dir, record)
    module = PretrainingModule(
        model, cfg.objective, cfg.pretrain, num_note_types, cfg.seed, checkpoint_record=record
    )
    if cfg.model.init_from:
        init_dir = resolve_pretrained(cfg.model.init_from, "model.init_from")
        if module.load_ntp_head(init_dir):
            log.info("note-type head continued from %s/%s", init_dir, NTP_HEAD_FILE)
    datamodule = build_datamodule(cfg, tokenizer, dataset, lengths)
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


def training_tokenizer(cfg: Config):
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


def load_training_data(cfg: Config, tokenizer):
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


def build_datamodule(cfg: Config, tokenizer, dataset, lengths: np.ndarray):
    pre = cfg.pretrain
    masker = WholeWordMasker(
        tokenizer, pre.masking, cfg.objective.mlm_probability, pre.batch.pad_to_multiple_of
    )
    splits = split_rows(len(dataset), pre.val_fraction, pre.val_max_sequences, cfg.seed)
    with_labels = cfg.objective.name == "mlm_ntp"
    return PretrainDataModule(
        dataset, lengths, masker, pre.batch, splits, with_labels, cfg.seed, pre.num_workers
    )


# ---- training -----------------------------------------------------------------------------


def resumed_log_version(cfg: Config, out_dir: Path) -> str:
    """A fresh logger subfolder (``resume-N``): the CSV logger would wipe the earlier run's."""
    logs = out_dir / TrainingSetup.from_config(cfg).log_dir_name
    number = 1
    while (logs / f"resume-{number}").exists():
        number += 1
    return f"resume-{number}"


def make_trainer(cfg: Config, out_dir: Path, throughput, resume_from: str | None):
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
    setup = TrainingSetup.from_config(cfg)
    version = resumed_log_version(cfg, out_dir) if resume_from and setup.logger else None
    accumulate = pre.batch.accumulate
    return build_trainer(
        setup,
        callbacks=[checkpoints, throughput],
        logger=build_logger(setup, version=version),
        max_steps=pre.max_steps,
        max_epochs=-1,
        accumulate_grad_batches=accumulate,
        gradient_clip_val=pre.gradient_clip_val,
        val_check_interval=pre.val_every_steps * accumulate,  # counted in micro-batches
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
