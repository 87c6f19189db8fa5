# Quickstart: `make demo` (sets up, then runs every stage on the embedded demo data) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# The CPU build of torch 2.13.0 lies on the dev machines' disk. On a GPU box, install your CUDA
# build of torch into .venv first: setup keeps any torch that is already there.
TORCH_SPEC ?= torch==2.13.0

.PHONY: setup demo readme-results test test-fast lint format bench gpu-check clean

setup: $(VENV)/.installed

# pip byte-compiles everything it installs, one file at a time (half of a fresh set-up's time
# here, most of it torch files no run imports): install without, and let Python write the
# bytecode of what a run imports, once. Where PYTHONDONTWRITEBYTECODE is set (these machines
# set it) every process would compile what it imports again (importing torch, transformers and
# lightning: 14 s against 5 s), so make's commands write bytecode regardless.
export PYTHONDONTWRITEBYTECODE :=

# torch through pip, so that your pip settings (a CUDA index, a wheel dir) choose the build; the
# rest through uv, which resolves and installs the ~150 packages in parallel (9 s against 32 s
# with pip here) and keeps the torch that is there. uv reads none of pip's settings: where it
# cannot install (only pip's configured index is reachable), pip does it.
$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -c "import torch" 2>/dev/null || $(BIN)/python -m pip install -q --no-compile "$(TORCH_SPEC)"
	( $(BIN)/python -m pip install -q --no-compile uv && \
	  $(BIN)/uv pip install -q --python $(BIN)/python -e ".[dev]" ) || \
	$(BIN)/python -m pip install -q --no-compile -e ".[dev]"
	touch $@

demo: setup
	$(BIN)/python -m clinicalnotebert task=pipeline experiment=demo hydra.run.dir=outputs/demo

# The README's demo results block is this report of the demo runs, never typed by hand:
# the table, the sentences and the two plots (copied to docs/demo/, linked from the block).
# Same report settings as the demo's own report stage (outputs/demo/report/.hydra/overrides.yaml):
# the experiment's columns, and the row marked `baseline: true` in conf/experiment/demo.yaml's
# evaluate.models (keep the name here in step with it).
readme-results: demo
	$(BIN)/python -m clinicalnotebert task=report experiment=demo "report.runs=[outputs/demo]" \
		"report.baseline=[micro-random]" report.readme=README.md report.readme_assets=docs/demo \
		hydra.run.dir=outputs/demo_report

# CI runs `make test`: lint, then every test (slow ones included) on two pytest workers.
test: setup lint
	$(BIN)/python -m pytest -q -n 2 --dist loadgroup

# The inner loop: no slow end-to-end tests.
test-fast: setup
	$(BIN)/python -m pytest -q -n 2 --dist loadgroup -m "not slow"

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: setup
	$(BIN)/python benchmarks/prepare_throughput.py

# Every GPU code path in one call (see the README's Benchmarks section); --smoke runs it on CPU.
gpu-check: setup
	$(BIN)/python benchmarks/gpu_check.py --out outputs/gpu_check.json

clean:
	rm -rf outputs multirun .pytest_cache .ruff_cache
