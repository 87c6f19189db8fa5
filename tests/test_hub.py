"""Hub ids offline: one line naming the id and how to pass a local folder, within seconds; a
model in the local Hugging Face cache is used without the network."""

from __future__ import annotations

import time

import pytest

from clinicalnotebert import hub
from clinicalnotebert.errors import UserError
from tests.helpers import assert_user_error, run_main


@pytest.fixture
def unreachable(monkeypatch):
    """The hub does not answer (the probe is forgotten afterwards)."""
    hub.hub_reachable.cache_clear()
    monkeypatch.setattr(hub.socket, "create_connection", fail_to_connect)
    yield
    hub.hub_reachable.cache_clear()


def fail_to_connect(*args, **kwargs):
    raise OSError("no route to host")


def test_an_offline_hub_id_fails_fast_naming_it_and_the_way_out(tmp_path):
    started = time.perf_counter()
    result = run_main(["task=sts", "encoder.path=org/some-model"], tmp_path / "run")
    line = assert_user_error(result, "encoder.path 'org/some-model'", "offline (HF_HUB_OFFLINE")
    assert "encoder.path=" in line  # how to pass a folder instead
    assert time.perf_counter() - started < 20  # no minute of retries


def test_an_unreachable_hub_is_probed_once(unreachable, monkeypatch):
    calls = []
    monkeypatch.setattr(
        hub.socket, "create_connection", lambda *a, **k: calls.append(a) or fail_to_connect()
    )
    monkeypatch.setattr(hub, "in_local_cache", lambda repo_id: False)
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    for _ in range(3):
        with pytest.raises(UserError, match="not reachable"):
            hub.resolve_pretrained("org/model", "model.init_from")
    assert len(calls) == 1


def test_a_cached_model_is_used_offline(unreachable, tmp_path, monkeypatch):
    """The Hugging Face cache layout: models--org--name/snapshots/<rev>/config.json."""
    from huggingface_hub import constants

    snapshot = tmp_path / "models--org--cached" / "snapshots" / "abc123"
    snapshot.mkdir(parents=True)
    (snapshot / "config.json").write_text("{}")
    (tmp_path / "models--org--cached" / "refs").mkdir()
    (tmp_path / "models--org--cached" / "refs" / "main").write_text("abc123")
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    assert hub.resolve_pretrained("org/cached", "encoder.path") == "org/cached"
    assert constants.HF_HUB_OFFLINE is True  # later loads read the cache, not the network
    with pytest.raises(UserError, match="'org/other' .* no copy is cached"):
        hub.resolve_pretrained("org/other", "encoder.path")
