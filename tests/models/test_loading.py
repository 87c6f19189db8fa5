"""Damaged model folders: cut-off weights, or a config that does not fit them, are one error line
naming the folder's weights file."""

from __future__ import annotations

import json
import shutil

import pytest

from tests.helpers import assert_user_error, run_main


@pytest.fixture
def model_copy(micro_encoder, tmp_path):
    return shutil.copytree(micro_encoder, tmp_path / "model")


def test_cut_off_weights(model_copy, tmp_path):
    weights = model_copy / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    result = run_main(["task=sts", f"encoder.path={model_copy}"], tmp_path / "run")
    assert_user_error(result, f"encoder.path: cannot load the model in {weights}", "cut off")


def test_config_and_weights_disagree(model_copy, tmp_path):
    config = json.loads((model_copy / "config.json").read_text())
    config["intermediate_size"] = 64  # the weights hold 512
    (model_copy / "config.json").write_text(json.dumps(config))
    result = run_main(["task=sts", f"encoder.path={model_copy}"], tmp_path / "run")
    assert_user_error(result, str(model_copy / "model.safetensors"), "config.json and weights")


def test_a_folder_without_weights(model_copy, tmp_path):
    (model_copy / "model.safetensors").unlink()
    result = run_main(["task=sts", f"encoder.path={model_copy}"], tmp_path / "run")
    assert_user_error(result, f"encoder.path: cannot load the model in {model_copy}")


def test_damaged_init_from_for_pretraining(model_copy, demo_corpus, tmp_path):
    weights = model_copy / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:100])
    tokenizer = demo_corpus.parent / "tokenizer"
    # the corpus tokenizer differs from the model's: the vocabulary check comes first, so give
    # the model the corpus tokenizer's files
    for name in ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"):
        if (tokenizer / name).is_file():
            shutil.copy(tokenizer / name, model_copy / name)
    config = json.loads((model_copy / "config.json").read_text())
    config["vocab_size"] = 8192
    (model_copy / "config.json").write_text(json.dumps(config))
    result = run_main(
        ["task=pretrain", f"corpus.path={demo_corpus}", f"model.init_from={model_copy}"],
        tmp_path / "run",
    )
    assert_user_error(result, f"model.init_from: cannot load the model in {weights}")
