"""task=rag end to end on the demo data, and its user errors."""

from __future__ import annotations

import math
import shutil

import pytest
import torch

from clinicalnotebert.errors import UserError
from clinicalnotebert.io import read_json
from clinicalnotebert.rag.lm import load_lm
from clinicalnotebert.rag.split import Split
from clinicalnotebert.rag.task import check_split
from tests.helpers import assert_user_error, compose

# A small, fast demo: few test words, a sampled datastore and a briefly trained demo LM.
FAST_DEMO = [
    "task=rag",
    "model=micro",
    "rag.lm=demo",
    "rag.sample_words=3000",
    "rag.chunks=sentence",
    "rag.max_chunks=400",
    "rag.demo_lm.vocab_size=512",
    "rag.demo_lm.n_embd=64",
    "rag.demo_lm.n_head=2",
    "rag.demo_lm.block_size=64",
    "rag.demo_lm.batch_size=4",
    "rag.demo_lm.steps=20",
]
METRICS = {
    "ppl.base",
    "ppl.top1",
    "ppl.topk",
    "reduction.top1",
    "reduction.topk",
    "patients.test",
    "patients.datastore",
    "patients.overlap",
    "notes.test",
    "words.test",
    "chunks.datastore",
    "tokens.total",
    "tokens.scored",
    "windows.total",
    "windows.retrieved",
    "rag.query",
    "k",
}


def test_demo_run_writes_all_metrics_and_reuses_its_index(run_in_process, micro_encoder, tmp_path):
    shared = [*FAST_DEMO, f"encoder.path={micro_encoder}", f"rag.cache_dir={tmp_path / 'cache'}"]
    metrics = run_in_process(*shared, output_dir=tmp_path / "prefix")
    assert read_json(tmp_path / "prefix" / "metrics.json") == metrics
    assert set(metrics) >= METRICS
    assert metrics["patients.overlap"] == 0
    assert metrics["patients.test"] > 0 and metrics["patients.datastore"] > 0
    assert metrics["words.test"] > 3000
    assert metrics["chunks.datastore"] == 400
    for name in ("base", "top1", "topk"):
        assert 1.0 < metrics[f"ppl.{name}"] < 1e6 and math.isfinite(metrics[f"ppl.{name}"])
        if name != "base":
            reduction = (metrics["ppl.base"] - metrics[f"ppl.{name}"]) / metrics["ppl.base"] * 100
            assert metrics[f"reduction.{name}"] == pytest.approx(reduction)
    assert metrics["tokens.scored"] == metrics["tokens.total"] - 1
    # Every window but the first (its unscored prefix is one token) retrieves.
    assert metrics["windows.retrieved"] == metrics["windows.total"] - 1
    assert (metrics["rag.query"], metrics["k"]) == ("prefix", 5)
    subjects = (tmp_path / "prefix" / "test_subjects.txt").read_text().split()
    assert len(subjects) == metrics["patients.test"]
    assert not any(metrics[f"reused.{part}"] for part in ("split", "embeddings", "index"))

    window = run_in_process(*shared, "rag.query=window", output_dir=tmp_path / "window")
    assert all(window[f"reused.{part}"] for part in ("split", "embeddings", "index"))
    assert window["ppl.base"] == metrics["ppl.base"]
    assert window["windows.retrieved"] == window["windows.total"]
    assert window["rag.query"] == "window"


def test_missing_lm_path_is_one_error_line(cli, micro_encoder, tmp_path):
    result = cli("task=rag", f"rag.lm={tmp_path / 'no-such-lm'}", f"encoder.path={micro_encoder}")
    assert_user_error(result, "rag.lm", "does not exist")


