"""Datastore embeddings and the faiss index: self-retrieval, caching, settings."""

from __future__ import annotations

import numpy as np
import pytest

from clinicalnotebert.cache import encoder_fingerprint
from clinicalnotebert.config import IndexConfig
from clinicalnotebert.errors import UserError
from clinicalnotebert.models.encoder import load_encoder
from clinicalnotebert.rag.datastore import ChunkWriter, chunks_fingerprint, load_chunks
from clinicalnotebert.rag.index import EncoderSetup, cached_index, index_spec, search
from tests.helpers import clinical_sentences

SETTINGS = {
    "kind": "flat",
    "nlist": 4,
    "train_size": 1000,
    "nprobe": 1,
    "hnsw_m": 8,
    "ef_construction": 40,
    "ef_search": 64,
}


def spec(**changes):
    return index_spec(IndexConfig(**{**SETTINGS, **changes}))


@pytest.fixture(scope="module")
def encoder(micro_encoder):
    tokenizer, model = load_encoder(str(micro_encoder))
    fingerprint = encoder_fingerprint(micro_encoder)
    return EncoderSetup(tokenizer, model, fingerprint, "cls", 128, 16)


@pytest.fixture(scope="module")
def chunks(tmp_path_factory):
    root = tmp_path_factory.mktemp("chunks")
    writer = ChunkWriter(root / "staging")
    writer.add(clinical_sentences(80, seed=11))
    writer.save(root / "chunks", None, 0)
    return load_chunks(root / "chunks")


@pytest.mark.parametrize("kind", ["flat", "ivf", "hnsw"])
def test_a_chunk_used_as_query_retrieves_itself_first(encoder, chunks, kind, tmp_path):
    cached = cached_index(
        chunks, chunks_fingerprint(chunks), encoder, spec(kind=kind), 32, 42, tmp_path
    )
    assert cached.index.ntotal == len(chunks)
    texts = list(chunks["text"])
    queries = encoder.embed(texts)
    found = search(cached.index, queries, 3, batch_size=25)
    assert found.shape == (len(texts), 3)
    assert (found[:, 0] == np.arange(len(texts))).all()


def test_index_is_reused_only_while_encoder_and_datastore_are_unchanged(encoder, chunks, tmp_path):
    fingerprint = chunks_fingerprint(chunks)
    first = cached_index(chunks, fingerprint, encoder, spec(), 32, 42, tmp_path)
    again = cached_index(chunks, fingerprint, encoder, spec(), 32, 42, tmp_path)
    assert (first.embeddings_reused, first.index_reused) == (False, False)
    assert (again.embeddings_reused, again.index_reused) == (True, True)
    # Settings of other index kinds, and search-time ones, do not rebuild a flat index.
    tuned = cached_index(chunks, fingerprint, encoder, spec(nlist=8, ef_search=9), 32, 7, tmp_path)
    assert tuned.index_reused
    other_kind = cached_index(chunks, fingerprint, encoder, spec(kind="hnsw"), 32, 42, tmp_path)
    assert (other_kind.embeddings_reused, other_kind.index_reused) == (True, False)
    mean_pooled = EncoderSetup(
        encoder.tokenizer, encoder.model, encoder.fingerprint, "mean", 128, 16
    )
    assert not cached_index(
        chunks, fingerprint, mean_pooled, spec(), 32, 42, tmp_path
    ).embeddings_reused
    other_chunks = cached_index(chunks, "another datastore", encoder, spec(), 32, 42, tmp_path)
    assert not other_chunks.embeddings_reused
    # The reused index answers as the fresh one did.
    queries = encoder.embed(list(chunks["text"][:5]))
    assert (search(first.index, queries, 2, 8) == search(again.index, queries, 2, 8)).all()


def test_encoder_fingerprint_follows_the_files_not_the_folder(micro_encoder, tmp_path):
    import shutil

    before = encoder_fingerprint(micro_encoder)
    copy = shutil.copytree(micro_encoder, tmp_path / "copy")
    assert encoder_fingerprint(copy) == before  # the same model elsewhere: the same key
    tokenizer, model = load_encoder(str(copy))
    model.embeddings.word_embeddings.weight.data[0, 0] += 1.0
    model.save_pretrained(copy)
    assert encoder_fingerprint(copy) != before  # retrained weights: a new key
    assert encoder_fingerprint("org/model") == "hub:org/model"


def test_index_settings_are_checked(encoder, chunks, tmp_path):
    with pytest.raises(UserError, match="rag.index.kind"):
        spec(kind="annoy")
    with pytest.raises(UserError, match="rag.index.nlist"):
        cached_index(chunks, "x", encoder, spec(kind="ivf", nlist=10_000), 32, 42, tmp_path)
