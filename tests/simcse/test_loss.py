"""The SimCSE loss, the cross-rank gather with a local gradient, dropout replay."""

from __future__ import annotations

import math

import pytest
import torch

from clinicalnotebert.simcse.module import (
    RngState,
    contrastive_loss,
    set_dropout,
    with_local_gradient,
)


def test_contrastive_loss_by_hand():
    """Two rows: cos matrix [[1, 0], [0, 1]] / 0.5 -> each row's CE is log(1 + e^-2)."""
    z1 = torch.tensor([[2.0, 0.0], [0.0, 3.0]])
    z2 = torch.tensor([[5.0, 0.0], [0.0, 0.5]])
    assert contrastive_loss(z1, z2, 0.5).item() == pytest.approx(math.log(1 + math.exp(-2)))


def test_contrastive_loss_matches_a_loop():
    generator = torch.Generator().manual_seed(0)
    z1, z2 = torch.randn(5, 8, generator=generator), torch.randn(5, 8, generator=generator)
    total = 0.0
    for i in range(5):
        sims = [torch.cosine_similarity(z1[i], z2[j], dim=0).item() / 0.05 for j in range(5)]
        total += -sims[i] + math.log(sum(math.exp(s) for s in sims))
    assert contrastive_loss(z1, z2, 0.05).item() == pytest.approx(total / 5, rel=1e-5)


def test_gathered_loss_gives_the_single_process_gradient():
    """Simulated ranks share a linear encoder; each gathers the others' embeddings without a
    graph, back-propagates world x the global loss, and DDP averages the parameter gradients:
    the result must be the gradient of the loss on the concatenated batch."""
    world, batch = 3, 4
    generator = torch.Generator().manual_seed(1)
    x1, x2 = torch.randn(2, world * batch, 5, generator=generator)
    weight = torch.randn(5, 6, generator=generator)

    single = weight.clone().requires_grad_()
    full_loss = contrastive_loss(x1 @ single, x2 @ single, 0.05)
    full_loss.backward()

    rank_grads = []
    for rank in range(world):
        replica = weight.clone().requires_grad_()
        rows = slice(rank * batch, (rank + 1) * batch)
        local1, local2 = x1[rows] @ replica, x2[rows] @ replica
        gathered1 = (x1 @ weight).view(world, batch, -1)  # what all_gather returns: no graph
        gathered2 = (x2 @ weight).view(world, batch, -1)
        loss = contrastive_loss(
            with_local_gradient(gathered1, local1, rank),
            with_local_gradient(gathered2, local2, rank),
            0.05,
        )
        assert loss.item() == pytest.approx(full_loss.item(), rel=1e-6)
        (loss * world).backward()
        rank_grads.append(replica.grad)
    averaged = torch.stack(rank_grads).mean(0)  # DDP's all-reduce
    assert torch.allclose(averaged, single.grad, rtol=1e-4, atol=1e-6)
    assert not torch.allclose(rank_grads[0] / world, single.grad, rtol=1e-2)  # not vacuous


def test_rng_replay_gives_the_same_dropout_mask_and_leaves_the_stream_alone():
    dropout = torch.nn.Dropout(0.5)
    torch.manual_seed(3)
    state = RngState(torch.device("cpu"))
    first = dropout(torch.ones(1000))
    after = torch.rand(3)
    torch.manual_seed(3)
    dropout(torch.ones(1000))
    with state.replayed():
        replayed = dropout(torch.ones(1000))
    assert torch.equal(first, replayed)
    assert torch.equal(torch.rand(3), after)  # the replay did not consume the live stream


def test_set_dropout_reaches_every_dropout_module():
    from transformers import BertConfig, BertModel

    model = BertModel(
        BertConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64)
    )
    set_dropout(model, 0.0)
    rates = [m.p for m in model.modules() if isinstance(m, torch.nn.Dropout)]
    assert rates and all(rate == 0.0 for rate in rates)
