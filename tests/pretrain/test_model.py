"""Model sizes, sparse vs dense MLM, continued pretraining from MiniLM, and the HF export."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch
from transformers import AutoModel, AutoModelForMaskedLM, AutoTokenizer, BertForMaskedLM

from clinicalnotebert.config import MaskingConfig, ObjectiveConfig
from clinicalnotebert.corpus.store import load_variant
from clinicalnotebert.errors import UserError
from clinicalnotebert.models.bert import build_mlm_model, scratch_config
from clinicalnotebert.pretrain.card import export_model
from clinicalnotebert.pretrain.data import CorpusRows
from clinicalnotebert.pretrain.masking import WholeWordMasker
from clinicalnotebert.pretrain.module import NTP_HEAD_FILE, PretrainingModule
from tests.helpers import compose, typed_config

MASKING = MaskingConfig(mask_token_ratio=0.8, random_token_ratio=0.1, max_predictions=512)


def make_module(model, objective="mlm", sparse=True, ntp_weight=1.0) -> PretrainingModule:
    objective_cfg = ObjectiveConfig(name=objective, mlm_probability=0.15, ntp_weight=ntp_weight)
    pretrain = typed_config(compose(["task=pretrain", f"pretrain.sparse_mlm={sparse}"], "."))
    return PretrainingModule(model, objective_cfg, pretrain.pretrain, 5, seed=0)


@pytest.fixture(scope="module")
def batch(demo_corpus, demo_tokenizer) -> dict:
    dataset = load_variant(demo_corpus, "sentence")
    ids, categories = CorpusRows(dataset, True).gather(np.arange(12))
    masker = WholeWordMasker(demo_tokenizer, MASKING, 0.15, 8)
    out = masker(ids, np.random.default_rng(0))
    out["note_category"] = torch.from_numpy(categories)
    return out


@pytest.fixture(scope="module")
def micro_cfg(tmp_path_factory):
    return typed_config(compose(["model=micro"], tmp_path_factory.mktemp("unused"))).model


def test_sparse_and_dense_heads_give_the_same_loss_and_gradients(micro_cfg, demo_tokenizer, batch):
    torch.manual_seed(0)
    model, _ = build_mlm_model(micro_cfg, demo_tokenizer, tie_decoder=True)
    module = make_module(model).eval()  # no dropout: the two passes see the same network
    results = {}
    for sparse in (True, False):
        module.zero_grad()
        out = module.step(batch, sparse=sparse)
        loss = module.losses(out)["loss"]
        loss.backward()
        grads = [p.grad.clone() for p in module.model.parameters() if p.grad is not None]
        results[sparse] = (loss.item(), grads)
    assert results[True][0] == pytest.approx(results[False][0], abs=1e-5)
    for sparse_grad, dense_grad in zip(results[True][1], results[False][1], strict=True):
        torch.testing.assert_close(sparse_grad, dense_grad, atol=1e-5, rtol=1e-4)
    # the standard HF model with the same weights computes the same loss over every position
    reference = BertForMaskedLM(model.config).eval()
    reference.load_state_dict(model.state_dict(), strict=False)
    with torch.no_grad():
        hf = reference(
            input_ids=batch["input_ids"],
            attention_mask=batch["attention_mask"],
            labels=batch["labels"],
        )
    assert hf.loss.item() == pytest.approx(results[True][0], abs=1e-5)


def test_the_loss_adds_the_note_type_loss_with_its_weight(micro_cfg, demo_tokenizer, batch):
    """loss = MLM loss + ntp_weight x NTP loss (the pretraining test's run keeps the weight 1)."""
    torch.manual_seed(0)
    model, _ = build_mlm_model(micro_cfg, demo_tokenizer, tie_decoder=True)
    module = make_module(model, "mlm_ntp", ntp_weight=3.0).eval()
    with torch.no_grad():
        losses = module.losses(module.step(batch))
    assert losses["loss"].item() == pytest.approx(
        losses["mlm_loss"].item() + 3.0 * losses["ntp_loss"].item(), rel=1e-6
    )
    assert 0 < losses["ntp_loss"].item() < 2 * np.log(5)  # five note types, an untrained head


def test_scratch_vocab_is_padded_to_a_multiple_of_64(micro_cfg, minilm_dir):
    tokenizer = AutoTokenizer.from_pretrained(str(minilm_dir))
    config = scratch_config(micro_cfg, tokenizer, tie_decoder=True)
    assert len(tokenizer) == 30522 and config.vocab_size == 30528
    assert config.num_hidden_layers == micro_cfg.num_hidden_layers == 2
    assert config.hidden_size == 128 and config._attn_implementation == "sdpa"


def test_init_from_minilm_keeps_every_encoder_weight(micro_cfg, minilm_dir, caplog):
    tokenizer = AutoTokenizer.from_pretrained(str(minilm_dir))
    cfg = replace(micro_cfg, init_from=str(minilm_dir))
    with caplog.at_level("INFO", logger="clinicalnotebert.models.bert"):
        model, new = build_mlm_model(cfg, tokenizer, tie_decoder=True)
    reference = AutoModel.from_pretrained(str(minilm_dir)).state_dict()
    ours = model.bert.state_dict()
    assert set(ours) == set(reference)
    assert all(torch.equal(ours[k], reference[k]) for k in reference)
    assert model.config.num_hidden_layers == 6  # the checkpoint's architecture, not model=micro
    # only the MLM head is new, and the log names it
    assert new and all(name.startswith("cls.predictions.") for name in new)
    assert "cls.predictions.transform.dense.weight" in new
    assert "cls.predictions.transform.dense.weight" in caplog.text
    assert model.cls.predictions.decoder.weight is model.bert.embeddings.word_embeddings.weight


def test_init_from_a_checkpoint_with_another_vocabulary_is_a_user_error(
    micro_cfg, minilm_dir, demo_tokenizer
):
    cfg = replace(micro_cfg, init_from=str(minilm_dir))
    with pytest.raises(UserError, match="another vocabulary"):
        build_mlm_model(cfg, demo_tokenizer, tie_decoder=True)


@pytest.mark.parametrize("tie_decoder", [True, False])
def test_export_reloads_with_auto_classes_and_gives_the_same_logits(
    micro_cfg, demo_tokenizer, batch, tmp_path, tie_decoder
):
    torch.manual_seed(1)
    model, _ = build_mlm_model(micro_cfg, demo_tokenizer, tie_decoder=tie_decoder)
    module = make_module(model, objective="mlm_ntp").eval()
    target = tmp_path / "model"
    export_model(module, module.state_dict(), demo_tokenizer, target, "# card\n")
    assert {"config.json", "model.safetensors", "tokenizer.json", "README.md", NTP_HEAD_FILE} <= {
        p.name for p in target.iterdir()
    }
    reloaded, info = AutoModelForMaskedLM.from_pretrained(str(target), output_loading_info=True)
    assert type(reloaded).__name__ == "BertForMaskedLM" and not info["missing_keys"]
    tied = (
        reloaded.cls.predictions.decoder.weight is reloaded.bert.embeddings.word_embeddings.weight
    )
    assert tied == tie_decoder
    inputs = {"input_ids": batch["input_ids"], "attention_mask": batch["attention_mask"]}
    with torch.no_grad():
        expected = module.model.cls(module.model.bert(**inputs).last_hidden_state)
        torch.testing.assert_close(reloaded.eval()(**inputs).logits, expected)
        encoder, info = AutoModel.from_pretrained(str(target), output_loading_info=True)
        assert not info["missing_keys"]  # the pooler is exported too
        pooled = encoder.eval()(**inputs).pooler_output
        torch.testing.assert_close(pooled, module.model.bert(**inputs).pooler_output)
    assert AutoTokenizer.from_pretrained(str(target)).get_vocab() == demo_tokenizer.get_vocab()
    # a later mlm_ntp run continues with the saved note-type head
    follower = make_module(build_mlm_model(micro_cfg, demo_tokenizer, True)[0], "mlm_ntp")
    assert follower.load_ntp_head(target)
    torch.testing.assert_close(follower.ntp_head.weight, module.ntp_head.weight)
