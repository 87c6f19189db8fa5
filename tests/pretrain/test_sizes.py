"""The model sizes of conf/model against the paper's parameter counts (PubMedBERT vocab 30,522)."""

import pytest
import torch
from transformers import BertModel

from clinicalnotebert.models.bert import scratch_config
from tests.helpers import compose


class PubMedBertVocab:
    """Stands in for the PubMedBERT tokenizer: only its size and pad id matter here."""

    pad_token_id = 0

    def __len__(self) -> int:
        return 30522


@pytest.mark.parametrize(
    ("size", "millions", "tolerance"),
    [("base", 110, 0.01), ("small", 67, 0.01), ("tiny", 14.5, 0.03)],
)
def test_encoder_parameters_match_the_paper(size, millions, tolerance, tmp_path):
    config = scratch_config(compose([f"model={size}"], tmp_path).model, PubMedBertVocab(), True)
    assert config.vocab_size == 30528  # padded to a multiple of 64
    with torch.device("meta"):  # shapes only: no memory, no time
        encoder = BertModel(config)
    parameters = sum(p.numel() for p in encoder.parameters())
    assert parameters == pytest.approx(millions * 1e6, rel=tolerance)
