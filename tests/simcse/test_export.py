"""A SimCSE run's ``encoder/``: HF + sentence-transformers files, same embeddings both ways."""

from __future__ import annotations

import math

import numpy as np
import pytest

from clinicalnotebert.io import read_json
from clinicalnotebert.models.encoder import encode_texts, load_encoder
from clinicalnotebert.models.sentence_transformers_export import load_mlp
from tests.helpers import run_task

SENTENCES = [
    "The patient denies chest pain.",
    "Metoprolol 25 mg by mouth twice daily was started for rate control.",
    "Small left pleural effusion.",
]


@pytest.fixture(scope="module")
def simcse_run(simcse_args, tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("simcse-export")
    return run_task([*simcse_args, "simcse.max_steps=2"], run_dir), run_dir


def test_metrics(simcse_run):
    metrics, run_dir = simcse_run
    assert metrics["steps"] == 2
    assert (
        metrics["lines"] == 8 * 1 * 1 * 2 * 5
    )  # per_device x processes x accumulate x steps x fold
    assert 0 < metrics["train.loss"] < 2 * math.log(8)  # ~log(batch) at the start
    assert read_json(run_dir / "metrics.json") == metrics


def test_encoder_folder_layout(simcse_run):
    encoder = simcse_run[1] / "encoder"
    assert read_json(encoder / "modules.json") == [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {
            "idx": 1,
            "name": "1",
            "path": "1_Pooling",
            "type": "sentence_transformers.models.Pooling",
        },
    ]
    pooling = read_json(encoder / "1_Pooling" / "config.json")
    assert pooling["pooling_mode_cls_token"] is True
    assert pooling["pooling_mode_mean_tokens"] is False
    assert pooling["word_embedding_dimension"] == 128
    assert read_json(encoder / "sentence_bert_config.json")["max_seq_length"] == 32
    assert read_json(encoder / "config.json")["architectures"] == ["BertModel"]
    card = (encoder / "README.md").read_text()
    assert "SimCSE sentence encoder" in card and "simcse_mlp.safetensors" in card
    mlp = load_mlp(encoder)
    assert mlp["weight"].shape == (128, 128) and mlp["bias"].shape == (128,)
    assert mlp["bias"].abs().sum() > 0  # initialised at zero: two steps moved it
    assert not list(encoder.parent.glob(".tmp-*"))  # nothing half-written left behind


def test_sentence_transformers_and_automodel_give_our_cls_embeddings(simcse_run):
    from sentence_transformers import SentenceTransformer
    from transformers import AutoModel

    encoder = simcse_run[1] / "encoder"
    tokenizer, model = load_encoder(encoder)
    ours = encode_texts(SENTENCES, tokenizer, model, "cls")
    st_model = SentenceTransformer(str(encoder), device="cpu")
    assert ours.shape == (3, 128)
    assert np.allclose(st_model.encode(SENTENCES), ours, atol=1e-5)
    hf = AutoModel.from_pretrained(str(encoder)).eval()
    features = tokenizer(SENTENCES[:1], return_tensors="pt")
    assert np.allclose(hf(**features).last_hidden_state[0, 0].detach().numpy(), ours[0], atol=1e-5)


def test_cls_mlp_pooling_uses_the_saved_head(simcse_run, run_in_process):
    encoder = simcse_run[1] / "encoder"
    cls = run_in_process("task=sts", f"encoder.path={encoder}", "sts.split=dev")
    mlp = run_in_process("task=sts", f"encoder.path={encoder}", "sts.pooling=cls_mlp")
    assert cls["pairs"] == mlp["pairs"] == 200
    assert cls["spearman"] != mlp["spearman"]
