"""Predictors: a GRU-D step against a hand computation, packed vs padded BiLSTM, output shapes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from clinicalnotebert.predict.dataset import StayInputs, collate
from clinicalnotebert.predict.models import GRUD, Classifier, GRUDCell, NoteSequenceEncoder


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def test_grud_step_matches_a_hand_computation():
    torch.manual_seed(0)
    n_vars, hidden = 2, 3
    cell = GRUDCell(n_vars, hidden, dropout=0.0).eval()
    with torch.no_grad():
        cell.decay_x_weight.copy_(torch.tensor([0.5, -1.0]))
        cell.decay_x_bias.copy_(torch.tensor([0.1, 0.2]))
    x = np.array([[0.7, -0.3]])
    x_mean = np.array([[0.2, 0.4]])
    mask = np.array([[1.0, 0.0]])
    delta = np.array([[0.0, 3.0]])
    h = np.array([[0.1, -0.2, 0.3]])

    # By hand (numpy): decays, imputation, decayed state, gates.
    gamma_x = np.exp(-np.maximum(0, np.array([0.5, -1.0]) * delta + np.array([0.1, 0.2])))
    assert gamma_x[0, 1] == pytest.approx(1.0)  # -1 * 3 + 0.2 < 0: no decay
    x_hat = mask * x + (1 - mask) * (gamma_x * x + (1 - gamma_x) * x_mean)
    assert x_hat[0].tolist() == pytest.approx([0.7, -0.3])

    def linear(layer, inputs):
        return inputs @ layer.weight.detach().numpy().T + layer.bias.detach().numpy()

    h_decayed = np.exp(-np.maximum(0, linear(cell.decay_h, delta))) * h
    joint = np.concatenate([x_hat, h_decayed, mask], axis=1)
    z = sigmoid(linear(cell.update_gate, joint))
    r = sigmoid(linear(cell.reset_gate, joint))
    candidate = np.tanh(
        linear(cell.candidate, np.concatenate([x_hat, r * h_decayed, mask], axis=1))
    )
    expected = (1 - z) * h_decayed + z * candidate

    tensors = [torch.tensor(a, dtype=torch.float32) for a in (x, x, x_mean, mask, delta, h)]
    np.testing.assert_allclose(cell(*tensors).detach().numpy(), expected, rtol=1e-5, atol=1e-6)


def test_grud_decays_towards_the_empirical_mean_when_unobserved():
    # One variable, one unit wired so that the new state is tanh(x_hat): z = 1, candidate = x_hat.
    cell = GRUDCell(1, 1, dropout=0.0).eval()
    with torch.no_grad():
        cell.decay_x_weight.fill_(1.0)
        cell.decay_x_bias.fill_(0.0)
        cell.update_gate.weight.zero_()
        cell.update_gate.bias.fill_(60.0)
        cell.candidate.weight.copy_(torch.tensor([[1.0, 0.0, 0.0]]))
        cell.candidate.bias.zero_()
    x, x_mean, h = torch.tensor([[1.0]]), torch.tensor([[0.2]]), torch.zeros(1, 1)
    delta = torch.tensor([[float(np.log(4.0))]])  # gamma_x = exp(-log 4) = 1/4
    unobserved = cell(x, x, x_mean, torch.zeros(1, 1), delta, h)
    assert torch.atanh(unobserved).item() == pytest.approx(0.25 * 1.0 + 0.75 * 0.2, abs=1e-5)
    observed = cell(x, x, x_mean, torch.ones(1, 1), delta, h)
    assert torch.atanh(observed).item() == pytest.approx(1.0, abs=1e-5)


def test_grud_reads_mask_value_delta_columns():
    x_mean = np.zeros((1, 3, 2), dtype=np.float32)
    model = GRUD(x_mean, hidden=4, dropout=0.0).eval()
    signals = torch.randn(2, 3, 6)
    shuffled = signals.clone()
    shuffled[..., [0, 3]] = signals[..., [3, 0]]  # swap the two variables' masks
    assert model(signals).shape == (2, 4)
    assert not torch.allclose(model(signals), model(shuffled))


def test_packed_sequences_ignore_padding_and_the_quirk_reads_it():
    torch.manual_seed(0)
    encoder = NoteSequenceEncoder(note_dim=5, hidden=3)
    short, long = torch.randn(2, 5), torch.randn(4, 5)
    batch = collate([{"labels": 0, "notes": short.numpy()}, {"labels": 1, "notes": long.numpy()}])
    assert batch["lengths"].tolist() == [2, 4]
    packed = encoder(batch["notes"], batch["lengths"])
    alone = encoder(short[None], torch.tensor([2]))
    torch.testing.assert_close(packed[0], alone[0])
    encoder.read_padding = True
    padded = encoder(batch["notes"], batch["lengths"])
    assert not torch.allclose(padded[0], alone[0])  # the reference reads two zero "notes"
    torch.testing.assert_close(padded[1], packed[1])  # the longest has no padding


def test_empty_note_sequence_is_one_zero_vector():
    batch = collate([{"labels": 0, "notes": np.zeros((0, 4), np.float32)}])
    assert batch["lengths"].tolist() == [1]
    assert batch["notes"].shape == (1, 1, 4) and batch["notes"].abs().sum() == 0


@pytest.mark.parametrize("modality", ["text", "struct", "both"])
def test_classifier_widths(modality):
    text = NoteSequenceEncoder(8, 6) if modality != "struct" else None
    struct = GRUD(np.zeros((1, 4, 3), np.float32), 5, 0.1) if modality != "text" else None
    model = Classifier(n_classes=7, dropout=0.1, text=text, struct=struct)
    expected_width = {"text": 12, "struct": 5, "both": 17}[modality]
    assert model.head[0].in_features == expected_width
    inputs = StayInputs(
        np.array([1, 2]), [np.ones((3, 8), np.float32)] * 2, np.ones((2, 4, 9), np.float32)
    )
    items = [
        {"labels": 1, "notes": inputs.notes[i], "signals": inputs.signals[i]} for i in range(2)
    ]
    assert model(collate(items)).shape == (2, 7)


def test_the_note_lstm_runs_in_fp32_under_bf16_autocast():
    """oneDNN has no bf16 LSTM kernel for some packed CPU batches (every stay with the same number
    of notes): under autocast the layer keeps fp32 and gives the fp32 result."""
    import torch

    from clinicalnotebert.predict.models import NoteSequenceEncoder

    torch.manual_seed(0)
    encoder = NoteSequenceEncoder(16, 8)
    notes, lengths = torch.randn(4, 3, 16), torch.tensor([3, 3, 3, 3])
    expected = encoder(notes, lengths)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        got = encoder(notes, lengths)
    assert got.dtype == torch.float32 and torch.equal(got, expected)
