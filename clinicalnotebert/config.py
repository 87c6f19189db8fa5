"""Typed schemas of the conf sections; the values stay in ``conf/``, where a number lives.

Each section is a dataclass registered with Hydra's ConfigStore as the structured schema the YAML
merges into (``conf/config.yaml`` lists ``schema`` first), so a wrongly typed or unknown key fails
at composition. Fields carry no defaults (``MISSING``): the YAML gives every value, and a field
only some options of a group have defaults to ``None``. ``check`` methods test the choices and
ranges a type cannot say; :func:`typed` runs those checks (``OmegaConf.to_object``)
before any work starts, in single runs and in every job of a sweep.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Any

from omegaconf import MISSING, DictConfig, OmegaConf

from clinicalnotebert.errors import UserError

CONF_DIR = Path(__file__).resolve().parent.parent / "conf"  # the clone's conf/ (pip install -e .)
SCHEMA_NAME = "schema"

POOLINGS = ("cls", "mean")
VARIANTS = ("sentence", "segment", "note")
OBJECTIVES = ("mlm", "mlm_ntp")
PREDICT_TASKS = ("mort_hosp", "los_3", "drg")
MODALITIES = ("text", "struct", "both")
FINETUNE_TASKS = ("nli", "ner", "qa", "re")
STS_SPLITS = ("train", "dev", "test", "train_sample")
RAG_SOURCES = ("auto", "mimic3", "mimic4", "csv")


def one_of(key: str, value, choices: Sequence) -> None:
    if value not in choices:
        raise UserError(f"{key} '{value}' is not one of {', '.join(map(str, choices))}")


def at_least(key: str, value, low: float) -> None:
    if value < low:
        raise UserError(f"{key} must be at least {low:g} (got {value})")


def within(key: str, value, low: float, high: float, closed_low: bool = False) -> None:
    """``low < value < high`` (``low <= value`` when ``closed_low``)."""
    if not (low <= value if closed_low else low < value) or not value < high:
        bracket = "[" if closed_low else "("
        raise UserError(f"{key} must be in {bracket}{low:g}, {high:g}) (got {value})")


class Checked:
    """A section with checks beyond its types: ``check`` runs on composed values only, not on
    the schema's own placeholders (building the schema instantiates every section empty)."""

    def __post_init__(self) -> None:
        if all(getattr(self, item.name) != MISSING for item in fields(self)):
            self.check()

    def check(self) -> None:
        raise NotImplementedError


# ---- shared groups -------------------------------------------------------------------------


@dataclass
class TaskConfig:
    name: str = MISSING
    package: str = MISSING  # the stage package whose run(cfg) runs the task
    summary: list[str] = field(default_factory=list)  # metric keys of the closing table


@dataclass
class PathsConfig:
    output_dir: str = MISSING
    cache_dir: str = MISSING
    demo_dir: str = MISSING


@dataclass
class DataRagConfig:
    """Dataset-specific defaults the rag section reads (``data.rag.*``)."""

    sample_words: int | None = None
    chunks: str | None = None
    max_chunks: int | None = None
    lm: str | None = None


@dataclass
class DataConfig(Checked):
    name: str = MISSING
    format: str = MISSING
    # data=demo
    n_patients: int | None = None
    n_mimic4_notes: int | None = None
    generator_seed: int | None = None
    root: str | None = None
    # data=csv
    path: str | None = None
    text_column: str | None = None
    category_column: str | None = None
    subject_column: str | None = None
    category_map: dict[str, str] = field(default_factory=dict)
    # sources and evaluation data
    mimic3_dir: str | None = None
    mimic4_note_dir: str | None = None
    mimic_extract_dir: str | None = None
    sts_dir: str | None = None
    finetune_dir: str | None = None
    rag: DataRagConfig | None = None

    def check(self) -> None:
        one_of("data.format", self.format, ("mimic", "csv"))
        if self.format == "csv" and not self.path:
            raise UserError("data.path is not set: data=csv reads notes from data.path=<file>")


