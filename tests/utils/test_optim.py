"""utils.optim: the no-decay rule and warmup length shared by every training stage."""

from __future__ import annotations

from transformers import BertConfig, BertModel

from clinicalnotebert.utils.optim import decay_groups, warmup_steps


def test_biases_and_layer_norm_weights_carry_no_decay():
    config = BertConfig(vocab_size=50, hidden_size=8, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=16)  # fmt: skip
    model = BertModel(config)
    model.pooler.dense.weight.requires_grad_(False)  # frozen tensors are left out
    decayed, plain = decay_groups(model.parameters(), 0.01)
    names = {id(p): n for n, p in model.named_parameters()}
    decayed_names = {names[id(p)] for p in decayed["params"]}
    plain_names = {names[id(p)] for p in plain["params"]}
    assert (decayed["weight_decay"], plain["weight_decay"]) == (0.01, 0.0)
    assert "embeddings.word_embeddings.weight" in decayed_names
    assert "encoder.layer.0.attention.self.query.weight" in decayed_names
    assert "embeddings.LayerNorm.weight" in plain_names
    assert "encoder.layer.0.output.dense.bias" in plain_names
    assert all(n.endswith("bias") or "LayerNorm" in n for n in plain_names)
    assert "pooler.dense.weight" not in decayed_names | plain_names
    assert len(decayed_names) + len(plain_names) == len(names) - 1


def test_warmup_rounds_up():
    assert warmup_steps(0.1, 30) == 3
    assert warmup_steps(0.1, 25) == 3
    assert warmup_steps(0.0, 100) == 0
