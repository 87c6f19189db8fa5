"""Pretraining throughput: a baseline built like the reference against our training step.

    python benchmarks/pretrain_throughput.py                  # tiny and small, demo corpus
    python benchmarks/pretrain_throughput.py --sizes tiny --steps 20 --corpus <run>/corpus

In one process, on the same model size, data (a corpus variant, segment by default), batch
size (sequences) and number of steps:

(a) baseline, as the reference trains: Hugging Face ``BertForMaskedLM`` with eager attention
    scoring every position, whole-word masking, batches in random order padded to the band's
    maximum (256 tokens for segments), torch AdamW;
(b) ours: ``PretrainingModule`` (SDPA attention, MLM decoder at the masked positions only),
    length-grouped batches padded to the longest (multiple of 8), the configured AdamW.

Both use the same masking collator and gradient clipping; batches are built before timing, so
the numbers are training-step throughput. Tokens/s counts real (non-padding) tokens. MFU is the
useful model FLOPs (real tokens, decoder at masked positions, x3 for forward + backward) per
second over a matmul peak measured in this run (fp32 on CPU, bf16 on GPU).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import time
from pathlib import Path

import numpy as np
import torch

from clinicalnotebert.config import CONF_DIR
from clinicalnotebert.models.bert import build_mlm_model
from clinicalnotebert.pretrain import task
from clinicalnotebert.pretrain.data import SplitView, TrainStream
from clinicalnotebert.pretrain.module import PretrainingModule, build_optimizer


def compose(overrides: list[str]):
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir

    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return hydra_compose("config", overrides=overrides)


DEMO_PREPARE = ["task=prepare", "data=demo", "tokenizer.vocab_size=8192"]  # as the tests use


def demo_corpus(cache: Path) -> Path:
    """The demo corpus, prepared once into the cache and reused by later runs."""
    from clinicalnotebert.__main__ import execute

    run = cache / "bench-pretrain-prepare"
    if not (run / "corpus" / "meta.json").is_file():
        execute(compose([*DEMO_PREPARE, f"paths.output_dir={run}"]))
    return run / "corpus"


def matmul_peak(device: str, dtype: torch.dtype, size: int = 2048, repeats: int = 5) -> float:
    """Best FLOP/s of a square matmul: the denominator of MFU."""
    a = torch.randn(size, size, device=device, dtype=dtype)
    b = torch.randn(size, size, device=device, dtype=dtype)
    best = 0.0
    for _ in range(repeats + 1):
        sync(device)
        start = time.perf_counter()
        a @ b
        sync(device)
        best = max(best, 2 * size**3 / (time.perf_counter() - start))
    return best


def sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def useful_flops(batch: dict, config) -> float:
    """Model FLOPs of a training step on the real tokens (forward x 3), decoder at masked ones."""
    lengths = batch["attention_mask"].sum(1).double()
    hidden, layers, vocab = config.hidden_size, config.num_hidden_layers, config.vocab_size
    per_token = 2 * layers * (4 * hidden**2 + 2 * hidden * config.intermediate_size)
    attention = layers * 4 * hidden * float((lengths**2).sum())
    head = batch["masked_positions"].numel() * 2 * (hidden**2 + hidden * vocab)
    return 3 * (per_token * float(lengths.sum()) + attention + head)


def make_batches(cfg, steps: int, seed: int):
    """``(baseline_batches, our_batches, model_cfg, tokenizer)`` from one corpus variant."""
    tokenizer = task.training_tokenizer(cfg)
    dataset, lengths = task.load_training_data(cfg, tokenizer)
    datamodule = task.build_datamodule(cfg, tokenizer, dataset, lengths)
    every_row = SplitView(np.arange(len(lengths)), lengths, task.batch_settings(cfg), seed)
    ours = TrainStream(datamodule.batches, every_row)
    # The reference: random order, every batch padded to the band's maximum length.
    band_max = int(cfg.seq.max_tokens)
    order = np.random.default_rng(seed).permutation(len(lengths))
    per_batch = int(cfg.pretrain.batch.sequences)
    masker = datamodule.batches.masker
    masker_to_band = type(masker)(tokenizer, masker.settings, pad_to_multiple_of=band_max)
    baseline = []
    for step in range(steps):
        picked = order[step * per_batch : (step + 1) * per_batch]
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
    with torch.autocast(device, dtype=torch.bfloat16) if autocast else contextlib.nullcontext():
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

    return step


def bench_size(size: str, args, corpus: Path, device: str, peak: float) -> dict:
    overrides = [
        "task=pretrain",
        f"corpus.path={corpus}",
        f"model={size}",
        f"seq={args.variant}",
        f"pretrain.batch.sequences={args.batch}",
        "pretrain.batch.accumulate=1",
    ]
    cfg = compose(overrides)
    total = args.warmup + args.steps
    baseline_batches, our_batches, tokenizer = make_batches(cfg, total, cfg.seed)
    torch.manual_seed(cfg.seed)
    model, _ = build_mlm_model(cfg.model, tokenizer, tie_decoder=True)
    module = PretrainingModule(
        model, task.objective_settings(cfg), task.optimizer_settings(cfg), cfg.seed
    ).to(device)
    reference = baseline_model(model.config).to(device)
    settings = task.optimizer_settings(cfg)
    clip = float(cfg.pretrain.gradient_clip_val)
    ours_opt, _ = build_optimizer(module.named_parameters(), settings, device)
    base_opt = torch.optim.AdamW(
        reference.parameters(), lr=settings.lr, betas=settings.betas, eps=settings.eps,
        weight_decay=settings.weight_decay,
    )  # fmt: skip
    steps = {
        "baseline": trainer_step(reference, base_opt, lambda b: reference(
            input_ids=b["input_ids"], attention_mask=b["attention_mask"], labels=b["labels"]
        ).loss, clip),
        "ours": trainer_step(module, ours_opt, lambda b: module.losses(module.step(b))["loss"], clip),
    }  # fmt: skip
    data = {
        "baseline": [to_device(b, device) for b in baseline_batches],
        "ours": [to_device(b, device) for b in our_batches],
    }
    autocast = args.autocast == "bf16" or (args.autocast == "auto" and device == "cuda")
    seconds = {"baseline": 0.0, "ours": 0.0}
    for index in range(total):  # alternate, so that a busy machine slows both alike
        for name in seconds:
            spent = timed(steps[name], data[name][index], device, autocast)
            seconds[name] += spent if index >= args.warmup else 0.0
    results = {}
    for name, spent in seconds.items():
        measured = data[name][args.warmup :]
        tokens = sum(b["real_tokens"] for b in measured)
        results[name] = {
            "tokens_per_second": tokens / spent,
            "mfu": sum(useful_flops(b, model.config) for b in measured) / spent / peak,
            "padding_fraction": 1 - tokens / sum(b["padded_tokens"] for b in measured),
            "seconds_per_step": spent / len(measured),
        }
    results["ratio"] = (
        results["ours"]["tokens_per_second"] / results["baseline"]["tokens_per_second"]
    )
    results["parameters"] = sum(p.numel() for p in model.parameters())
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, help="a prepared corpus (default: the demo one)")
    parser.add_argument("--sizes", nargs="+", default=["tiny", "small"])
    parser.add_argument("--variant", default="segment")
    parser.add_argument("--batch", type=int, default=25, help="sequences per step (segment: 25)")
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--autocast", choices=["auto", "none", "bf16"], default="auto",
                        help="auto: bf16 on GPU, none (fp32) on CPU; applies to both")  # fmt: skip
    parser.add_argument("--threads", type=int, default=1,
                        help="CPU threads (on a shared machine, spinning OpenMP threads distort "
                        "timings; one thread gives stable ratios)")  # fmt: skip
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()

    from clinicalnotebert.utils.runtime import resolve_device

    device = resolve_device(args.device)
    torch.set_num_threads(args.threads)
    cache = Path(os.environ.get("CLINICALNOTEBERT_CACHE", Path.home() / ".cache/clinicalnotebert"))
    corpus = args.corpus or demo_corpus(cache)
    peak_dtype = torch.bfloat16 if device == "cuda" else torch.float32
    peak = matmul_peak(device, peak_dtype)
    print(f"device {device}, {torch.get_num_threads()} threads; matmul peak "
          f"{peak / 1e9:.1f} GFLOP/s ({peak_dtype}); variant {args.variant}, "
          f"{args.batch} sequences/step, {args.steps} timed steps")  # fmt: skip
    report = {"device": device, "peak_flops": peak, "sizes": {}}
    for size in args.sizes:
        result = bench_size(size, args, corpus, device, peak)
        report["sizes"][size] = result
        base, ours = result["baseline"], result["ours"]
        print(
            f"{size:>6} ({result['parameters'] / 1e6:.1f}M): baseline "
            f"{base['tokens_per_second']:,.0f} tok/s (MFU {base['mfu']:.1%}, padding "
            f"{base['padding_fraction']:.0%}) | ours {ours['tokens_per_second']:,.0f} tok/s "
            f"(MFU {ours['mfu']:.1%}, padding {ours['padding_fraction']:.0%}) | "
            f"ratio {result['ratio']:.2f}x",
            flush=True,
        )
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
