"""task=sts end to end: the published MiniLM number, an independent check, the error contract."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import pearsonr, spearmanr

from clinicalnotebert.errors import UserError
from clinicalnotebert.io import read_json
from tests.helpers import assert_user_error

CLINICAL_PAIRS = [
    ("The patient denies chest pain.", "No chest pain reported by the patient.", 4.5),
    ("Metoprolol 25 mg by mouth twice daily.", "Metoprolol 25 mg PO BID.", 4.8),
    ("Small left pleural effusion.", "Large right pneumothorax.", 1.2),
    ("The patient was discharged home.", "Blood cultures grew gram negative rods.", 0.2),
    ("Heart rate is regular.", "Regular rate and rhythm.", 4.0),
    ("She takes aspirin daily.", "Aspirin was stopped.", 2.0),
]


@pytest.fixture
def clinical_sts_dir(tmp_path):
    root = tmp_path / "clinicalsts"
    root.mkdir()
    lines = [f"{a}\t{b}\t{score}" for a, b, score in CLINICAL_PAIRS]
    (root / "dev.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root


def test_minilm_mean_pooling_on_stsb_test_matches_the_published_score(
    run_in_process, minilm_dir, shared_data, tmp_path
):
    metrics = run_in_process(
        "task=sts",
        f"encoder.path={minilm_dir}",
        f"sts.path={shared_data / 'stsbenchmark'}",
        "sts.split=test",
        "sts.pooling=mean",
        output_dir=tmp_path / "run",
    )
    assert metrics["spearman"] == pytest.approx(82.03, abs=0.3)  # all-MiniLM-L6-v2's model card
    assert metrics["pairs"] == 1379
    assert metrics["split"] == "test"
    assert read_json(tmp_path / "run" / "metrics.json") == metrics
    predictions = (tmp_path / "run" / "sts_predictions.csv").read_text().splitlines()
    assert predictions[0] == "index,gold,cosine" and len(predictions) == 1380


def test_scores_agree_with_sentence_transformers(run_in_process, minilm_dir, clinical_sts_dir):
    """An independent path: SentenceTransformer.encode (mean pooling) and scipy on its cosines."""
    from sentence_transformers import SentenceTransformer

    metrics = run_in_process(
        "task=sts",
        f"encoder.path={minilm_dir}",
        f"sts.path={clinical_sts_dir}",
        "sts.pooling=mean",
    )
    model = SentenceTransformer(str(minilm_dir), device="cpu")
    first = model.encode([p[0] for p in CLINICAL_PAIRS], normalize_embeddings=True)
    second = model.encode([p[1] for p in CLINICAL_PAIRS], normalize_embeddings=True)
    cosine = (first * second).sum(axis=1)
    gold = np.array([p[2] for p in CLINICAL_PAIRS])
    assert metrics["pearson"] == pytest.approx(pearsonr(gold, cosine)[0] * 100, abs=1e-3)
    assert metrics["spearman"] == pytest.approx(spearmanr(gold, cosine)[0] * 100, abs=1e-3)
    assert metrics["pairs"] == 6 and metrics["split"] == "dev"


def test_cls_mlp_needs_the_side_file(run_in_process, minilm_dir, clinical_sts_dir):
    with pytest.raises(UserError, match="has no simcse_mlp.safetensors"):
        run_in_process(
            "task=sts",
            f"encoder.path={minilm_dir}",
            f"sts.path={clinical_sts_dir}",
            "sts.pooling=cls_mlp",
        )


@pytest.mark.parametrize(
    ("bad_line", "message"),
    [("a sentence\t3.0", "expected 3 tab-separated fields"), ("a\tb\tabout 3", "not a number")],
)
def test_malformed_line_is_one_error_line_with_its_number(
    cli, minilm_dir, clinical_sts_dir, bad_line, message
):
    dev = clinical_sts_dir / "dev.txt"
    dev.write_text(dev.read_text() + bad_line + "\n", encoding="utf-8")
    result = cli("task=sts", f"encoder.path={minilm_dir}", f"sts.path={clinical_sts_dir}")
    assert_user_error(result, f"{dev}:7:", message)
