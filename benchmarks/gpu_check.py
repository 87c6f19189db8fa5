"""One-shot GPU check: every GPU code path run once, bf16 pretraining MFU, the speedup over the
reference recipe, in one call (one table; the same as JSON).

On the GPU box, from the repository root, with the project's dependencies importable (its venv,
or ``pip install -e .``; without an install the script puts the checkout on ``sys.path`` itself),
no hub access (random weights built from the configs, demo data from the generator):

    python benchmarks/gpu_check.py --out gpu_check.json            # <= 8 minutes on one GPU

On CPU, every check with micro models in under 3 minutes (``tests/benchmarks/test_gpu_check.py``
runs it, so that it cannot rot between GPU windows):

    python benchmarks/gpu_check.py --smoke --out smoke.json

Checks (``--only NAME ...`` runs some; ``env`` and ``data`` always run):

    env                     device, versions, the bf16 matmul peak (the MFU denominator)
    data                    demo data, corpus (task=prepare) and a random encoder saved from config
    throughput-128          pretraining step, ours vs the reference-style baseline in bf16: base at
    throughput-256            length 128 (1024 sentences a step), small at 256 (256 segments);
                              tokens/s, MFU and the ratio
    pretrain-bf16           task=pretrain trainer=gpu (bf16-mixed, fused AdamW, SDPA): 2 steps,
                            checkpoint, the same command with 4 steps resumes (no kill), export;
                            the exported model reloaded gives the checkpoint's logits (fp32
                            exactly, bf16 within tolerance, fused SDPA kernels only)
    pretrain-compile        4 steps with pretrain.compile=true and 4 eager: the same val loss
    simcse, finetune-ner,   a few steps in bf16-mixed and in fp32 from the same seed: finite
    finetune-qa,            losses, within bf16 tolerance of fp32, and the scores too (SimCSE:
    predict-fusion,         STS; NER / QA: F1; fusion: every test probability; RAG: perplexity
    rag-windows             without and with retrieval)
    ddp                     trainer=ddp on the GPUs present (1 GPU: one process, 2+: two) as its
                            own command line, against one process accumulating the same batches
    throughput-128-compile  ours at length 128 with torch.compile (last: cut first when time is short)

--smoke: the same checks on CPU with micro models, trainer=cpu with precision bf16-mixed against
32-true, trainer=ddp_sim (two gloo processes), one thread per process, the throughput in fp32
(CPUs without native bf16 matmuls take 10x longer in bf16; autocast runs in the other checks)
and torch.compile with the ``eager`` backend (dynamo's graph capture, without inductor's code
generation: minutes on 2 cores).

Goals (side by side in this run, never timed tests): ours at least 40% bf16 MFU for base at
length 128 (eager or compiled, the better), and at least 3x the baseline's tokens/s.

``--budget-s`` (default 450; smoke 300) bounds the whole run: a check that would start after it is SKIP, and so is a
running check that it cuts ("cut at the time budget"; a DDP process group is killed whole). Each
check is isolated: a failure is FAIL with the error's first line (the whole output in
``<workdir>/logs/<check>.log``) and the rest still run. ``--out`` is rewritten after every
check, so a run killed from outside still leaves the rows it finished. Exit status: 0 when no
check failed (SKIP is no failure), 1 when one did, 2 for a bad call (no GPU without ``--smoke``:
one ``error:`` line).
"""

from __future__ import annotations

import os

# Offline and quiet before torch / transformers are imported (no hub on the GPU box).
for _key, _value in {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "WANDB_MODE": "disabled",
    "TOKENIZERS_PARALLELISM": "false",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
}.items():
    os.environ.setdefault(_key, _value)

import argparse  # noqa: E402
import contextlib  # noqa: E402
import gc  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import platform  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import traceback  # noqa: E402
from collections.abc import Callable  # noqa: E402
from dataclasses import asdict, dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # the checkout, installed or not

import torch  # noqa: E402

from benchmarks.common import (  # noqa: E402
    ThroughputRun,
    bench_size,
    compose,
    matmul_peak,
    typed_config,
)

PASS, FAIL, SKIP = "PASS", "FAIL", "SKIP"
CHECKS = (
    "env",
    "data",
    "throughput-128",
    "throughput-256",
    "pretrain-bf16",
    "pretrain-compile",
    "simcse",
    "finetune-ner",
    "finetune-qa",
    "predict-fusion",
    "rag-windows",
    "ddp",
    "throughput-128-compile",
)
ALWAYS = ("env", "data")
GOALS = {"mfu": 0.40, "speedup": 3.0}  # base at 128: bf16 MFU; ours / baseline tokens/s


class CheckFailed(Exception):
    """A check ran but its figures are wrong (the message says how)."""


class BudgetSpent(Exception):
    """The run's time budget ran out while a check was running."""


# ---- what differs between the GPU run and the CPU smoke run ---------------------------------


@dataclass(frozen=True)
class Profile:
    """Sizes and trainer settings of a mode (``gpu`` or ``smoke``)."""

    name: str
    patients: int  # demo data size (data.n_patients)
    mimic4_notes: int
    vocab_size: int
    throughput: dict[str, ThroughputRun]
    compiled_throughput: ThroughputRun
    stage_model: str  # the random encoder of the stage checks
    run_model: str  # pretraining runs (pretrain-bf16, -compile, ddp)
    run_batch: int  # sequences per pretraining micro-batch
    bf16: tuple[str, ...]  # trainer overrides: bf16-mixed on the device
    fp32: tuple[str, ...]  # ... and fp32 on the same device
    compile_backend: str | None  # None: inductor; smoke: dynamo graph capture only
    rel_tol: float  # bf16 against fp32
    same_tol: float  # the same precision computed two ways (resume, compile, DDP)
    stage_batch: int  # SimCSE and fine-tuning batch size
    examples: int  # fine-tuning training examples (dev and test: half as many)
    # one: a single checkpoint, which both precisions predict from (with two, a val score one
    # stay apart can pick another epoch in one of them; one CI run saw probabilities 0.063 apart)
    predict_epochs: int
    predict_batch: int  # smoke: the whole training cohort in one batch (see check_predict_fusion)
    rag_words: int  # test-note words scored by the RAG check
    default_budget_s: float


