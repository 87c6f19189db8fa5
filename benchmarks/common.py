"""Pieces the benchmarks share: composed configs, the demo corpus, the measured matmul peak, and
the pretraining step throughput of ours against a reference-style baseline (with MFU).

Used by ``pretrain_throughput.py`` (CPU, fp32 by default) and ``gpu_check.py`` (bf16 on a GPU).
Run from the repository root; the scripts put it on ``sys.path`` themselves.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]


def compose(overrides: list[str], output_dir: str | Path | None = None):
    """The ``DictConfig`` a command line gives (``paths.output_dir`` set: no Hydra run dir)."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir

    from clinicalnotebert.config import CONF_DIR

    output_dir = output_dir or Path(tempfile.gettempdir()) / "cnb-bench"  # never written to
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return hydra_compose("config", overrides=[*overrides, f"paths.output_dir={output_dir}"])


def typed_config(overrides: list[str], output_dir: str | Path | None = None):
    """The typed ``Config`` a stage receives (``clinicalnotebert.config.typed``)."""
    from clinicalnotebert.config import typed

    return typed(compose(overrides, output_dir))


def cache_dir() -> Path:
    """``$CLINICALNOTEBERT_CACHE`` (the project's cache root), else ``~/.cache/clinicalnotebert``."""
    default = Path.home() / ".cache" / "clinicalnotebert"
    return Path(os.environ.get("CLINICALNOTEBERT_CACHE", default))


DEMO_PREPARE = ["task=prepare", "data=demo", "tokenizer.vocab_size=8192"]  # as the tests use


def demo_corpus(cache: Path, extra: list[str] = (), name: str = "bench-pretrain-prepare") -> Path:
    """The demo corpus (``task=prepare data=demo``), prepared once into ``cache/name`` and reused."""
    from clinicalnotebert.runner import execute

    run = cache / name
    if not (run / "corpus" / "meta.json").is_file():
        execute(compose([*DEMO_PREPARE, *extra], run))
    return run / "corpus"


# ---- timing ---------------------------------------------------------------------------------


def sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def matmul_peak(
    device: str, dtype: torch.dtype, size: int | None = None, repeats: int = 5, inner: int = 1
) -> float:
    """Best FLOP/s of square matmuls (``inner`` back to back per timing): the MFU denominator.

    Default size: 8192 on a GPU (small ones measure launch latency, not the tensor cores), 2048
    on CPU."""
    size = size or (8192 if device.startswith("cuda") else 2048)
    a = torch.randn(size, size, device=device, dtype=dtype)
    b = torch.randn(size, size, device=device, dtype=dtype)
    best = 0.0
    for _ in range(repeats + 1):  # the first round warms up (cuBLAS handles, clocks)
        sync(device)
        start = time.perf_counter()
        for _ in range(inner):
            a @ b
        sync(device)
        best = max(best, inner * 2 * size**3 / (time.perf_counter() - start))
    return best


def useful_flops(batch: dict, config) -> float:
    """Model FLOPs of a training step on the real tokens (forward x 3), decoder at masked ones."""
    lengths = batch["attention_mask"].sum(1).double()
    hidden, layers, vocab = config.hidden_size, config.num_hidden_layers, config.vocab_size
    per_token = 2 * layers * (4 * hidden**2 + 2 * hidden * config.intermediate_size)
    attention = layers * 4 * hidden * float((lengths**2).sum())
    head = batch["masked_positions"].numel() * 2 * (hidden**2 + hidden * vocab)
    return 3 * (per_token * float(lengths.sum()) + attention + head)


# ---- the two training steps -------------------------------------------------------------------


def make_batches(cfg, steps: int, seed: int):
    """``(baseline_batches, our_batches, tokenizer)`` from one corpus variant (typed ``cfg``).

    Ours: the length-grouped stream the pretraining data module gives. The reference: random
    order, every batch padded to the band's maximum length (the order wraps around when the
    corpus has fewer sequences than the steps take)."""
    from clinicalnotebert.pretrain import task
    from clinicalnotebert.pretrain.data import SplitView, TrainStream
    from clinicalnotebert.pretrain.masking import WholeWordMasker

    tokenizer = task.training_tokenizer(cfg)
    dataset, lengths = task.load_training_data(cfg, tokenizer)
    datamodule = task.build_datamodule(cfg, tokenizer, dataset, lengths)
    every_row = SplitView(np.arange(len(lengths)), lengths, cfg.pretrain.batch, seed)
    ours = TrainStream(datamodule.batches, every_row)
    band_max = int(cfg.seq.max_tokens)
    order = np.random.default_rng(seed).permutation(len(lengths))
    per_batch = int(cfg.pretrain.batch.sequences)
    masker = datamodule.batches.masker
    masker_to_band = WholeWordMasker(tokenizer, masker.settings, masker.probability, band_max)
    baseline = []
    for step in range(steps):
        picked = order[np.arange(step * per_batch, (step + 1) * per_batch) % len(order)]
        sequences, _ = datamodule.batches.rows.gather(picked)
        baseline.append(masker_to_band(sequences, np.random.default_rng([seed, step])))
    return baseline, [ours[n] for n in range(steps)], tokenizer


def to_device(batch: dict, device: str) -> dict:
    return {k: v.to(device) if torch.is_tensor(v) else v for k, v in batch.items()}


def baseline_model(config):
    """``BertForMaskedLM`` of the same size with eager attention (the reference's transformers
    4.16 had no SDPA)."""
    from transformers import BertConfig, BertForMaskedLM

    return BertForMaskedLM(BertConfig(**{**config.to_dict(), "attn_implementation": "eager"}))


