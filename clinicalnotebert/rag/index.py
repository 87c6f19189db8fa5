"""Datastore embeddings (a float32 memmap) and the faiss index over them (docs/reference.md §5.3).

The reference's index is exact L2 over unnormalised embeddings (``faiss.IndexFlat``); ``ivf``
(inverted lists, ``nprobe`` lists searched) and ``hnsw`` (a graph) trade exactness for speed
on large datastores. Both the embeddings and the index are cached on disk under keys that name
the encoder, the datastore and the build settings, so an unchanged setup reuses them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np

from clinicalnotebert.cache import entry_dir, load_or_build
from clinicalnotebert.config import IndexConfig
from clinicalnotebert.errors import UserError
from clinicalnotebert.models.encoder import encode_texts
from clinicalnotebert.utils.progress import progress

log = logging.getLogger(__name__)

EMBEDDINGS_FILE = "embeddings.npy"
INDEX_FILE = "index.faiss"


@dataclass(frozen=True)
class IndexSpec:
    kind: str
    nlist: int  # ivf: number of inverted lists
    train_size: int  # ivf: vectors sampled to train the coarse quantiser
    hnsw_m: int  # hnsw: graph degree
    ef_construction: int  # hnsw: build-time beam
    nprobe: int  # ivf: lists searched per query (search time only)
    ef_search: int  # hnsw: search beam (search time only)

    def build_settings(self, seed: int) -> dict:
        """What the saved index depends on (search-time knobs and other kinds' excluded)."""
        if self.kind == "hnsw":
            return {"kind": "hnsw", "m": self.hnsw_m, "ef_construction": self.ef_construction}
        if self.kind == "ivf":
            return {"kind": "ivf", "nlist": self.nlist, "train": self.train_size, "seed": seed}
        return {"kind": self.kind}


def index_spec(cfg: IndexConfig) -> IndexSpec:
    return IndexSpec(**{key: getattr(cfg, key) for key in IndexSpec.__dataclass_fields__})


@dataclass(frozen=True)
class EncoderSetup:
    """How datastore chunks and queries are embedded (the same for both)."""

    tokenizer: object
    model: object
    fingerprint: str
    pooling: str
    max_length: int
    batch_size: int

    def embed(self, texts: list[str], description: str | None = None) -> np.ndarray:
        return encode_texts(
            texts,
            self.tokenizer,
            self.model,
            self.pooling,
            self.batch_size,
            self.max_length,
            description=description,
        )

    def key_parts(self) -> dict:
        dtype = str(next(self.model.parameters()).dtype)
        return {
            "encoder": self.fingerprint,
            "pooling": self.pooling,
            "max_length": self.max_length,
            "dtype": dtype,
        }


def embed_chunks(chunks, encoder: EncoderSetup, block_rows: int, path: Path) -> None:
    """Write every chunk's embedding (float32, datastore order) to a ``.npy`` memmap."""
    rows = len(chunks)
    width = encoder.model.config.hidden_size
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(rows, width))
    starts = range(0, rows, block_rows)
    for start in progress(
        starts, "rag: encode datastore", rows, lambda s: min(block_rows, rows - s)
    ):
        stop = min(start + block_rows, rows)
        out[start:stop] = encoder.embed(chunks[start:stop]["text"])
    out.flush()
    del out


def build_index(embeddings: np.ndarray, spec: IndexSpec, block_rows: int, seed: int):
    rows, width = embeddings.shape
    if spec.kind == "flat":
        index = faiss.IndexFlatL2(width)
    elif spec.kind == "hnsw":
        index = faiss.IndexHNSWFlat(width, spec.hnsw_m)
        index.hnsw.efConstruction = spec.ef_construction
    else:
        index = ivf_index(embeddings, spec, seed)
    for start in progress(range(0, rows, block_rows), "rag: index datastore"):
        index.add(np.ascontiguousarray(embeddings[start : start + block_rows]))
    return index


def ivf_index(embeddings: np.ndarray, spec: IndexSpec, seed: int):
    rows, width = embeddings.shape
    if spec.nlist > rows:
        raise UserError(
            f"rag.index.nlist ({spec.nlist}) is larger than the datastore ({rows} chunks): "
            "lower it or use rag.index.kind=flat"
        )
    sample = np.random.default_rng(seed).choice(rows, min(spec.train_size, rows), replace=False)
    index = faiss.IndexIVFFlat(faiss.IndexFlatL2(width), width, spec.nlist, faiss.METRIC_L2)
    index.train(np.ascontiguousarray(embeddings[np.sort(sample)]))
    return index


def set_search_params(index, spec: IndexSpec) -> None:
    if spec.kind == "ivf":
        index.nprobe = spec.nprobe
    elif spec.kind == "hnsw":
        index.hnsw.efSearch = spec.ef_search


def search(index, queries: np.ndarray, k: int, batch_size: int) -> np.ndarray:
    """The ids (rows, k) of each query's nearest chunks, nearest first; -1 where none was found."""
    ids = np.full((len(queries), k), -1, dtype=np.int64)
    for start in progress(range(0, len(queries), batch_size), "rag: search"):
        _, found = index.search(np.ascontiguousarray(queries[start : start + batch_size]), k)
        ids[start : start + len(found)] = found
    return ids


@dataclass(frozen=True)
class CachedIndex:
    index: object
    embeddings_reused: bool
    index_reused: bool


def cached_index(
    chunks,
    chunks_fingerprint: str,
    encoder: EncoderSetup,
    spec: IndexSpec,
    block_rows: int,
    seed: int,
    cache_dir: Path,
) -> CachedIndex:
    """The datastore's index, built (embeddings first) only when no cached one matches; the
    embeddings are cached per encoder, each index (kind and build settings) beside them."""
    embed_parts = {"chunks": chunks_fingerprint, "rows": len(chunks), **encoder.key_parts()}

    def embed(out: Path) -> None:
        embed_chunks(chunks, encoder, block_rows, out / EMBEDDINGS_FILE)

    embed_dir, embeddings_reused = load_or_build(
        entry_dir(cache_dir, "embeddings", embed_parts), embed_parts, embed, lambda d: d
    )
    index_parts = spec.build_settings(seed)

    def build(out: Path) -> None:
        embeddings = np.load(embed_dir / EMBEDDINGS_FILE, mmap_mode="r")
        faiss.write_index(build_index(embeddings, spec, block_rows, seed), str(out / INDEX_FILE))

    index, index_reused = load_or_build(
        entry_dir(embed_dir, "index", index_parts),
        index_parts,
        build,
        lambda d: faiss.read_index(str(d / INDEX_FILE)),
    )
    if index.ntotal != len(chunks):
        raise UserError(f"rag: a cached index under {embed_dir} does not match its datastore")
    set_search_params(index, spec)
    return CachedIndex(index, embeddings_reused, index_reused)
