"""The pipeline's demo: task=finetune with no path fine-tunes on the demo NER set."""

from pathlib import Path

from clinicalnotebert.finetune.readers import read_conll


def test_default_path_is_the_demo_ner_set(micro_encoder, make_cfg, run_in_process):
    # any encoder: the data path and the split sizes and supports are checked, not the scores
    metrics = run_in_process(
        "task=finetune",
        "data=demo",
        f"encoder.path={micro_encoder}",
        "finetune.checkpoints=false",
        "finetune.max_examples.train=32",
        "finetune.epochs=1",
    )
    cfg = make_cfg("task=finetune", "data=demo")
    test_file = f"{cfg.data.finetune_dir}/ner/test.tsv"
    assert cfg.finetune.path == f"{cfg.data.finetune_dir}/ner"
    gold = read_conll(Path(test_file))
    assert metrics["data.train.sentences"] == 32 and metrics["data.test.sentences"] == len(gold)
    for kind in ("problem", "treatment", "test"):
        support = sum(tag == f"B-{kind}" for s in gold for tag in s.tags)
        assert metrics[f"test.per_type.{kind}.support"] == support