def timed(step, batch: dict, device: str, autocast: bool) -> float:
    """Seconds of one optimizer step on ``batch``."""
    sync(device)
    start = time.perf_counter()
    device_type = "cuda" if device.startswith("cuda") else "cpu"
    with (
        torch.autocast(device_type, dtype=torch.bfloat16) if autocast else contextlib.nullcontext()
    ):
        step(batch)
    sync(device)
    return time.perf_counter() - start


def trainer_step(model, optimizer, loss_of, clip: float):
    def step(batch):
        loss = loss_of(batch)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        step.last_loss = loss.detach()

    step.last_loss = None
    return step


@dataclass(frozen=True)
class ThroughputRun:
    """One side-by-side measurement: a model size on a corpus variant, in one process."""

    size: str
    variant: str = "segment"
    batch: int = 25  # sequences per step, both contenders
    steps: int = 8  # timed steps
    warmup: int = 2
    autocast: bool = False  # bf16 autocast for both
    compile: bool = False  # ours with torch.compile (pretrain.compile=true); a second contender
    baseline: bool = True  # also time the reference-style baseline


def bench_size(run: ThroughputRun, corpus: Path, device: str, peak: float) -> dict:
    """Tokens/s, MFU and padding of each contender, and the ratio ours / baseline.

    Contenders (alternating step by step, so that a busy machine slows all alike): ``baseline``
    (HF ``BertForMaskedLM``, eager attention, every position scored, batches padded to the
    band's maximum, torch AdamW), ``ours`` (``PretrainingModule``: SDPA, sparse MLM decoder,
    length-grouped batches, the configured AdamW: fused on CUDA) and, with ``run.compile``,
    ``ours_compiled`` (the same with ``pretrain.compile=true``)."""
    from clinicalnotebert.corpus.store import load_meta
    from clinicalnotebert.models.bert import build_mlm_model
    from clinicalnotebert.pretrain.module import PretrainingModule, build_optimizer

    overrides = [
        "task=pretrain",
        f"corpus.path={corpus}",
        f"model={run.size}",
        f"seq={run.variant}",
        f"pretrain.batch.sequences={run.batch}",
        "pretrain.batch.accumulate=1",
    ]
    cfg = typed_config(overrides)
    total = run.warmup + run.steps
    baseline_batches, our_batches, tokenizer = make_batches(cfg, total, cfg.seed)
    num_note_types = len(load_meta(corpus)["note_types"])
    clip = float(cfg.pretrain.gradient_clip_val)
    device_type = "cuda" if device.startswith("cuda") else "cpu"
    steps, data = {}, {}
    torch.manual_seed(cfg.seed)
    model, _ = build_mlm_model(cfg.model, tokenizer, cfg.pretrain.tie_decoder)
    config = model.config
    if run.baseline:
        reference = baseline_model(config).to(device)
        settings = cfg.pretrain.optimizer
        base_opt = torch.optim.AdamW(
            reference.parameters(), lr=settings.lr, betas=tuple(settings.betas), eps=settings.eps,
            weight_decay=settings.weight_decay,
        )  # fmt: skip
        steps["baseline"] = trainer_step(reference, base_opt, lambda b: reference(
            input_ids=b["input_ids"], attention_mask=b["attention_mask"], labels=b["labels"]
        ).loss, clip)  # fmt: skip
        data["baseline"] = [to_device(b, device) for b in baseline_batches]
    contenders = [("ours", False)] + ([("ours_compiled", True)] if run.compile else [])
    for name, compiled in contenders:
        torch.manual_seed(cfg.seed)
        if name != "ours":
            model, _ = build_mlm_model(cfg.model, tokenizer, cfg.pretrain.tie_decoder)
        pretrain = replace(cfg.pretrain, compile=compiled)
        module = PretrainingModule(model, cfg.objective, pretrain, num_note_types, cfg.seed)
        module = module.to(device)
        module.configure_model()  # compiles the encoder when pretrain.compile is set
        optimizer, _ = build_optimizer(module.named_parameters(), pretrain, device_type)
        steps[name] = trainer_step(
            module, optimizer, lambda b, m=module: m.losses(m.step(b))["loss"], clip
        )
        steps[name].fused = bool(optimizer.defaults.get("fused"))
        data[name] = [to_device(b, device) for b in our_batches]
    seconds = dict.fromkeys(steps, 0.0)
    for index in range(total):
        for name in seconds:
            spent = timed(steps[name], data[name][index], device, run.autocast)
            seconds[name] += spent if index >= run.warmup else 0.0
    results = {}
    for name, spent in seconds.items():
        measured = data[name][run.warmup :]
        tokens = sum(b["real_tokens"] for b in measured)
        results[name] = {
            "tokens_per_second": tokens / spent,
            "mfu": sum(useful_flops(b, config) for b in measured) / spent / peak,
            "padding_fraction": 1 - tokens / sum(b["padded_tokens"] for b in measured),
            "seconds_per_step": spent / len(measured),
            "last_loss": float(steps[name].last_loss.float()),
        }
        if hasattr(steps[name], "fused"):
            results[name]["fused_adamw"] = steps[name].fused
    if run.baseline:
        results["ratio"] = (
            results["ours"]["tokens_per_second"] / results["baseline"]["tokens_per_second"]
        )
    results["parameters"] = sum(p.numel() for p in model.parameters())
    results["settings"] = {
        "size": run.size,
        "variant": run.variant,
        "max_tokens": int(cfg.seq.max_tokens),
        "batch": run.batch,
        "steps": run.steps,
        "warmup": run.warmup,
        "bf16_autocast": run.autocast,
        "vocab_size": int(config.vocab_size),
    }
    return results