@dataclass
class ModelConfig(Checked):
    size: str = MISSING
    num_hidden_layers: int = MISSING
    hidden_size: int = MISSING
    num_attention_heads: int = MISSING
    intermediate_size: int = MISSING
    max_position_embeddings: int = MISSING
    hidden_dropout_prob: float = MISSING
    attention_probs_dropout_prob: float = MISSING
    init_from: str | None = None

    def check(self) -> None:
        if self.hidden_size % self.num_attention_heads:
            raise UserError(
                f"model.hidden_size {self.hidden_size} is not a multiple of "
                f"model.num_attention_heads {self.num_attention_heads}"
            )


@dataclass
class ObjectiveConfig(Checked):
    name: str = MISSING
    mlm_probability: float = MISSING
    ntp_weight: float = MISSING

    def check(self) -> None:
        one_of("objective.name", self.name, OBJECTIVES)
        within("objective.mlm_probability", self.mlm_probability, 0, 1)
        at_least("objective.ntp_weight", self.ntp_weight, 0)


@dataclass
class BatchShape:
    per_device: int = MISSING
    accumulate: int = MISSING


@dataclass
class SeqConfig(Checked):
    name: str = MISSING
    min_tokens: int = MISSING
    max_tokens: int = MISSING
    pretrain_batch: BatchShape = field(default_factory=BatchShape)
    simcse_batch: BatchShape = field(default_factory=BatchShape)
    simcse_fold: int = MISSING

    def check(self) -> None:
        one_of("seq.name", self.name, VARIANTS)


@dataclass
class PathLink:
    """A link to an earlier stage's artifact (``corpus.path``)."""

    path: str | None = None


@dataclass
class EncoderLink:
    """The encoder a stage uses: ``path`` (our run's ``model/`` or ``encoder/``, any local HF
    folder, or a hub id) and ``name``, the row it is reported under (null: named by its origin)."""

    path: str | None = None
    name: str | None = None


# ---- stages --------------------------------------------------------------------------------


@dataclass
class PrepareQuirks:
    segment_buffer_per_batch: bool = MISSING
    map_batch_size: int = MISSING


@dataclass
class PrepareConfig(Checked):
    variants: dict[str, SeqConfig] = field(default_factory=dict)
    min_sentence_tokens: int = MISSING
    sentence_splitter: str = MISSING
    dedup: bool = MISSING
    drop_iserror: bool = MISSING
    exclude_subjects: str | None = None
    max_note_chars: int = MISSING
    shard: str | None = None
    merge_from: Any = None  # a list of dirs or a glob
    num_proc: int = MISSING
    chunk_size: int = MISSING
    quirks: PrepareQuirks = field(default_factory=PrepareQuirks)

    def check(self) -> None:
        at_least("prepare.num_proc", self.num_proc, 1)
        at_least("prepare.chunk_size", self.chunk_size, 1)


@dataclass
class TokenizerConfig:
    path: str | None = None
    vocab_size: int = MISSING
    min_frequency: int = MISSING
    lowercase: bool = MISSING
    max_training_lines: int = MISSING


@dataclass
class OptimizerConfig:
    lr: float = MISSING
    weight_decay: float = MISSING
    betas: list[float] = field(default_factory=list)
    eps: float = MISSING
    fused: bool | None = None


@dataclass
class ScheduleConfig:
    warmup_ratio: float = MISSING


@dataclass
class PretrainBatch(Checked):
    sequences: int = MISSING
    accumulate: int = MISSING
    tokens: int | None = None
    group_batches: int = MISSING
    pad_to_multiple_of: int = MISSING

    def check(self) -> None:
        at_least("pretrain.batch.sequences", self.sequences, 1)
        at_least("pretrain.batch.accumulate", self.accumulate, 1)


@dataclass
class MaskingConfig:
    mask_token_ratio: float = MISSING
    random_token_ratio: float = MISSING
    max_predictions: int = MISSING