def gpu_profile() -> Profile:
    def throughput(size, variant, batch, **extra):
        return ThroughputRun(size, variant, batch, steps=10, warmup=3, autocast=True, **extra)

    return Profile(
        name="gpu",
        patients=100,
        mimic4_notes=100,
        vocab_size=8192,
        throughput={
            "throughput-128": throughput("base", "sentence", 1024),
            "throughput-256": throughput("small", "segment", 256),
        },
        compiled_throughput=ThroughputRun(
            "base",
            "sentence",
            1024,
            steps=10,
            warmup=4,
            autocast=True,
            compile=True,
            baseline=False,
        ),
        stage_model="small",
        run_model="micro",
        run_batch=64,
        bf16=("trainer=gpu",),
        fp32=("trainer=gpu", "trainer.precision=32-true"),
        compile_backend=None,
        rel_tol=5e-2,
        same_tol=2e-2,
        stage_batch=16,
        examples=64,
        predict_epochs=1,
        predict_batch=8,
        rag_words=4000,
        default_budget_s=450,
    )


def smoke_profile() -> Profile:
    # fp32: this path's bf16 autocast runs in the other checks; CPUs without native bf16
    # matmuls (the dev VM's) take 10x longer in bf16.
    def throughput(variant, batch, **extra):
        return ThroughputRun("micro", variant, batch, steps=2, warmup=1, autocast=False, **extra)

    return Profile(
        name="smoke",
        patients=40,
        mimic4_notes=40,
        vocab_size=2048,
        throughput={
            "throughput-128": throughput("sentence", 8),
            "throughput-256": throughput("segment", 4),
        },
        compiled_throughput=throughput("sentence", 8, compile=True, baseline=False),
        stage_model="micro",
        run_model="micro",
        run_batch=4,
        bf16=("trainer=cpu", "trainer.precision=bf16-mixed"),
        fp32=("trainer=cpu", "trainer.precision=32-true"),
        compile_backend="eager",
        rel_tol=5e-2,
        same_tol=1e-3,
        stage_batch=4,
        examples=16,
        predict_epochs=1,
        predict_batch=32,
        rag_words=200,
        default_budget_s=300,
    )


# ---- the run's state and its rows -----------------------------------------------------------


@dataclass
class Row:
    check: str
    status: str
    figure: str
    seconds: float = 0.0
    kind: str = "check"  # or "goal"
    details: dict = field(default_factory=dict)


