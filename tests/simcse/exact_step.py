"""One deterministic SimCSE optimizer step whose weight update shows the gradient's scale.

No dropout, no warmup, no weight decay; with Adam's epsilon at 1 the first update is
lr * g / (|g| + 1), not lr * sign(g), so a gradient off by a factor moves the weights visibly.
"""

from __future__ import annotations

ONE_EXACT_STEP = (
    "simcse.max_steps=1",
    "simcse.fold=1",
    "simcse.dropout=0",
    "simcse.lr=0.05",
    "simcse.adam_epsilon=1.0",
    "simcse.warmup_ratio=0",
    "simcse.weight_decay=0",
)


def encoder_state(path) -> dict:
    """Encoder weights as AutoModel loads them (the pooler, unused by SimCSE, left out)."""
    from transformers import AutoModel

    state = AutoModel.from_pretrained(str(path)).state_dict()
    return {name: value for name, value in state.items() if not name.startswith("pooler.")}


def max_difference(a: dict, b: dict) -> float:
    return max((a[name] - b[name]).abs().max().item() for name in a)
