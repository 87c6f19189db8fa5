"""The trainer builder: a bad trainer or logger value is a user error; checkpoints are written
through a temporary file, so a failed save leaves the previous checkpoint whole."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from clinicalnotebert.errors import UserError
from clinicalnotebert.utils.training import AtomicCheckpointIO, TrainingSetup, build_trainer

CPU = {"_target_": "pytorch_lightning.Trainer", "accelerator": "cpu", "devices": 1}


@pytest.mark.parametrize(
    ("values", "fragment"),
    [
        ({"devices": "abc"}, "trainer:"),
        ({"precision": "bogus"}, "trainer:"),
        ({"accelerator": "tpu-v9"}, "trainer:"),
        ({"no_such_argument": 1}, "trainer:"),
    ],
)
def test_a_bad_trainer_value_is_a_user_error(values, fragment, tmp_path):
    setup = TrainingSetup({**CPU, **values}, None, tmp_path)
    with pytest.raises(UserError, match=fragment):
        build_trainer(setup)


def test_a_bad_logger_value_is_a_user_error(tmp_path):
    logger = {"_target_": "pytorch_lightning.loggers.CSVLogger", "flush_logs_every": "x"}
    with pytest.raises(UserError, match="logger:"):
        build_trainer(TrainingSetup(CPU, logger, tmp_path))


def test_a_failed_save_leaves_the_previous_checkpoint(tmp_path, monkeypatch):
    io = AtomicCheckpointIO()
    path = tmp_path / "checkpoints" / "last.ckpt"
    io.save_checkpoint({"step": 1}, path)

    def broken_save(obj, target):
        Path(target).write_bytes(b"half a checkpoint")
        raise KeyboardInterrupt  # a kill in the middle of the write

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(KeyboardInterrupt):
        io.save_checkpoint({"step": 2}, path)
    monkeypatch.undo()
    assert torch.load(path, weights_only=True) == {"step": 1}
    # the next save of the same file removes what the killed one left (once its writer is gone:
    # here the writer is this process, so the temporary file is only replaced by the next save)
    io.save_checkpoint({"step": 3}, path)
    assert torch.load(path, weights_only=True) == {"step": 3}
    assert [p.name for p in path.parent.iterdir()] == ["last.ckpt"]
