"""SimCSE under DDP (``trainer=ddp_sim``: two CPU processes): the gathered loss and step.

Every process gathers both views of every process's batch, so its loss is the loss of the
concatenated batch, and one DDP step must move the weights as one single-process step on that
batch does. (Without the gather, rank 0's loss over its own 4 lines was 0.19 against 0.62.)
The run uses 8 lines, so the two processes' batches together are exactly the single batch;
the loss does not depend on the order of the rows.
"""

from __future__ import annotations

import pytest

from tests.helpers import last_json_line
from tests.simcse.exact_step import ONE_EXACT_STEP, encoder_state, max_difference

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def single_process(simcse_args, micro_encoder, tmp_path_factory):
    from tests.helpers import run_task

    run_dir = tmp_path_factory.mktemp("simcse-single")
    metrics = run_task([*simcse_args, *ONE_EXACT_STEP, "simcse.per_device=8"], run_dir)
    return metrics, encoder_state(run_dir / "encoder"), encoder_state(micro_encoder)


@pytest.mark.parametrize(
    "batching",
    [
        ("simcse.per_device=4",),
        (
            "simcse.per_device=2",
            "simcse.accumulate=2",
            "simcse.grad_cache=true",
            "simcse.chunk_size=1",
        ),
    ],
    ids=["gather", "gather+grad_cache"],
)
def test_ddp_step_equals_the_single_process_step_on_the_concatenated_batch(
    cli_process, simcse_args, single_process, tmp_path, batching
):
    single_metrics, single_state, before = single_process
    result = cli_process(
        *simcse_args, *ONE_EXACT_STEP, *batching, "trainer=ddp_sim", "--json", run_dir=tmp_path
    )
    assert result.returncode == 0, result.stderr[-3000:]
    metrics = last_json_line(result.stdout)
    assert metrics["lines"] == 8
    assert metrics["train.loss"] == pytest.approx(single_metrics["train.loss"], rel=1e-5)
    moved = max_difference(single_state, before)
    assert max_difference(encoder_state(tmp_path / "encoder"), single_state) < moved * 1e-3