def test_encoder_tokenizer_mismatch_is_one_error_line(cli, micro_encoder, tmp_path):
    from transformers import AutoConfig, BertModel

    mismatched = tmp_path / "mismatched"
    shutil.copytree(micro_encoder, mismatched)
    config = AutoConfig.from_pretrained(micro_encoder)
    config.vocab_size -= 10
    BertModel(config).save_pretrained(mismatched)
    result = cli("task=rag", "rag.lm=demo", f"encoder.path={mismatched}")
    assert_user_error(result, "encoder.path", "do not belong together")


def test_lm_tokenizer_mismatch_and_unset_lm_are_user_errors(tiny_lm, tmp_path, run_in_process):
    from transformers import AutoConfig, GPT2LMHeadModel

    mismatched = tmp_path / "lm"
    shutil.copytree(tiny_lm, mismatched)
    config = AutoConfig.from_pretrained(tiny_lm)
    config.vocab_size -= 10
    GPT2LMHeadModel(config).save_pretrained(mismatched)
    with pytest.raises(UserError, match="rag.lm: tokenizer has"):
        load_lm(str(mismatched), "cpu", torch.float32)
    with pytest.raises(UserError, match="rag.lm is not set"):
        run_in_process("task=rag", "rag.lm=null")


@pytest.mark.parametrize(
    ("overrides", "lm"),
    [
        (["data=demo"], "demo"),  # the demo data bring the offline demo LM
        (["data=demo", "rag.lm=gpt2"], "gpt2"),  # a named LM wins
        (["data=mimic"], None),  # real notes: the LM must be named
        (["data=csv", "data.path=notes.csv"], None),
    ],
)
def test_the_demo_data_default_to_the_demo_lm(overrides, lm, tmp_path):
    assert compose(["task=rag", *overrides], tmp_path).rag.lm == lm


@pytest.mark.parametrize(
    ("override", "fragment"),
    [
        ("rag.query=suffix", "rag.query"),
        ("rag.pooling=max", "rag.pooling"),
        ("rag.stride=1000", "rag.stride"),
        ("rag.k=0", "rag.k"),
        ("rag.index.kind=annoy", "rag.index.kind"),
        ("rag.precision=fp8", "rag.precision"),
    ],
)
def test_bad_settings_fail_before_any_work(run_in_process, override, fragment):
    with pytest.raises(UserError, match=fragment):
        run_in_process("task=rag", "rag.lm=demo", "encoder.path=/no/such/encoder", override)


def test_a_missing_csv_of_notes_is_a_user_error(run_in_process, micro_encoder, tmp_path):
    with pytest.raises(UserError, match="nope.csv' does not exist"):
        run_in_process(
            "task=rag", "rag.lm=demo", f"encoder.path={micro_encoder}", "data=csv",
            f"data.path={tmp_path / 'nope.csv'}", "data.subject_column=subject_id",
        )  # fmt: skip


def test_a_split_with_shared_patients_stops_the_run():
    meta = {"test_patients": ["a:1", "a:2"], "datastore_patients": ["a:2", "a:3"], "chunks": 9}
    with pytest.raises(RuntimeError, match="1 test patients have notes in the datastore"):
        check_split(Split([], None, meta), k=5)
    with pytest.raises(UserError, match="rag.k"):
        check_split(Split([], None, {**meta, "test_patients": ["a:1"]}), k=10)


def test_window_presets_and_data_specific_defaults(make_cfg):
    default = make_cfg("task=rag", "data=mimic").rag
    assert (default.max_length, default.stride) == (512, 256)
    assert (default.sample_words, vars(default.chunk_words)) == (
        250_000,
        {"min_words": 128, "max_words": 256},
    )
    assert default.max_chunks is None
    llama = make_cfg("task=rag", "data=mimic", "rag.window=llama2").rag
    assert (llama.max_length, llama.stride) == (1024, 512)
    # A data config may carry rag defaults (the demo's notes are small and short-segmented).
    demo = make_cfg("task=rag", "data=demo").rag
    assert (demo.sample_words, demo.max_chunks) == (10000, 3000)
    assert vars(demo.chunk_words) == {"min_words": 16, "max_words": 128}