@dataclass
class PretrainConfig(Checked):
    variant: str = MISSING
    max_steps: int = MISSING
    optimizer: OptimizerConfig = field(default_factory=OptimizerConfig)
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    batch: PretrainBatch = field(default_factory=PretrainBatch)
    gradient_clip_val: float | None = None
    masking: MaskingConfig = field(default_factory=MaskingConfig)
    sparse_mlm: bool = MISSING
    tie_decoder: bool = MISSING
    compile: bool = MISSING
    val_fraction: float = MISSING
    val_max_sequences: int = MISSING
    val_every_steps: int = MISSING
    checkpoint_every_steps: int = MISSING
    keep_step_checkpoints: bool = MISSING
    ckpt_path: str | None = None
    num_workers: int = MISSING

    def check(self) -> None:
        one_of("pretrain.variant", self.variant, VARIANTS)
        at_least("pretrain.max_steps", self.max_steps, 0)  # 0: export the initial weights
        within("pretrain.val_fraction", self.val_fraction, 0, 1, closed_low=True)
        at_least("pretrain.val_every_steps", self.val_every_steps, 1)
        at_least("pretrain.checkpoint_every_steps", self.checkpoint_every_steps, 1)


@dataclass
class SimCSEConfig(Checked):
    variant: str = MISSING
    per_device: int = MISSING
    accumulate: int = MISSING
    fold: int = MISSING
    max_tokens: int = MISSING
    distinct: bool = MISSING
    max_steps: int = MISSING
    lr: float = MISSING
    weight_decay: float = MISSING
    warmup_ratio: float = MISSING
    adam_epsilon: float = MISSING
    gradient_clip_val: float | None = None
    temperature: float = MISSING
    dropout: float | None = None
    gather: bool = MISSING
    grad_cache: bool = MISSING
    chunk_size: int = MISSING
    pad_to_multiple_of: int = MISSING
    num_workers: int = MISSING
    num_proc: int = MISSING
    eval_split: str | None = None
    select_from: str | None = None
    select_metric: str = MISSING
    select_eval_split: str = MISSING

    def check(self) -> None:
        one_of("simcse.variant", self.variant, VARIANTS)
        at_least("simcse.max_steps", self.max_steps, 1)
        at_least("simcse.per_device", self.per_device, 2)  # one in-batch negative at least
        if self.eval_split is not None:
            one_of("simcse.eval_split", self.eval_split, STS_SPLITS)
        one_of("simcse.select_eval_split", self.select_eval_split, STS_SPLITS)


@dataclass
class StsConfig(Checked):
    path: str | None = None
    layout: str = MISSING
    split: str = MISSING
    pooling: str = MISSING
    batch_size: int = MISSING
    max_length: int = MISSING
    sample_size: int = MISSING
    sample_seed: int = MISSING
    device: str = MISSING

    def check(self) -> None:
        one_of("sts.layout", self.layout, ("auto", "clinicalsts", "stsb"))
        one_of("sts.split", self.split, STS_SPLITS)
        one_of("sts.pooling", self.pooling, (*POOLINGS, "cls_mlp"))


@dataclass
class LmWindow:
    max_length: int = MISSING
    stride: int = MISSING


@dataclass
class IndexConfig(Checked):
    kind: str = MISSING
    nlist: int = MISSING
    train_size: int = MISSING
    nprobe: int = MISSING
    hnsw_m: int = MISSING
    ef_construction: int = MISSING
    ef_search: int = MISSING

    def check(self) -> None:
        one_of("rag.index.kind", self.kind, ("flat", "ivf", "hnsw"))


@dataclass
class WordBandConfig:
    min_words: int = MISSING
    max_words: int = MISSING


@dataclass
class DemoLmConfig:
    vocab_size: int = MISSING
    n_positions: int = MISSING
    n_embd: int = MISSING
    n_layer: int = MISSING
    n_head: int = MISSING
    block_size: int = MISSING
    batch_size: int = MISSING
    steps: int = MISSING
    lr: float = MISSING
    train_chunks: int = MISSING


