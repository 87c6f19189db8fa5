"""On the demo data, retrieval lowers the demo LM's perplexity, and only because of what it finds.

The demo notes quote paragraphs that recur across patients (``clinicalnotebert/demo/notes/
shared.py``) and the demo LM can copy from its context (``clinicalnotebert/rag/lm.py``), so a
retriever that finds the right chunk of another patient's note helps the LM predict the test
patients' text. The retriever here is a seeded random micro BERT with a WordPiece vocabulary of
the demo notes: it ranks chunks by the words they share with the query, without any training.
The same run with the chunks chosen at random is the control.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from clinicalnotebert.demo import ensure_demo_data
from tests.helpers import compose, save_random_bert

# The demo data's defaults (data=demo: 400 patients) with a smaller test set and datastore, and
# the demo LM at its defaults; about a minute on one CPU thread.
SMALL_DEMO = [
    "task=rag",
    "data=demo",
    "rag.lm=demo",
    "rag.sample_words=5000",
    "rag.max_chunks=1500",
]


@pytest.fixture(scope="module")
def lexical_encoder(tmp_path_factory):
    """A random 2 x 128 BERT with a WordPiece vocabulary trained on the demo notes."""
    from clinicalnotebert.models.tokenizer import save_tokenizer, train_wordpiece

    out = tmp_path_factory.mktemp("lexical-encoder")
    cfg = compose(["data=demo"], out / "run")
    ensure_demo_data(cfg.data)
    notes = pd.read_csv(
        f"{cfg.data.mimic3_dir}/NOTEEVENTS.csv", usecols=["TEXT"], dtype=str, keep_default_na=False
    ).TEXT
    tokenizer = train_wordpiece(notes.iloc[::4].tolist(), vocab_size=4096)
    save_tokenizer(tokenizer, out)
    return save_random_bert(out, len(tokenizer), layers=2, intermediate_size=512)


@pytest.mark.slow
def test_retrieval_lowers_perplexity_on_the_demo_data(
    run_in_process, lexical_encoder, tmp_path, monkeypatch
):
    shared = [*SMALL_DEMO, f"encoder.path={lexical_encoder}", f"rag.cache_dir={tmp_path / 'cache'}"]
    found = run_in_process(*shared, output_dir=tmp_path / "retrieved")
    assert found["patients.overlap"] == 0
    assert found["patients.test"] > 0 and found["patients.datastore"] > 0
    assert found["windows.retrieved"] == found["windows.total"] - 1
    assert found["reduction.top1"] > 0.5, found
    assert found["reduction.topk"] > 2.0, found

    # Control: the same split, LM and windows, with k chunks drawn at random for each window.
    from clinicalnotebert.rag import task

    def random_chunks(index, vectors, k, batch_size):
        rng = np.random.default_rng(0)
        return np.stack([rng.choice(index.ntotal, k, replace=False) for _ in range(len(vectors))])

    monkeypatch.setattr(task, "search", random_chunks)
    control = run_in_process(*shared, output_dir=tmp_path / "random")
    assert all(control[f"reused.{part}"] for part in ("split", "embeddings", "index"))
    assert control["ppl.base"] == found["ppl.base"]
    assert control["reduction.top1"] < found["reduction.top1"] - 0.5, (control, found)
    assert control["reduction.topk"] < found["reduction.topk"] - 1.0, (control, found)
