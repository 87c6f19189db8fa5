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
import json
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the checkout, installed or not

from benchmarks.common import (  # noqa: E402
    ThroughputRun,
    bench_size,
    cache_dir,
    demo_corpus,
    matmul_peak,
)


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
    parser.add_argument("--compile", action="store_true",
                        help="also time ours with torch.compile (pretrain.compile=true)")  # fmt: skip
    parser.add_argument("--threads", type=int, default=1,
                        help="CPU threads (on a shared machine, spinning OpenMP threads distort "
                        "timings; one thread gives stable ratios)")  # fmt: skip
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()

    from clinicalnotebert.utils.runtime import resolve_device

    device = resolve_device(args.device)
    torch.set_num_threads(args.threads)
    corpus = args.corpus or demo_corpus(cache_dir())
    autocast = args.autocast == "bf16" or (args.autocast == "auto" and device == "cuda")
    peak_dtype = torch.bfloat16 if autocast else torch.float32
    peak = matmul_peak(device, peak_dtype)
    print(f"device {device}, {torch.get_num_threads()} threads; matmul peak "
          f"{peak / 1e9:.1f} GFLOP/s ({peak_dtype}); variant {args.variant}, "
          f"{args.batch} sequences/step, {args.steps} timed steps")  # fmt: skip
    report = {"device": device, "peak_flops": peak, "sizes": {}}
    for size in args.sizes:
        run = ThroughputRun(
            size, args.variant, args.batch, args.steps, args.warmup, autocast, args.compile
        )
        result = bench_size(run, corpus, device, peak)
        report["sizes"][size] = result
        base, ours = result["baseline"], result["ours"]
        compiled = result.get("ours_compiled")
        print(
            f"{size:>6} ({result['parameters'] / 1e6:.1f}M): baseline "
            f"{base['tokens_per_second']:,.0f} tok/s (MFU {base['mfu']:.1%}, padding "
            f"{base['padding_fraction']:.0%}) | ours {ours['tokens_per_second']:,.0f} tok/s "
            f"(MFU {ours['mfu']:.1%}, padding {ours['padding_fraction']:.0%}) | "
            f"ratio {result['ratio']:.2f}x"
            + (
                f" | compiled {compiled['tokens_per_second']:,.0f} tok/s (MFU {compiled['mfu']:.1%})"
                if compiled
                else ""
            ),
            flush=True,
        )
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