@dataclass
class RagConfig(Checked):
    lm: str | None = None
    window: str = MISSING
    windows: dict[str, LmWindow] = field(default_factory=dict)
    max_length: int = MISSING
    stride: int = MISSING
    lm_max_positions: int | None = None
    lm_batch_size: int = MISSING
    note_separator: str = MISSING
    k: int = MISSING
    query: str = MISSING
    min_query_tokens: int = MISSING
    pooling: str = MISSING
    encoder_max_length: int = MISSING
    encode_batch_size: int = MISSING
    search_batch_size: int = MISSING
    index: IndexConfig = field(default_factory=IndexConfig)
    test_set: str = MISSING
    datastore: str = MISSING
    sample_words: int = MISSING
    seed: int = MISSING
    chunks: str = MISSING
    chunk_bands: dict[str, WordBandConfig] = field(default_factory=dict)
    chunk_words: Any = MISSING  # ${.chunk_bands.${.chunks}}: a node interpolation, untyped
    max_chunks: int | None = None
    num_proc: int = MISSING
    notes_per_task: int = MISSING
    block_rows: int = MISSING
    device: str = MISSING
    precision: str = MISSING
    cache_dir: str = MISSING
    demo_lm: DemoLmConfig = field(default_factory=DemoLmConfig)

    def check(self) -> None:
        at_least("rag.k", self.k, 1)
        one_of("rag.query", self.query, ("prefix", "window"))
        one_of("rag.pooling", self.pooling, POOLINGS)
        one_of("rag.test_set", self.test_set, RAG_SOURCES)
        one_of("rag.datastore", self.datastore, RAG_SOURCES)
        one_of("rag.precision", self.precision, ("auto", "fp32", "bf16", "fp16"))
        at_least("rag.stride", self.stride, 1)
        if self.stride > self.max_length:
            raise UserError(
                f"rag.stride ({self.stride}) is larger than rag.max_length ({self.max_length}): "
                "tokens between windows would never be scored"
            )


@dataclass
class CohortSplit:
    val: float = MISSING
    test: float = MISSING
    seed: int = MISSING


@dataclass
class CohortConfig:
    path: str | None = None
    min_age: float = MISSING
    min_icu_hours: float = MISSING
    max_icu_hours: float = MISSING
    gap_hours: float = MISSING
    drg_types: list[str] = field(default_factory=list)
    drg_min_icu_hours: float | None = None
    drg_max_icu_hours: float | None = None
    split: CohortSplit = field(default_factory=CohortSplit)


@dataclass
class PredictNotesConfig(Checked):
    min_words: int = MISSING
    pooling: str = MISSING
    max_length: int = MISSING
    length_mode: str = MISSING
    standardize: bool = MISSING
    batch_size: int = MISSING
    cache: bool = MISSING

    def check(self) -> None:
        one_of("predict.notes.pooling", self.pooling, POOLINGS)
        one_of("predict.notes.length_mode", self.length_mode, ("truncate", "chunk"))


@dataclass
class HourlyConfig:
    extract_dir: str | None = None
    h5_path: str | None = None
    lab_lookback_hours: float = MISSING
    unmeasured_hours: float = MISSING
    cache: bool = MISSING


@dataclass
class PredictQuirks:
    read_padding: bool = MISSING


@dataclass
class PredictConfig(Checked):
    task: str = MISSING
    modality: str = MISSING
    window_hours: int = MISSING
    seeds: list[int] = field(default_factory=list)
    device: str = MISSING
    mimic3_dir: str | None = None
    cohort: CohortConfig = field(default_factory=CohortConfig)
    allow_pickle: bool = MISSING
    notes: PredictNotesConfig = field(default_factory=PredictNotesConfig)
    hourly: HourlyConfig = field(default_factory=HourlyConfig)
    hidden_txt: int = MISSING
    hidden_ts: int = MISSING
    hidden_size: int | None = None
    dropout: float = MISSING
    weight_decay: float = MISSING
    lr: float = MISSING
    batch_size: int = MISSING
    eval_batch_size: int = MISSING
    max_epochs: int = MISSING
    patience: int = MISSING
    save_predictions: bool = MISSING
    select_from: str | None = None
    quirks: PredictQuirks = field(default_factory=PredictQuirks)

    def check(self) -> None:
        one_of("predict.task", self.task, PREDICT_TASKS)
        one_of("predict.modality", self.modality, MODALITIES)
        if not self.seeds:
            raise UserError("predict.seeds is empty: give at least one seed")
        at_least("predict.window_hours", self.window_hours, 1)


@dataclass
class SplitFiles:
    train: str | None = None
    dev: str | None = None
    test: str | None = None


@dataclass
class SplitLimits:
    train: int | None = None
    dev: int | None = None
    test: int | None = None


@dataclass
class GridValues:
    lr: str = MISSING  # comma-separated, as a sweep override
    epochs: str = MISSING
    batch_size: str = MISSING


@dataclass
class NliConfig:
    max_length: int = MISSING
    labels: list[str] = field(default_factory=list)