@dataclass
class Context:
    profile: Profile
    device: str
    work: Path
    deadline: float
    peaks: dict[str, float] = field(default_factory=dict)  # matmul FLOP/s: bf16, fp32
    corpus: Path | None = None
    encoder: Path | None = None
    results: dict[str, dict] = field(default_factory=dict)  # details of the checks that passed

    @property
    def smoke(self) -> bool:
        return self.profile.name == "smoke"

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def data(self) -> list[str]:
        """The demo data overrides every stage shares (one generated data set)."""
        p = self.profile
        return [
            "data=demo",
            f"data.n_patients={p.patients}",
            f"data.n_mimic4_notes={p.mimic4_notes}",
        ]

    def needs(self, *names: str) -> None:
        missing = [name for name in names if name not in self.results]
        if missing:
            raise CheckFailed(f"needs {', '.join(missing)}, which did not pass")

    def run_dir(self, name: str, fresh: bool = True) -> Path:
        """``<workdir>/runs/<name>``, emptied first unless ``fresh`` is false."""
        path = self.work / "runs" / name
        if fresh:
            shutil.rmtree(path, ignore_errors=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        return path


QUIET = ("~logger", "+trainer.enable_progress_bar=false")


def run_stage(overrides: list[str], run_dir: Path) -> dict:
    """One task in this process, as ``python -m clinicalnotebert`` runs it; its metrics."""
    from clinicalnotebert.runner import execute

    return execute(compose([*overrides], run_dir))


def finite(metrics: dict, *keys: str) -> None:
    for key in keys:
        value = metrics.get(key)
        if not isinstance(value, int | float) or not math.isfinite(value):
            raise CheckFailed(f"{key} is not a finite number: {value!r}")


def close(name: str, value: float, reference: float, rel: float, abs_: float = 0.0) -> float:
    """``|value - reference|`` relative to ``|reference|``; raises when beyond the tolerance."""
    for label, number in (("value", value), ("reference", reference)):
        if not math.isfinite(number):
            raise CheckFailed(f"{name}: {label} {number} is not finite")
    difference = abs(value - reference)
    if difference > rel * abs(reference) + abs_:
        raise CheckFailed(
            f"{name}: {value:.6g} against {reference:.6g} (|diff| {difference:.3g} > "
            f"{rel:g} x ref + {abs_:g})"
        )
    return difference / max(abs(reference), 1e-12)


def bf16_pair(ctx: Context, name: str, overrides: list[str]) -> tuple[dict, dict, Path, Path]:
    """The same run (same seed) in fp32 and in bf16-mixed on the device: their metrics, dirs."""
    dirs = ctx.run_dir(f"{name}-fp32"), ctx.run_dir(f"{name}-bf16")
    fp32 = run_stage([*overrides, *ctx.profile.fp32, *QUIET], dirs[0])
    bf16 = run_stage([*overrides, *ctx.profile.bf16, *QUIET], dirs[1])
    return fp32, bf16, *dirs


def compared(
    ctx: Context, fp32: dict, bf16: dict, losses: dict, scores: dict, shown: dict | None = None
) -> dict:
    """Every loss within ``rel_tol`` of fp32 (relative), every score within its absolute
    tolerance; all finite. ``losses``: key -> name, or (name, relative tolerance);
    ``scores``: key -> (name, abs tolerance);
    ``shown``: key -> name, only reported (a score that a few near-tied probabilities decide,
    NaN where a small test split has one class only)."""
    out = {}
    for key, label in (shown or {}).items():
        out[label] = {"fp32": fp32.get(key, math.nan), "bf16": bf16.get(key, math.nan)}
    for key, label in losses.items():
        label, tolerance = label if isinstance(label, tuple) else (label, ctx.profile.rel_tol)
        finite(fp32, key)
        finite(bf16, key)
        out[label] = {"fp32": fp32[key], "bf16": bf16[key]}
        out[label]["rel_diff"] = close(label, bf16[key], fp32[key], tolerance)
    for key, (label, tolerance) in scores.items():
        finite(fp32, key)
        finite(bf16, key)
        out[label] = {"fp32": fp32[key], "bf16": bf16[key]}
        close(label, bf16[key], fp32[key], 0.0, tolerance)
    return out


def pair_figure(details: dict) -> str:
    parts = []
    for label, values in details.items():
        if isinstance(values, dict) and "bf16" in values:
            parts.append(f"{label} {values['bf16']:.4g} (fp32 {values['fp32']:.4g})")
    return ", ".join(parts)


# ---- the checks ------------------------------------------------------------------------------


def check_env(ctx: Context) -> tuple[str, dict]:
    details = {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "device": ctx.device,
        "cpu_threads": torch.get_num_threads(),
    }
    if ctx.device == "cuda":
        properties = torch.cuda.get_device_properties(0)
        details.update(
            gpu=properties.name,
            gpus=torch.cuda.device_count(),
            memory_gib=round(properties.total_memory / 2**30, 1),
            bf16_supported=torch.cuda.is_bf16_supported(),
            capability=".".join(map(str, torch.cuda.get_device_capability(0))),
        )
        if not details["bf16_supported"]:
            raise CheckFailed(f"{properties.name} has no bf16 support")
        ctx.peaks["bf16"] = matmul_peak("cuda", torch.bfloat16, size=8192, repeats=5, inner=10)
        name = f"{properties.name} x{details['gpus']}"
    else:
        ctx.peaks["bf16"] = matmul_peak("cpu", torch.bfloat16, size=512, repeats=3)
        ctx.peaks["fp32"] = matmul_peak("cpu", torch.float32, size=1024, repeats=3)
        name = f"CPU ({details['cpu_threads']} threads)"
    details["matmul_peak_tflops"] = {k: v / 1e12 for k, v in ctx.peaks.items()}
    peaks = ", ".join(f"{k} {flops_text(v)}" for k, v in ctx.peaks.items())
    figure = f"{name}, torch {torch.__version__}, matmul peak {peaks}"
    return figure, details


def flops_text(flops: float) -> str:
    return f"{flops / 1e12:.4g} TFLOP/s" if flops >= 1e12 else f"{flops / 1e9:.4g} GFLOP/s"


def check_data(ctx: Context) -> tuple[str, dict]:
    """Demo data + corpus (``task=prepare``) and a random encoder of ``stage_model``'s shape."""
    from transformers import BertModel

    from clinicalnotebert.corpus.store import load_meta
    from clinicalnotebert.models.bert import scratch_config
    from clinicalnotebert.models.tokenizer import load_tokenizer

    p = ctx.profile
    prepare_dir = ctx.run_dir("prepare", fresh=False)  # reused with the same --workdir
    if not (prepare_dir / "corpus" / "meta.json").is_file():
        run_stage(
            ["task=prepare", *ctx.data(), f"tokenizer.vocab_size={p.vocab_size}", *QUIET],
            prepare_dir,
        )
    ctx.corpus = prepare_dir / "corpus"
    meta = load_meta(ctx.corpus)
    tokenizer = load_tokenizer(prepare_dir / "tokenizer")
    model_cfg = typed_config([f"model={p.stage_model}"], ctx.work).model
    torch.manual_seed(0)
    encoder = BertModel(scratch_config(model_cfg, tokenizer, tie_decoder=True))
    ctx.encoder = ctx.work / f"encoder-{p.stage_model}"
    encoder.save_pretrained(ctx.encoder)
    tokenizer.save_pretrained(ctx.encoder)
    sequences = {v: sum(meta["stats"]["sequences"][v].values()) for v in meta["variants"]}
    details = {"patients": p.patients, "vocab_size": len(tokenizer), "sequences": sequences}
    details["encoder_parameters"] = sum(t.numel() for t in encoder.parameters())
    figure = (
        f"{p.patients} demo patients, vocab {len(tokenizer)}, "
        f"{sequences['sentence']:,} sentences / {sequences['segment']:,} segments; "
        f"random {p.stage_model} encoder ({details['encoder_parameters'] / 1e6:.1f}M)"
    )
    return figure, details


def throughput_figure(result: dict, settings: dict) -> str:
    ours = result["ours"]
    precision = "bf16" if settings["bf16_autocast"] else "fp32"
    head = f"{settings['size']}@{settings['max_tokens']} {precision}"
    text = f"{head}: ours {ours['tokens_per_second']:,.0f} tok/s, MFU {ours['mfu']:.1%}"
    if "ours_compiled" in result:
        compiled = result["ours_compiled"]
        speedup = compiled["tokens_per_second"] / ours["tokens_per_second"]
        text = (
            f"{head}: compiled {compiled['tokens_per_second']:,.0f} tok/s, MFU "
            f"{compiled['mfu']:.1%} | eager {ours['tokens_per_second']:,.0f} tok/s, MFU "
            f"{ours['mfu']:.1%} | {speedup:.2f}x"
        )
    if "baseline" in result:
        base = result["baseline"]
        text += (
            f" | baseline {base['tokens_per_second']:,.0f} tok/s, MFU {base['mfu']:.1%}"
            f" | {result['ratio']:.2f}x"
        )
    return text


def check_throughput(name: str) -> Callable[[Context], tuple[str, dict]]:
    def check(ctx: Context) -> tuple[str, dict]:
        ctx.needs("env", "data")
        run = (
            ctx.profile.compiled_throughput
            if name.endswith("-compile")
            else ctx.profile.throughput[name]
        )
        peak = ctx.peaks["bf16" if run.autocast else "fp32"]
        result = bench_size(run, ctx.corpus, ctx.device, peak)
        for contender in ("baseline", "ours", "ours_compiled"):
            if contender not in result:
                continue
            figures = result[contender]
            finite(figures, "tokens_per_second", "mfu", "last_loss")
            if figures.get("fused_adamw") is not None and figures["fused_adamw"] != (
                ctx.device == "cuda"
            ):
                raise CheckFailed(f"{contender}: fused AdamW is {figures['fused_adamw']}")
        return throughput_figure(result, result["settings"]), result

    return check


def pretrain_overrides(ctx: Context, *extra: str) -> list[str]:
    """A short pretraining run: no dropout, so that two ways of computing it can be compared."""
    p = ctx.profile
    return [
        "task=pretrain",
        f"corpus.path={ctx.corpus}",
        f"model={p.run_model}",
        "objective=mlm_ntp",
        "seq=sentence",
        f"pretrain.batch.sequences={p.run_batch}",
        "pretrain.batch.accumulate=1",
        "pretrain.num_workers=0",
        "pretrain.val_max_sequences=16",
        "pretrain.checkpoint_every_steps=1",
        "pretrain.optimizer.lr=1e-3",
        "model.hidden_dropout_prob=0",
        "model.attention_probs_dropout_prob=0",
        *extra,
    ]


def logits_batch(tokenizer, corpus: Path, device: str, count: int = 8) -> dict:
    from clinicalnotebert.corpus.store import load_variant

    rows = load_variant(corpus, "sentence").select(range(count))
    texts = [tokenizer.decode(ids, skip_special_tokens=True) for ids in rows["input_ids"]]
    batch = tokenizer(texts, padding=True, truncation=True, max_length=64, return_tensors="pt")
    return {k: v.to(device) for k, v in batch.items() if k in ("input_ids", "attention_mask")}


def fused_sdpa(device: str):
    """On CUDA: SDPA may use a fused kernel only (flash, memory-efficient or cuDNN), never the
    math fallback; elsewhere no restriction."""
    if device != "cuda":
        return contextlib.nullcontext()
    from torch.nn.attention import SDPBackend, sdpa_kernel

    fused = [SDPBackend.FLASH_ATTENTION, SDPBackend.EFFICIENT_ATTENTION, SDPBackend.CUDNN_ATTENTION]
    return sdpa_kernel(fused)


def exported_logits(ctx: Context, run_dir: Path) -> dict:
    """The exported ``model/`` reloaded with plain transformers, against the checkpoint's weights:
    fp32 logits equal, bf16-autocast logits (fused SDPA on CUDA) within bf16 tolerance."""
    from transformers import AutoModelForMaskedLM, AutoTokenizer

    from clinicalnotebert.models.bert import BertWithPoolerForMaskedLM

    model_dir = run_dir / "model"
    exported = AutoModelForMaskedLM.from_pretrained(model_dir).to(ctx.device).eval()
    if exported.config._attn_implementation != "sdpa":
        raise CheckFailed(f"exported model attention is {exported.config._attn_implementation}")
    checkpoint = torch.load(
        run_dir / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=False
    )
    reference = BertWithPoolerForMaskedLM(exported.config)
    state = {
        k.removeprefix("model."): v
        for k, v in checkpoint["state_dict"].items()
        if k.startswith("model.")
    }
    missing, unexpected = reference.load_state_dict(state, strict=False)
    if unexpected or [k for k in missing if "decoder" not in k]:
        raise CheckFailed(f"checkpoint weights: missing {missing}, unexpected {unexpected}")
    reference = reference.to(ctx.device).eval()
    batch = logits_batch(AutoTokenizer.from_pretrained(model_dir), ctx.corpus, ctx.device)
    real = batch["attention_mask"].bool()
    with torch.no_grad():
        ref = reference.cls(reference.bert(**batch).last_hidden_state).float()[real]
        fp32 = exported(**batch).logits.float()[real]
        with torch.autocast(ctx.device, dtype=torch.bfloat16), fused_sdpa(ctx.device):
            bf16 = exported(**batch).logits.float()[real]
    scale = float(ref.abs().max())
    fp32_diff = float((fp32 - ref).abs().max())
    bf16_diff = float((bf16 - ref).abs().max())
    if not math.isfinite(bf16_diff) or fp32_diff > 1e-3 * max(scale, 1.0):
        raise CheckFailed(f"reloaded fp32 logits differ from the checkpoint's by {fp32_diff:.3g}")
    if bf16_diff > 5e-2 * max(scale, 1.0):
        raise CheckFailed(f"bf16 logits differ by {bf16_diff:.3g} (max |logit| {scale:.3g})")
    agree = float((bf16.argmax(-1) == ref.argmax(-1)).float().mean())
    return {
        "logits_max_abs": scale,
        "fp32_max_abs_diff": fp32_diff,
        "bf16_max_abs_diff": bf16_diff,
        "bf16_argmax_agreement": agree,
        "fused_sdpa_only": ctx.device == "cuda",
    }


def check_pretrain_bf16(ctx: Context) -> tuple[str, dict]:
    ctx.needs("data")
    run_dir = ctx.run_dir("pretrain-bf16")
    base = [*pretrain_overrides(ctx), *ctx.profile.bf16, *QUIET]
    first = run_stage([*base, "pretrain.max_steps=2", "pretrain.val_every_steps=2"], run_dir)
    checkpoint = run_dir / "checkpoints" / "last.ckpt"
    if first.get("steps") != 2 or not checkpoint.is_file():
        raise CheckFailed(
            f"first run: steps {first.get('steps')}, last.ckpt {checkpoint.is_file()}"
        )
    saved = torch.load(checkpoint, map_location="cpu", weights_only=False)
    fused = bool(saved["optimizer_states"][0]["param_groups"][0].get("fused"))
    if fused != (ctx.device == "cuda"):
        raise CheckFailed(f"fused AdamW {fused} on {ctx.device}")
    # The same command again, more steps: continues from last.ckpt (no kill, no new dir).
    resumed = run_stage([*base, "pretrain.max_steps=4", "pretrain.val_every_steps=2"], run_dir)
    if resumed.get("steps") != 4:
        raise CheckFailed(f"resumed run ended at step {resumed.get('steps')}, not 4")
    finite(resumed, "train.loss", "val.loss", "val.mlm_loss")
    logits = exported_logits(ctx, run_dir)
    details = {
        "first": first,
        "resumed": resumed,
        "fused_adamw": fused,
        "precision": "bf16-mixed",
        **logits,
    }
    figure = (
        f"2 + 2 steps resumed, val loss {resumed['val.loss']:.4g}; fused AdamW {fused}; "
        f"export reload: fp32 |dlogit| {logits['fp32_max_abs_diff']:.2g}, bf16 "
        f"{logits['bf16_max_abs_diff']:.2g} of {logits['logits_max_abs']:.3g}"
        + (" (fused SDPA)" if logits["fused_sdpa_only"] else "")
    )
    return figure, details


def check_pretrain_compile(ctx: Context) -> tuple[str, dict]:
    """4 steps with ``pretrain.compile=true`` and the same 4 steps eager: the same losses."""
    ctx.needs("data")
    base = [*pretrain_overrides(ctx), *ctx.profile.bf16, *QUIET, "pretrain.max_steps=4"]
    base.append("pretrain.val_every_steps=4")
    runs = {}
    for name, flag in (("compiled", "true"), ("eager", "false")):
        overrides = [*base, f"pretrain.compile={flag}"]
        runs[name] = run_stage(overrides, ctx.run_dir(f"pretrain-compile-{name}"))
        if runs[name].get("steps") != 4:
            raise CheckFailed(f"{name} run ended at step {runs[name].get('steps')}")
        finite(runs[name], "train.loss", "val.loss")
    compiled, eager = runs["compiled"]["val.loss"], runs["eager"]["val.loss"]
    rel = close("val loss, compiled vs eager", compiled, eager, ctx.profile.same_tol)
    backend = ctx.profile.compile_backend or "inductor"
    details = {**runs, "backend": backend, "rel_diff": rel}
    figure = (
        f"4 steps compiled ({backend}): val loss {compiled:.5g} = eager {eager:.5g} (rel {rel:.1e})"
    )
    return figure, details


def check_simcse(ctx: Context) -> tuple[str, dict]:
    ctx.needs("data")
    overrides = [
        "task=simcse",
        "seq=sentence",
        f"corpus.path={ctx.corpus}",
        f"encoder.path={ctx.encoder}",
        *ctx.data(),
        f"simcse.per_device={ctx.profile.stage_batch}",
        "simcse.max_tokens=32",
        "simcse.max_steps=2",
        "simcse.fold=1",
        "simcse.lr=1e-4",
        "simcse.eval_split=dev",
    ]
    fp32, bf16, *_ = bf16_pair(ctx, "simcse", overrides)
    details = compared(
        ctx, fp32, bf16, {"train.loss": "loss"}, {"sts.pearson": ("STS Pearson", 2.0)}
    )
    return f"2 steps: {pair_figure(details)}", details


def finetune_overrides(ctx: Context, task: str, *extra: str) -> list[str]:
    return [
        "task=finetune",
        *ctx.data(),
        f"finetune.task={task}",
        f"encoder.path={ctx.encoder}",
        "finetune.epochs=1",
        f"finetune.batch_size={ctx.profile.stage_batch}",
        f"finetune.max_examples.train={ctx.profile.examples}",
        f"finetune.max_examples.dev={ctx.profile.examples // 2}",
        f"finetune.max_examples.test={ctx.profile.examples // 2}",
        "finetune.lr=1e-3",
        "finetune.save_model=false",
        "finetune.checkpoints=false",
        *extra,
    ]


def check_finetune_ner(ctx: Context) -> tuple[str, dict]:
    ctx.needs("data")
    overrides = finetune_overrides(ctx, "ner")
    fp32, bf16, *_ = bf16_pair(ctx, "finetune-ner", overrides)
    details = compared(ctx, fp32, bf16, {"train.loss": "loss"}, {"test.f1": ("test F1", 0.15)})
    return f"1 epoch, {ctx.profile.examples} examples: {pair_figure(details)}", details


QA_FACTS = [
    ("effusion", "left base"),
    ("opacity", "right apex"),
    ("edema", "both lungs"),
    ("consolidation", "left lower lobe"),
    ("atelectasis", "right middle lobe"),
    ("nodule", "right upper lobe"),
]


def write_qa(directory: Path, sizes: dict[str, int]) -> Path:
    """SQuAD files of short radiology-like paragraphs: 'where is the <finding>?'."""
    import random

    rng = random.Random(0)
    directory.mkdir(parents=True, exist_ok=True)
    for split, size in sizes.items():
        paragraphs = []
        for number in range(size):
            facts = rng.sample(QA_FACTS, 3)
            sentences = [f"there is a small {what} in the {where} ." for what, where in facts]
            context = "findings : " + " ".join(sentences) + " no pneumothorax ."
            what, where = facts[number % 3]
            start = context.index(f"{what} in the {where}") + len(f"{what} in the ")
            qa = {
                "id": f"{split}-{number}",
                "question": f"where is the {what} ?",
                "answers": [{"text": where, "answer_start": start}],
            }
            paragraphs.append({"context": context, "qas": [qa]})
        (directory / f"{split}.json").write_text(
            json.dumps({"version": "v1.1", "data": [{"title": split, "paragraphs": paragraphs}]}),
            encoding="utf-8",
        )
    return directory


def check_finetune_qa(ctx: Context) -> tuple[str, dict]:
    ctx.needs("data")
    half = ctx.profile.examples // 2
    data = write_qa(ctx.work / "qa", {"train": ctx.profile.examples, "dev": half, "test": half})
    overrides = finetune_overrides(
        ctx, "qa", f"finetune.path={data}", "finetune.qa.max_length=48", "finetune.qa.doc_stride=16"
    )
    fp32, bf16, *_ = bf16_pair(ctx, "finetune-qa", overrides)
    details = compared(ctx, fp32, bf16, {"train.loss": "loss"}, {"test.f1": ("test F1", 0.15)})
    return f"1 epoch, {ctx.profile.examples} examples: {pair_figure(details)}", details


def check_predict_fusion(ctx: Context) -> tuple[str, dict]:
    """Notes + hourly signals (BiLSTM + GRU-D), bf16 against fp32: every test probability.

    On CPU, oneDNN's bf16 LSTM (torch 2.13, CPUs without native bf16) fails for a batch whose
    stays all have the same number of notes (a batch of one included); the smoke run takes the
    training cohort in one batch, so that the demo data does not meet it. cuDNN has no such
    limit."""
    import pandas as pd

    ctx.needs("data")
    overrides = [
        "task=predict",
        *ctx.data(),
        f"encoder.path={ctx.encoder}",
        "predict.task=mort_hosp",
        "predict.modality=both",
        "predict.seeds=[3407]",
        f"predict.max_epochs={ctx.profile.predict_epochs}",
        f"predict.batch_size={ctx.profile.predict_batch}",
        "predict.lr=1e-3",
        "predict.notes.pooling=mean",
        "predict.notes.standardize=true",
        "predict.notes.max_length=64",
        "predict.notes.cache=false",
        "predict.cohort.split.val=0.3",
        "predict.cohort.split.test=0.3",
    ]
    fp32, bf16, fp32_dir, bf16_dir = bf16_pair(ctx, "predict-fusion", overrides)
    details = compared(
        ctx, fp32, bf16, {}, {}, {"test.auroc.mean": "AUROC", "val.score.mean": "val AUROC"}
    )
    name = "predictions/seed-3407.csv"
    p32, p16 = (pd.read_csv(d / name)["p_positive"].to_numpy() for d in (fp32_dir, bf16_dir))
    if len(p32) != len(p16) or not len(p32):
        raise CheckFailed(f"{len(p32)} fp32 against {len(p16)} bf16 test predictions")
    difference = float(abs(p32 - p16).max())
    if not math.isfinite(difference) or difference > 0.05:
        raise CheckFailed(f"test probabilities differ by up to {difference:.3g} (> 0.05)")
    details["probabilities"] = {"stays": len(p32), "max_abs_diff": difference}
    figure = f"{len(p32)} test stays, max |dp| {difference:.2g}; {pair_figure(details)}"
    return figure, details


def check_rag(ctx: Context) -> tuple[str, dict]:
    ctx.needs("data")
    common = [
        "task=rag",
        *ctx.data(),
        f"encoder.path={ctx.encoder}",
        "rag.lm=demo",
        f"rag.sample_words={ctx.profile.rag_words}",
        "rag.k=2",
        "rag.chunks=sentence",
        "rag.max_chunks=300",
        "rag.max_length=96",
        "rag.stride=48",
        "rag.demo_lm.vocab_size=512",
        "rag.demo_lm.block_size=64",
        "rag.demo_lm.batch_size=4",
        "rag.demo_lm.steps=20",
        "rag.demo_lm.train_chunks=200",
        f"rag.cache_dir={ctx.work / 'rag-cache'}",
    ]
    runs = {}
    for precision in ("fp32", "bf16"):
        overrides = [*common, f"rag.precision={precision}", f"rag.device={ctx.device}"]
        runs[precision] = run_stage(overrides, ctx.run_dir(f"rag-{precision}"))
    # With retrieval, bf16 embeddings may rank other chunks first (a random encoder's vectors
    # are nearly parallel): a looser tolerance there.
    losses = {
        "ppl.base": "ppl base",
        "ppl.top1": ("ppl top1", 0.15),
        "ppl.topk": ("ppl topk", 0.15),
    }
    details = compared(ctx, runs["fp32"], runs["bf16"], losses, {})
    windows = runs["bf16"]["windows.total"]
    details["windows"] = windows
    return f"{windows} windows: {pair_figure(details)}", details


def ddp_processes(ctx: Context) -> int:
    return 2 if ctx.device != "cuda" else min(2, torch.cuda.device_count())


def run_process_group(command: list[str], env: dict, timeout: float):
    """``command`` in a session of its own; on a timeout (or the budget's alarm) the whole group
    is killed: the DDP workers it started too, which would otherwise wait on their peers."""
    process = subprocess.Popen(
        command,
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except BaseException:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        raise
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


def check_ddp(ctx: Context) -> tuple[str, dict]:
    """``trainer=ddp`` (smoke: ``ddp_sim``) as its own command line against one process that
    takes the same micro-batches per step (accumulating them): the same validation loss."""
    ctx.needs("data")
    processes = ddp_processes(ctx)
    args = [*pretrain_overrides(ctx, "pretrain.max_steps=3", "pretrain.val_every_steps=3")]
    args = [a for a in args if not a.startswith("objective=")] + ["objective=mlm", *QUIET]
    if ctx.smoke:
        ddp_trainer = ["trainer=ddp_sim"]
    else:
        ddp_trainer = ["trainer=ddp", f"trainer.devices={processes}"]
    run_dir = ctx.run_dir("ddp")
    command = [
        sys.executable,
        "-m",
        "clinicalnotebert",
        *args,
        *ddp_trainer,
        f"hydra.run.dir={run_dir}",
        "--json",
    ]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
    }
    result = run_process_group(command, env, timeout=max(ctx.remaining(), 1.0))
    (ctx.work / "logs" / "ddp-processes.log").write_text(result.stdout + result.stderr)
    if result.returncode != 0:
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        raise CheckFailed(f"exit {result.returncode}: {lines[-1] if lines else 'no output'}")
    printed = [line for line in result.stdout.splitlines() if line.startswith("{")]
    if not printed:
        raise CheckFailed("the DDP run printed no metrics line (--json)")
    distributed = json.loads(printed[-1])
    single_trainer = list(ctx.profile.bf16 if not ctx.smoke else ctx.profile.fp32)
    single = run_stage(
        [*args, *single_trainer, f"pretrain.batch.accumulate={processes}"],
        ctx.run_dir("ddp-single"),
    )
    if distributed.get("processes") != processes:
        raise CheckFailed(f"{distributed.get('processes')} processes ran, not {processes}")
    finite(distributed, "val.mlm_loss")
    tolerance = 1e-4 if ctx.smoke else ctx.profile.same_tol
    rel = close(
        "val loss, DDP vs one process",
        distributed["val.mlm_loss"],
        single["val.mlm_loss"],
        tolerance,
    )
    details = {"processes": processes, "ddp": distributed, "single": single, "rel_diff": rel}
    figure = (
        f"{processes} process{'es' if processes > 1 else ''} ({ddp_trainer[0]}): val loss "
        f"{distributed['val.mlm_loss']:.5g} = one process {single['val.mlm_loss']:.5g} "
        f"(rel {rel:.1e})"
    )
    return figure, details


CHECK_FUNCTIONS: dict[str, Callable[[Context], tuple[str, dict]]] = {
    "env": check_env,
    "data": check_data,
    "throughput-128": check_throughput("throughput-128"),
    "throughput-256": check_throughput("throughput-256"),
    "pretrain-bf16": check_pretrain_bf16,
    "pretrain-compile": check_pretrain_compile,
    "simcse": check_simcse,
    "finetune-ner": check_finetune_ner,
    "finetune-qa": check_finetune_qa,
    "predict-fusion": check_predict_fusion,
    "rag-windows": check_rag,
    "ddp": check_ddp,
    "throughput-128-compile": check_throughput("throughput-128-compile"),
}
MIN_SECONDS = {"smoke": 3.0, "gpu": 15.0}  # a check is not started with less time than this left


# ---- running the checks in isolation --------------------------------------------------------


@contextlib.contextmanager
def captured_output(log_file: Path):
    """stdout and stderr (file descriptors too: progress bars, C++ warnings) into ``log_file``."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with log_file.open("w") as sink:
        os.dup2(sink.fileno(), 1)
        os.dup2(sink.fileno(), 2)
        try:
            with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
                yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])


@contextlib.contextmanager
def time_limit(seconds: float):
    """Raise :class:`BudgetSpent` in this (main) thread after ``seconds``."""

    def expire(signum, frame):
        raise BudgetSpent(f"time budget spent after {seconds:.0f} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, max(seconds, 0.01))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@contextlib.contextmanager
def compile_backend(backend: str | None):
    """``nn.Module.compile`` with ``backend`` unless told otherwise (smoke: ``eager``, dynamo's
    graph capture without inductor's code generation, minutes on 2 CPU cores)."""
    if backend is None:
        yield
        return
    original = torch.nn.Module.compile

    def compile_with_backend(self, *args, **kwargs):
        kwargs.setdefault("backend", backend)
        return original(self, *args, **kwargs)

    torch.nn.Module.compile = compile_with_backend
    try:
        yield
    finally:
        torch.nn.Module.compile = original


def cpu_seconds() -> float:
    """CPU time of this process and its finished children (DDP workers, DataLoader workers)."""
    import resource

    own, children = (
        resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def budget_cut(exc: BaseException) -> bool:
    """Whether ``exc`` is the budget's alarm, or raised because of it (torch wraps it)."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, BudgetSpent | subprocess.TimeoutExpired):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False


def first_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or "(no message)"
    return f"{type(exc).__name__}: {text}"[:300]


def run_check(ctx: Context, name: str) -> Row:
    if ctx.remaining() < MIN_SECONDS[ctx.profile.name]:
        return Row(name, SKIP, f"time budget spent ({ctx.remaining():.0f} s left)")
    log_file = ctx.work / "logs" / f"{name}.log"
    start, cpu = time.monotonic(), cpu_seconds()
    try:
        with captured_output(log_file), time_limit(ctx.remaining()):
            try:
                figure, details = CHECK_FUNCTIONS[name](ctx)
            except Exception:
                traceback.print_exc()
                raise
        ctx.results[name] = details
        details["cpu_seconds"] = cpu_seconds() - cpu
        return Row(name, PASS, figure, time.monotonic() - start, details=details)
    except Exception as exc:
        spent = time.monotonic() - start
        if budget_cut(exc):  # not finished, not failed: like the checks after it, not measured
            return Row(name, SKIP, f"cut at the time budget after {spent:.0f} s", spent)
        row = Row(name, FAIL, first_line(exc), spent)
        row.details = {"error": first_line(exc), "log": str(log_file)}
        return row
    finally:
        gc.collect()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()


def goal_rows(ctx: Context) -> list[Row]:
    """The goals, from base at length 128 (speedup: every size measured), side by side."""
    rows = []
    measured = ctx.results.get("throughput-128")
    compiled = ctx.results.get("throughput-128-compile")
    status = SKIP if ctx.smoke else None
    note = " (smoke: micro on CPU, not the goal's setting)" if ctx.smoke else ""
    if measured:
        mfus = {"eager": measured["ours"]["mfu"]}
        if compiled:
            mfus["compiled"] = compiled["ours_compiled"]["mfu"]
        best = max(mfus, key=mfus.get)
        met = mfus[best] >= GOALS["mfu"]
        figure = f"{mfus[best]:.1%} ({best}) of the bf16 matmul peak; goal {GOALS['mfu']:.0%}"
        rows.append(
            Row(
                "goal: MFU base@128",
                status or (PASS if met else FAIL),
                figure + note,
                0,
                "goal",
                {"mfu": mfus, "goal": GOALS["mfu"]},
            )  # fmt: skip
        )
    else:
        rows.append(Row("goal: MFU base@128", SKIP, "not measured", 0, "goal"))
    ratios = {
        name: ctx.results[name]["ratio"] for name in ctx.profile.throughput if name in ctx.results
    }
    if ratios:
        met = min(ratios.values()) >= GOALS["speedup"]
        figure = ", ".join(
            f"{ctx.results[n]['settings']['size']}@{ctx.results[n]['settings']['max_tokens']} "
            f"{r:.2f}x"
            for n, r in ratios.items()
        )
        rows.append(
            Row(
                "goal: 3x baseline",
                status or (PASS if met else FAIL),
                f"{figure}; goal {GOALS['speedup']:.0f}x" + note,
                0,
                "goal",
                {"ratios": ratios, "goal": GOALS["speedup"]},
            )  # fmt: skip
        )
    else:
        rows.append(Row("goal: 3x baseline", SKIP, "not measured", 0, "goal"))
    return rows


def report(ctx: Context, rows: list[Row], started: float) -> dict:
    return {
        "mode": ctx.profile.name,
        "device": ctx.device,
        "seconds": time.monotonic() - started,
        "budget_s": ctx.deadline - started,
        "workdir": str(ctx.work),
        "rows": [asdict(row) for row in rows],
    }


def write_json(path: Path | None, payload: dict) -> None:
    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    os.replace(tmp, path)


def print_table(rows: list[Row], title: str) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    table.add_column("check")
    table.add_column("status")
    table.add_column("figure", overflow="fold")
    table.add_column("s", justify="right")
    colours = {PASS: "green", FAIL: "red", SKIP: "yellow"}
    for row in rows:
        status = f"[{colours[row.status]}]{row.status}[/]"
        seconds = f"{row.seconds:.0f}" if row.kind == "check" else ""
        table.add_row(row.check, status, row.figure, seconds)
    Console(width=max(120, Console().width)).print(table)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))
    parser.add_argument("--smoke", action="store_true", help="every check on CPU, micro models")
    parser.add_argument("--out", type=Path, help="write the table as JSON here")
    parser.add_argument("--budget-s", type=float, help="time budget (default: 450; smoke 300)")
    parser.add_argument("--only", nargs="+", choices=CHECKS, metavar="CHECK",
                        help=f"run these checks (and env, data): {', '.join(CHECKS)}")  # fmt: skip
    parser.add_argument("--workdir", type=Path, help="runs, logs and caches (default: a temp dir)")
    parser.add_argument("--threads", type=int,
                        help="CPU threads per process (default: 1 with --smoke, where OpenMP "
                        "threads spinning on a busy machine cost more than they give)")  # fmt: skip
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    started = time.monotonic()
    args = parse_args(argv)
    profile = smoke_profile() if args.smoke else gpu_profile()
    threads = args.threads or (1 if args.smoke else None)
    if threads:
        torch.set_num_threads(threads)
        os.environ["OMP_NUM_THREADS"] = str(threads)  # the DDP processes
    if args.smoke:
        device = "cpu"
    elif torch.cuda.is_available():
        device = "cuda"
    else:
        print("error: no GPU is visible (torch.cuda.is_available() is false); "
              "run with --smoke for the CPU check", file=sys.stderr)  # fmt: skip
        return 2
    work = args.workdir or Path(tempfile.mkdtemp(prefix="cnb-gpu-check-"))
    work.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("CLINICALNOTEBERT_CACHE", str(work / "cache"))
    budget = args.budget_s if args.budget_s is not None else profile.default_budget_s
    ctx = Context(profile, device, work.resolve(), started + budget)
    names = [n for n in CHECKS if not args.only or n in args.only or n in ALWAYS]
    print(f"gpu_check ({profile.name}) on {device}: {len(names)} checks, budget {budget:.0f} s, "
          f"workdir {ctx.work}", flush=True)  # fmt: skip
    rows: list[Row] = []
    with compile_backend(profile.compile_backend):
        for name in names:
            row = run_check(ctx, name)
            rows.append(row)
            print(f"  {row.check:<24} {row.status}  {row.seconds:5.0f} s  {row.figure}", flush=True)
            write_json(args.out, report(ctx, rows, started))
    rows += goal_rows(ctx)
    payload = report(ctx, rows, started)
    write_json(args.out, payload)
    print_table(rows, f"gpu_check ({profile.name}, {device}) in {payload['seconds']:.0f} s")
    failed = [row.check for row in rows if row.kind == "check" and row.status == FAIL]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