@dataclass
class NerConfig:
    max_length: int = MISSING


@dataclass
class QaConfig(Checked):
    max_length: int = MISSING
    doc_stride: int = MISSING
    n_best: int = MISSING
    max_answer_length: int = MISSING
    version_2_with_negative: Any = MISSING  # auto | true | false
    null_score_diff_threshold: float = MISSING
    flatten_answers: bool = MISSING
    subsample_fraction: float | None = None
    subsample_seed: int = MISSING

    def check(self) -> None:
        one_of(
            "finetune.qa.version_2_with_negative",
            self.version_2_with_negative,
            ("auto", True, False),
        )


@dataclass
class ReConfig:
    max_length: int = MISSING


@dataclass
class FinetuneQuirks:
    drop_long_sentences: bool = MISSING


@dataclass
class FinetuneConfig(Checked):
    task: str = MISSING
    path: str | None = None
    files: SplitFiles = field(default_factory=SplitFiles)
    max_examples: SplitLimits = field(default_factory=SplitLimits)
    lr: float = MISSING
    epochs: int = MISSING
    batch_size: int = MISSING
    eval_batch_size: int = MISSING
    seed: int = MISSING
    scheduler: str = MISSING
    warmup_ratio: float = MISSING
    weight_decay: float = MISSING
    adam_epsilon: float = MISSING
    max_grad_norm: float | None = None
    length_group_factor: int = MISSING
    save_model: bool = MISSING
    checkpoints: bool = MISSING
    grid: bool = MISSING
    grid_values: GridValues = field(default_factory=GridValues)
    select_from: str | None = None
    main_metrics: dict[str, str] = field(default_factory=dict)
    select_metric: str = MISSING
    nli: NliConfig = field(default_factory=NliConfig)
    ner: NerConfig = field(default_factory=NerConfig)
    qa: QaConfig = field(default_factory=QaConfig)
    re: ReConfig = field(default_factory=ReConfig)
    quirks: FinetuneQuirks = field(default_factory=FinetuneQuirks)

    def check(self) -> None:
        one_of("finetune.task", self.task, FINETUNE_TASKS)
        # Hugging Face schedules that need no settings beyond warmup and length
        schedules = ("linear", "constant", "constant_with_warmup", "cosine", "polynomial")
        one_of("finetune.scheduler", self.scheduler, schedules)
        if self.lr <= 0:
            raise UserError(f"finetune.lr must be positive (got {self.lr})")
        at_least("finetune.epochs", self.epochs, 1)
        at_least("finetune.batch_size", self.batch_size, 1)


@dataclass
class ReportColumn:
    task: str = MISSING
    where: dict[str, Any] = field(default_factory=dict)
    group_by: str | None = None
    metric: Any = MISSING  # a key of metrics.json, or one per group_by value
    scale: float = MISSING


@dataclass
class ReportConfig:
    runs: list[str] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)
    columns: dict[str, ReportColumn] = field(default_factory=dict)
    baseline: list[str] = field(default_factory=list)  # row labels shown last, marked (baseline)
    plots: bool = MISSING
    readme: str | None = None
    readme_assets: str | None = MISSING  # the plots' folder for the README (relative to it)


@dataclass
class PipelineConfig(Checked):
    stages: dict[str, list[str]] = field(default_factory=dict)  # run first, in order
    per_encoder: dict[str, list[str]] = field(default_factory=dict)  # then per evaluated model
    closing: dict[str, list[str]] = field(default_factory=dict)  # then these (the report)
    run: list[str] | None = None
    dry_run: bool = MISSING
    isolation: str = MISSING  # auto | process
    workers: int = MISSING  # processes that run evaluated models' stages side by side
    overrides: list[str] | None = None
    curriculum_steps: dict[str, int] | None = None  # the paper pipeline's stage lengths

    def check(self) -> None:
        one_of("pipeline.isolation", self.isolation, ("auto", "process"))
        at_least("pipeline.workers", self.workers, 1)


EVALUATED_COLUMNS = ("finetune", "sts", "rag", "predict")


@dataclass
class EvaluateConfig:
    """Which encoders the evaluation stages score (``pipeline=evaluate``, the demo's rows)."""

    models: list[Any] = field(default_factory=list)  # zoo names, folders, hub ids or dicts
    name: str | None = None
    finetune_model: str | None = None
    sts_encoder: str | None = None
    rag_encoder: str | None = None
    predict_encoder: str | None = None


@dataclass
class ZooModel:
    """A published checkpoint family: its size and the checkpoint each column uses."""

    parameters: float | None = None  # millions, as published
    baseline: bool = False
    finetune: str | None = None
    sts: str | None = None
    rag: str | None = None
    predict: str | None = None


@dataclass
class ZooConfig:
    root: str | None = None  # a dir of local copies: <root>/<hub id>/ (org/name)
    models: dict[str, ZooModel] = field(default_factory=dict)


@dataclass
class Config:
    """The root: one field per conf group or section."""

    task: TaskConfig = field(default_factory=TaskConfig)
    paths: PathsConfig = field(default_factory=PathsConfig)
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    objective: ObjectiveConfig = field(default_factory=ObjectiveConfig)
    seq: SeqConfig = field(default_factory=SeqConfig)
    trainer: dict[str, Any] = field(default_factory=dict)  # Lightning Trainer kwargs (_target_)
    logger: dict[str, Any] | None = None  # a Lightning logger (_target_), or null
    prepare: PrepareConfig = field(default_factory=PrepareConfig)
    tokenizer: TokenizerConfig = field(default_factory=TokenizerConfig)
    pretrain: PretrainConfig = field(default_factory=PretrainConfig)
    simcse: SimCSEConfig = field(default_factory=SimCSEConfig)
    sts: StsConfig = field(default_factory=StsConfig)
    rag: RagConfig = field(default_factory=RagConfig)
    predict: PredictConfig = field(default_factory=PredictConfig)
    finetune: FinetuneConfig = field(default_factory=FinetuneConfig)
    report: ReportConfig = field(default_factory=ReportConfig)
    pipeline: PipelineConfig = field(default_factory=PipelineConfig)
    evaluate: EvaluateConfig = field(default_factory=EvaluateConfig)
    zoo: ZooConfig = field(default_factory=ZooConfig)
    seed: int = MISSING
    corpus: PathLink = field(default_factory=PathLink)
    encoder: EncoderLink = field(default_factory=EncoderLink)
    optimized_metric: str | None = None  # the metrics.json key a sweeper (Optuna) optimises


UNTYPED = ("trainer", "logger")  # kwargs of Lightning classes (_target_), checked when built


def register() -> None:
    """Make the schema known to Hydra (``conf/config.yaml`` lists it first in its defaults)."""
    from hydra.core.config_store import ConfigStore

    ConfigStore.instance().store(name=SCHEMA_NAME, node=Config)


def check_known_keys(node: DictConfig, path: str) -> None:
    """No key beyond the schema's, also none added with ``+key=...``."""
    schema = OmegaConf.get_type(node)
    known = {item.name for item in fields(schema)} if is_dataclass(schema) else None
    for key in node:
        if known is not None and key not in known:
            raise UserError(f"unknown config key '{path}.{key}'")
        child = node._get_node(key)
        if isinstance(child, DictConfig) and not child._is_none() and not child._is_missing():
            check_known_keys(child, f"{path}.{key}")


def typed(cfg: DictConfig) -> Config:
    """The composed config as :class:`Config` objects, after every section's ``check`` (choices,
    ranges) and the known-keys check; the run's values, resolved."""
    for key in cfg:
        node = cfg._get_node(key)
        if isinstance(node, DictConfig) and key not in UNTYPED:
            check_known_keys(node, str(key))
    missing = sorted(OmegaConf.missing_keys(cfg))
    if missing:
        raise UserError(f"missing required config value '{missing[0]}' (set it: {missing[0]}=...)")
    return OmegaConf.to_object(cfg)


def load_run_config(path: str | Path) -> DictConfig:
    """A finished run's ``.hydra/config.yaml`` on the schema (to be changed, then :func:`typed`)."""
    from omegaconf.errors import OmegaConfBaseException

    try:
        return OmegaConf.merge(OmegaConf.structured(Config), OmegaConf.load(path))
    except (OSError, OmegaConfBaseException) as exc:
        reason = " ".join(str(exc).split())
        raise UserError(f"{path}: not a config of this version ({reason})") from None


register()
