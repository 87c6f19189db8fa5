"""The fault matrix (the README's error contract): one case per (task, fault class, input).

Every user-error case is a command line built from ``Env`` (a temp dir, the session fixtures)
and the fragment the one ``error:`` line must hold. The classes:

- ``missing_path``: a path setting that points nowhere;
- ``wrong_type``: a typed setting given a value of another type (fails at composition);
- ``wrong_kind``: a path that exists but is the wrong kind of thing (a file for a folder, a text
  file for a model, checkpoint or table, a folder for a file);
- ``cut_off``: an input file cut off partway (as a failed copy or download leaves it).

The fifth class, ``killed_rerun``: a run killed during a write, then the same command rerun in
the same run dir (``RERUNS``: the debris a killed writer leaves, made by hand; one real SIGKILL
is in ``test_killed_rerun.py``). ``python -m tests.faults.matrix`` prints the case counts.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

TASKS = (
    "prepare",
    "tokenizer",
    "pretrain",
    "simcse",
    "sts",
    "rag",
    "predict",
    "finetune",
    "report",
    "pipeline",
)
ERROR_CLASSES = ("missing_path", "wrong_type", "wrong_kind", "cut_off")
CLASSES = (*ERROR_CLASSES, "killed_rerun")


class Env:
    """What a case's command line is built from: a temp dir and (lazily) session fixtures."""

    def __init__(self, request: pytest.FixtureRequest, tmp: Path):
        self.request, self.tmp = request, tmp

    def __getattr__(self, name: str):  # env.micro_encoder, env.fault_corpus, ...
        if name.startswith("_"):
            raise AttributeError(name)
        return self.request.getfixturevalue(name)

    def missing(self, name: str) -> Path:
        return self.tmp / "no-such-dir" / name

    def text_file(self, name: str, text: str = "this is not what the setting expects\n") -> Path:
        path = self.tmp / name
        path.write_text(text, encoding="utf-8")
        return path

    def folder(self, name: str) -> Path:
        """A folder with an unrelated file in it."""
        path = self.tmp / name
        path.mkdir()
        (path / "notes.txt").write_text("unrelated\n", encoding="utf-8")
        return path

    def png(self, name: str = "plot.png") -> Path:
        path = self.tmp / name
        path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
        return path

    @property
    def arrow_file(self) -> str:
        """One Arrow file of the fault corpus, relative to it."""
        return str(
            next(self.fault_corpus.glob("sentence/*/*.arrow")).relative_to(self.fault_corpus)
        )

    @property
    def cut_gzip_notes(self) -> Path:
        """The notes CSV gzipped, cut off halfway."""
        import gzip

        whole = gzip.compress(Path(self.notes_csv).read_bytes())
        path = self.tmp / "notes.csv.gz"
        path.write_bytes(whole[: len(whole) // 2])
        return path

    @property
    def report_runs(self) -> Path:
        """A folder with one finished STS run (config + metrics) for the report to read."""
        from tests.report.fakes import encoder_run

        runs = self.tmp / "runs"
        encoder_run(runs, "sts", "sts", "/models/x", {}, {"pearson": 50.0, "spearman": 48.0})
        return runs

    def cut_copy(self, source: Path, name: str | None = None, fraction: float = 0.5) -> Path:
        """A copy of the file ``source`` cut off after ``fraction`` of its bytes."""
        data = Path(source).read_bytes()
        path = self.tmp / (name or Path(source).name)
        path.write_bytes(data[: int(len(data) * fraction)])
        return path

    def corpus_copy(self, cut: str) -> Path:
        """A copy of the fault corpus with the file ``cut`` (relative) cut off halfway."""
        corpus = self.tmp / "corpus"
        shutil.copytree(self.fault_corpus, corpus)  # with its tokenizer, at ../tokenizer
        shutil.copytree(self.fault_corpus.parent / "tokenizer", self.tmp / "tokenizer")
        target = corpus / cut
        target.write_bytes(target.read_bytes()[: target.stat().st_size // 2])
        return corpus

    def tokenizer_copy(self, cut: str) -> Path:
        """A copy of the fault corpus's tokenizer with the file ``cut`` cut off halfway."""
        folder = self.tmp / "tokenizer"
        shutil.copytree(self.fault_corpus.parent / "tokenizer", folder)
        target = folder / cut
        target.write_bytes(target.read_bytes()[: target.stat().st_size // 2])
        return folder

    def pretrain_dir_with_cut_last_ckpt(self) -> Path:
        """A run dir whose only checkpoint is a cut-off ``last.ckpt`` (a finished run's, halved)."""
        run_dir = self.tmp / "run"
        source = self.fault_pretrain_run / "checkpoints" / "last.ckpt"
        (run_dir / "checkpoints").mkdir(parents=True)
        data = source.read_bytes()
        (run_dir / "checkpoints" / "last.ckpt").write_bytes(data[: len(data) // 2])
        return run_dir

    def cohort_folder(self, cut: bool = False) -> Path:
        """train/val/test cohort tables of the demo's kind; ``cut``: train.csv cut mid-row."""
        folder = self.tmp / "cohort"
        folder.mkdir()
        header = "SUBJECT_ID,HADM_ID,ICUSTAY_ID,INTIME,OUTTIME,MORT_HOSP\n"
        for number, split in enumerate(("train", "val", "test")):
            rows = [
                f"{s},{s + 100000},{s + 200000},2130-01-01 00:00:00,2130-01-03 00:00:00,{s % 2}\n"
                for s in range(1000 * (number + 1), 1000 * (number + 1) + 10)
            ]
            text = header + "".join(rows)
            if cut and split == "train":
                text = text[: len(text) - 30]
            (folder / f"{split}.csv").write_text(text, encoding="utf-8")
        return folder

    def squad_json(self, cut: bool) -> Path:
        """A QA folder with SQuAD-style train/dev/test JSON files; ``cut``: train.json halved."""
        folder = self.tmp / "qa"
        folder.mkdir()
        context = "the patient was admitted with chest pain and discharged on aspirin ."
        data = {
            "version": "v1.1",
            "data": [
                {
                    "title": "t",
                    "paragraphs": [
                        {
                            "context": context,
                            "qas": [
                                {
                                    "id": f"q{i}",
                                    "question": "what was the patient discharged on?",
                                    "answers": [{"text": "aspirin", "answer_start": 58}],
                                }
                                for i in range(4)
                            ],
                        }
                    ],
                }
            ],
        }
        text = json.dumps(data)
        for split in ("train", "dev", "test"):
            body = text[: len(text) // 2] if cut and split == "train" else text
            (folder / f"{split}.json").write_text(body, encoding="utf-8")
        return folder

    def nli_jsonl(self, cut: bool) -> Path:
        """A MedNLI-style folder (JSONL); ``cut``: the train file ends in half a line."""
        folder = self.tmp / "nli"
        folder.mkdir()
        row = {"sentence1": "the patient has a fever .", "sentence2": "the patient is febrile .",
               "gold_label": "entailment"}  # fmt: skip
        line = json.dumps(row) + "\n"
        for split in ("train", "dev", "test"):
            body = line * 4
            if cut and split == "train":
                body += line[: len(line) // 2]
            (folder / f"mli_{split}_v1.jsonl").write_text(body, encoding="utf-8")
        return folder

    def report_run_with_cut_metrics(self) -> Path:
        """A finished STS run dir (config + metrics) whose ``metrics.json`` is cut off."""
        from tests.report.fakes import encoder_run

        runs = self.tmp / "runs"
        run_dir = encoder_run(runs, "sts", "sts", "/models/x", {}, {"pearson": 50.0})
        metrics = run_dir / "metrics.json"
        metrics.write_text(json.dumps({"pearson": 50.0, "spearman": 48.0})[:14], encoding="utf-8")
        return runs


@dataclass(frozen=True)
class Case:
    task: str
    fault: str
    name: str  # what is faulty (the setting or file)
    args: Callable[[Env], list[str]]
    fragments: tuple[str, ...]  # in the one error line
    run_dir: Callable[[Env], Path] | None = None  # where the run writes (default: a new dir)
    marks: tuple = ()

    @property
    def id(self) -> str:
        return f"{self.task}-{self.fault}-{self.name}"

    def param(self):
        return pytest.param(self, id=self.id, marks=list(self.marks))


# ---- command lines of each task (a setting under test is appended last) -------------------


def prepare(env: Env, *extra: str) -> list[str]:
    return ["task=prepare", "data=csv", f"data.path={env.notes_csv}",
            "tokenizer.vocab_size=200", *extra]  # fmt: skip


def tokenizer(env: Env, *extra: str) -> list[str]:
    return ["task=tokenizer", "tokenizer.vocab_size=200", *extra]


def pretrain(env: Env, *extra: str) -> list[str]:
    return ["task=pretrain", "debug=fast", "seq=sentence", *extra]


def simcse(env: Env, *extra: str) -> list[str]:
    return ["task=simcse", "debug=fast", "seq=sentence", "simcse.max_tokens=32", *extra]


def sts(env: Env, *extra: str) -> list[str]:
    return ["task=sts", "debug=fast", *extra]


def rag(env: Env, *extra: str) -> list[str]:
    return ["task=rag", "rag.lm=demo", "debug=fast", *extra]


def predict(env: Env, *extra: str) -> list[str]:
    return ["task=predict", "debug=fast", *extra]


def finetune(env: Env, *extra: str) -> list[str]:
    return ["task=finetune", "debug=fast", *extra]


def report(env: Env, *extra: str) -> list[str]:
    return ["task=report", "report.plots=false", *extra]


def pipeline(env: Env, *extra: str) -> list[str]:
    return ["task=pipeline", "pipeline.overrides=['debug=fast']", *extra]


def sts_stage(env: Env, encoder) -> list[str]:
    """A one-stage pipeline: STS of ``encoder`` (the stage's arguments as a list override)."""
    stage = f"['task=sts','sts.path={env.sts_file}','encoder.path={encoder}']"
    return ["pipeline.run=[sts]", f"pipeline.stages.sts={stage}"]


# ---- the matrix ---------------------------------------------------------------------------

CASES: list[Case] = [
    # missing_path ------------------------------------------------------------------------
    Case("prepare", "missing_path", "data_path",
         lambda e: prepare(e, f"data.path={e.missing('notes.csv')}"),
         ("notes.csv", "does not exist")),
    Case("tokenizer", "missing_path", "corpus_path",
         lambda e: tokenizer(e, f"corpus.path={e.missing('corpus')}"),
         ("corpus.path", "does not exist")),
    Case("pretrain", "missing_path", "corpus_path",
         lambda e: pretrain(e, f"corpus.path={e.missing('corpus')}"),
         ("corpus.path", "does not exist")),
    Case("pretrain", "missing_path", "ckpt_path",
         lambda e: pretrain(e, f"corpus.path={e.fault_corpus}",
                            f"pretrain.ckpt_path={e.missing('last.ckpt')}"),
         ("pretrain.ckpt_path", "does not exist")),
    Case("simcse", "missing_path", "encoder_path",
         lambda e: simcse(e, f"corpus.path={e.fault_corpus}", f"encoder.path={e.missing('model')}"),
         ("encoder.path", "does not exist")),
    Case("sts", "missing_path", "sts_path",
         lambda e: sts(e, f"sts.path={e.missing('dev.txt')}", f"encoder.path={e.micro_encoder}"),
         ("dev.txt", "does not exist")),
    Case("rag", "missing_path", "encoder_path",
         lambda e: rag(e, f"encoder.path={e.missing('model')}"),
         ("encoder.path", "does not exist")),
    Case("predict", "missing_path", "cohort_path",
         lambda e: predict(e, f"encoder.path={e.micro_encoder}",
                           f"predict.cohort.path={e.missing('cohort')}"),
         ("predict.cohort.path", "does not exist")),
    Case("predict", "missing_path", "mimic3_dir",
         lambda e: predict(e, f"encoder.path={e.micro_encoder}",
                           f"predict.mimic3_dir={e.missing('mimic3')}"),
         ("mimic3", "does not exist")),
    Case("finetune", "missing_path", "finetune_path",
         lambda e: finetune(e, f"encoder.path={e.micro_encoder}",
                            f"finetune.path={e.missing('ner')}"),
         ("finetune.path",)),
    Case("report", "missing_path", "runs",
         lambda e: report(e, f"report.runs=[{e.missing('runs')}]"),
         ("report.runs", "nothing matches")),
    Case("pipeline", "missing_path", "stage_encoder",
         lambda e: pipeline(e, *sts_stage(e, e.missing("model"))),
         ("stage 'sts'", "encoder.path", "does not exist")),
    Case("pipeline", "missing_path", "stage_name",
         lambda e: pipeline(e, "pipeline.run=[nope]"),
         ("nope",)),
    # wrong_type --------------------------------------------------------------------------
    Case("prepare", "wrong_type", "num_proc", lambda e: prepare(e, "prepare.num_proc=two"),
         ("prepare.num_proc: expected a whole number (got 'two')",)),
    Case("tokenizer", "wrong_type", "vocab_size",
         lambda e: tokenizer(e, "tokenizer.vocab_size=big"),
         ("tokenizer.vocab_size: expected a whole number (got 'big')",)),
    Case("pretrain", "wrong_type", "max_steps",
         lambda e: pretrain(e, "corpus.path=x", "pretrain.max_steps=many"),
         ("pretrain.max_steps: expected a whole number (got 'many')",)),
    Case("simcse", "wrong_type", "lr", lambda e: simcse(e, "simcse.lr=fast"),
         ("simcse.lr: expected a number (got 'fast')",)),
    Case("sts", "wrong_type", "batch_size", lambda e: sts(e, "sts.batch_size=x"),
         ("sts.batch_size: expected a whole number (got 'x')",)),
    Case("rag", "wrong_type", "k", lambda e: rag(e, "rag.k=x"),
         ("rag.k: expected a whole number (got 'x')",)),
    Case("predict", "wrong_type", "lr", lambda e: predict(e, "predict.lr=x"),
         ("predict.lr: expected a number (got 'x')",)),
    Case("finetune", "wrong_type", "epochs", lambda e: finetune(e, "finetune.epochs=x"),
         ("finetune.epochs: expected a whole number (got 'x')",)),
    Case("report", "wrong_type", "plots", lambda e: report(e, "report.plots=maybe"),
         ("report.plots: expected true or false (got 'maybe')",)),
    Case("pipeline", "wrong_type", "dry_run", lambda e: pipeline(e, "pipeline.dry_run=maybe"),
         ("pipeline.dry_run: expected true or false (got 'maybe')",)),
    # wrong_kind --------------------------------------------------------------------------
    Case("prepare", "wrong_kind", "data_path_dir",
         lambda e: prepare(e, f"data.path={e.folder('notes')}"),
         ("notes'", "is a directory")),
    Case("prepare", "wrong_kind", "data_path_png",
         lambda e: prepare(e, f"data.path={e.png('notes.csv')}"),
         ("notes.csv",)),
    Case("tokenizer", "wrong_kind", "corpus_path_not_corpus",
         lambda e: tokenizer(e, f"corpus.path={e.folder('corpus')}"),
         ("corpus.path", "meta.json")),
    Case("pretrain", "wrong_kind", "corpus_path_file",
         lambda e: pretrain(e, f"corpus.path={e.text_file('corpus.txt')}"),
         ("corpus.path", "corpus.txt", "is a file")),
    Case("pretrain", "wrong_kind", "ckpt_path_text",
         lambda e: pretrain(e, f"corpus.path={e.fault_corpus}",
                            f"pretrain.ckpt_path={e.text_file('last.ckpt')}"),
         ("pretrain.ckpt_path", "last.ckpt", "not a readable checkpoint")),
    Case("simcse", "wrong_kind", "encoder_path_file",
         lambda e: simcse(e, f"corpus.path={e.fault_corpus}",
                          f"encoder.path={e.text_file('model.safetensors')}"),
         ("encoder.path", "is a file")),
    Case("sts", "wrong_kind", "sts_path_png",
         lambda e: sts(e, f"sts.path={e.png('dev.txt')}", f"encoder.path={e.micro_encoder}"),
         ("dev.txt", "not valid UTF-8")),
    Case("sts", "wrong_kind", "encoder_path_not_model",
         lambda e: sts(e, f"sts.path={e.sts_file}", f"encoder.path={e.folder('model')}"),
         ("encoder.path", "not a model folder (no config.json)")),
    Case("rag", "wrong_kind", "encoder_path_corpus",
         lambda e: rag(e, f"encoder.path={e.fault_corpus}"),
         ("encoder.path", "not a model folder (no config.json)")),
    Case("predict", "wrong_kind", "cohort_path_txt",
         lambda e: predict(e, f"encoder.path={e.micro_encoder}",
                           f"predict.cohort.path={e.text_file('cohort.txt')}"),
         ("predict.cohort.path", "cohort.txt")),
    Case("predict", "wrong_kind", "mimic3_dir_file",
         lambda e: predict(e, f"encoder.path={e.micro_encoder}",
                           f"predict.mimic3_dir={e.text_file('mimic3.csv')}"),
         ("mimic3.csv", "is a file")),
    Case("finetune", "wrong_kind", "finetune_path_file",
         lambda e: finetune(e, f"encoder.path={e.micro_encoder}",
                            f"finetune.path={e.text_file('train.tsv')}"),
         ("finetune.path", "train.tsv", "not a directory")),
    Case("report", "wrong_kind", "runs_file",
         lambda e: report(e, f"report.runs=[{e.text_file('runs.txt')}]"),
         ("report.runs", "runs.txt")),
    Case("report", "wrong_kind", "readme_dir",
         lambda e: report(e, f"report.runs=[{e.report_runs}]", f"report.readme={e.folder('README.md')}"),
         ("report.readme", "README.md is a directory")),
    Case("pipeline", "wrong_kind", "stage_encoder_file",
         lambda e: pipeline(e, *sts_stage(e, e.text_file("model.safetensors"))),
         ("stage 'sts'", "encoder.path", "is a file")),
    # cut_off -----------------------------------------------------------------------------
    Case("prepare", "cut_off", "notes_csv_gz",
         lambda e: prepare(e, f"data.path={e.cut_gzip_notes}"),
         ("notes.csv.gz", "cannot read")),
    Case("prepare", "cut_off", "merge_meta_json",
         lambda e: prepare(e, f"prepare.merge_from=[{e.corpus_copy('meta.json')}]"),
         ("meta.json", "not valid JSON")),
    Case("prepare", "cut_off", "tokenizer_json",
         lambda e: prepare(e, f"tokenizer.path={e.tokenizer_copy('tokenizer.json')}"),
         ("tokenizer.path", "tokenizer")),
    Case("tokenizer", "cut_off", "corpus_meta_json",
         lambda e: tokenizer(e, f"corpus.path={e.corpus_copy('meta.json')}"),
         ("corpus/meta.json", "not valid JSON")),
    Case("pretrain", "cut_off", "last_ckpt",
         lambda e: pretrain(e, f"corpus.path={e.fault_corpus}"),
         ("last.ckpt", "damaged"), run_dir=Env.pretrain_dir_with_cut_last_ckpt),
    Case("pretrain", "cut_off", "corpus_arrow",
         lambda e: pretrain(e, f"corpus.path={e.corpus_copy(e.arrow_file)}"),
         ("corpus", "cannot read sentence/", "prepare it again")),
    Case("simcse", "cut_off", "model_safetensors",
         lambda e: simcse(e, f"corpus.path={e.fault_corpus}", f"encoder.path={e.cut_encoder}"),
         ("encoder.path", "model.safetensors", "damaged or cut off")),
    Case("sts", "cut_off", "sts_file",
         lambda e: sts(e, f"sts.path={e.cut_copy(e.sts_file, fraction=0.47)}",
                       f"encoder.path={e.micro_encoder}"),
         ("dev.txt:",)),
    Case("rag", "cut_off", "model_safetensors",
         lambda e: rag(e, f"encoder.path={e.cut_encoder}"),
         ("encoder.path", "model.safetensors", "damaged or cut off")),
    Case("predict", "cut_off", "cohort_csv",
         lambda e: predict(e, "predict.modality=struct",
                           f"predict.cohort.path={e.cohort_folder(cut=True)}"),
         ("train.csv",)),
    Case("finetune", "cut_off", "squad_json",
         lambda e: finetune(e, "finetune.task=qa", f"finetune.path={e.squad_json(cut=True)}",
                            f"encoder.path={e.micro_encoder}"),
         ("train.json", "not valid JSON")),
    Case("finetune", "cut_off", "mednli_jsonl",
         lambda e: finetune(e, "finetune.task=nli", f"finetune.path={e.nli_jsonl(cut=True)}",
                            f"encoder.path={e.micro_encoder}"),
         ("mli_train_v1.jsonl:5", "not valid JSON")),
    Case("report", "cut_off", "metrics_json",
         lambda e: report(e, f"report.runs=[{e.report_run_with_cut_metrics()}]"),
         ("no finished evaluation run", "metrics.json is complete")),
    Case("pipeline", "cut_off", "stage_model_safetensors",
         lambda e: pipeline(e, *sts_stage(e, e.cut_encoder)),
         ("stage 'sts'", "model.safetensors", "damaged or cut off")),
]  # fmt: skip


def cases_of(fault: str) -> list:
    return [case.param() for case in CASES if case.fault == fault]


# ---- killed_rerun: what a run killed during a write leaves, then the same command again ----


def debris(target: Path, pid: int, content: dict[str, bytes] | bytes) -> Path:
    """The temporary sibling a writer of ``target`` (process ``pid``) leaves when killed: a
    folder with half-written files (``content`` a dict) or a half-written file (bytes)."""
    path = target.parent / f".tmp-{target.name}-{pid}"
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, dict):
        path.mkdir()
        for name, data in content.items():
            (path / name).write_bytes(data)
    else:
        path.write_bytes(content)
    return path


def half(path: Path) -> bytes:
    data = Path(path).read_bytes()
    return data[: len(data) // 2]


HALF_METRICS = b'{"steps": 2, "tra'


def only(folder: Path, pattern: str) -> Path:
    (found,) = sorted(folder.glob(pattern))
    return found


@dataclass(frozen=True)
class Rerun:
    """A killed run simulated by what it leaves in the run dir (``killed``: first runs the
    command when the kill is to come after some finished work), then the same command rerun."""

    task: str
    name: str  # where the kill struck
    args: Callable[[Env, Path], list[str]]  # (env, run dir)
    killed: Callable[[Env, Path, list[str], int], list[Path]]  # -> the debris it left
    artifacts: tuple[str, ...]  # run-dir artifacts that must load whole after the rerun
    check: Callable[[Env, Path, dict], None] | None = None  # more checks (run dir, metrics)
    marks: tuple = ()

    fault = "killed_rerun"

    @property
    def id(self) -> str:
        return f"{self.task}-{self.fault}-{self.name}"

    def param(self):
        return pytest.param(self, id=self.id, marks=list(self.marks))


def first_run(args: list[str], run_dir: Path) -> None:
    from tests.helpers import run_main

    result = run_main(args, run_dir)
    assert result.returncode == 0, result.stderr[-3000:]


def killed_prepare(env, run, args, pid):
    return [
        debris(run / "corpus", pid, {"meta.json": b'{"format": "clinicalnot'}),
        debris(run / "tokenizer", pid, {"vocab.txt": b"[PAD]\n[UNK]\n[C"}),
        debris(run / "metrics.json", pid, HALF_METRICS),
    ]


def killed_tokenizer(env, run, args, pid):
    return [
        debris(run / "tokenizer", pid, {"tokenizer.json": b'{"version": "1.0", "trunc'}),
        debris(run / "metrics.json", pid, HALF_METRICS),
    ]


def killed_pretrain(env, run, args, pid):
    """Killed while exporting the model: training had finished and saved ``last.ckpt``; a
    ``last.ckpt`` save (of an earlier step) was cut short beside it."""
    source = env.fault_pretrain_run
    shutil.copytree(source, run, ignore=shutil.ignore_patterns("model", "metrics.json"))
    return [
        debris(run / "model", pid, {"model.safetensors": half(source / "model/model.safetensors")}),
        debris(run / "checkpoints" / "last.ckpt", pid, half(source / "checkpoints/last.ckpt")),
        debris(run / "metrics.json", pid, HALF_METRICS),
    ]


def pretrain_resumed(env, run, metrics):
    assert metrics["steps"] == 2
    assert "tokens_per_second" not in metrics  # resumed at the end: no step trained again


def killed_simcse(env, run, args, pid):
    return [
        debris(run / "encoder", pid, {"config.json": b'{"architectures": ["Be'}),
        debris(run / "metrics.json", pid, HALF_METRICS),
    ]


def killed_sts(env, run, args, pid):
    return [
        debris(run / "sts_predictions.csv", pid, b"index,gold,cosine\n0,2.5,0.1"),
        debris(run / "metrics.json", pid, HALF_METRICS),
    ]


def sts_predictions_whole(env, run, metrics):
    lines = (run / "sts_predictions.csv").read_text().splitlines()
    assert len(lines) == metrics["pairs"] + 1 == 41


def killed_rag(env, run, args, pid):
    """Killed while building the cached split: the first run's split is taken away and what a
    killed build leaves is put in its place (the embeddings and index keyed by it stay)."""
    first_run(args, run)
    split = only(env.tmp / "rag-cache", "split-*")
    shutil.rmtree(split)
    (run / "metrics.json").unlink()
    (run / "test_subjects.txt").unlink()
    return [
        debris(split, pid, {"meta.json": b'{"test_source": "mim'}),
        debris(run / "test_subjects.txt", pid, b"10"),
        debris(run / "metrics.json", pid, HALF_METRICS),
    ]


def rag_split_rebuilt(env, run, metrics):
    assert metrics["reused.split"] is False and metrics["patients.overlap"] == 0
    assert (only(env.tmp / "rag-cache", "split-*") / "key.json").is_file()
    assert (run / "test_subjects.txt").read_text().strip()


def killed_predict(env, run, args, pid):
    """Killed while caching the hourly signals: the first run's cache entry and cohort are
    taken away and a killed writer's debris is put in their place."""
    first_run(args, run)
    grid = only(env.tmp / "cache" / "predict", "hourly-*")
    cohort_csv = (run / "cohort" / "train.csv").read_bytes()
    shutil.rmtree(grid)
    shutil.rmtree(run / "cohort")
    (run / "metrics.json").unlink()
    return [
        debris(grid, pid, {"grid.npz": b"PK\x03\x04half"}),
        debris(run / "cohort", pid, {"train.csv": cohort_csv[: len(cohort_csv) // 2]}),
        debris(run / "predictions" / "seed-3407.csv", pid, b"SUBJECT_ID,HADM_ID,ICU"),
        debris(run / "metrics.json", pid, HALF_METRICS),
    ]


def predict_whole(env, run, metrics):
    assert (only(env.tmp / "cache" / "predict", "hourly-*") / "key.json").is_file()
    rows = (run / "predictions" / "seed-3407.csv").read_text().splitlines()
    assert len(rows) == metrics["cohort.test"] + 1


def killed_finetune(env, run, args, pid):
    return [
        debris(run / "model", pid, {"config.json": b'{"architectures": ["Be'}),
        debris(run / "test_predictions.jsonl", pid, b'{"id": 0, "tok'),
        debris(run / "checkpoints" / "ner" / "last.ckpt", pid, b"PK\x03\x04half"),
        debris(run / "metrics.json", pid, HALF_METRICS),
    ]


def finetune_whole(env, run, metrics):
    from transformers import AutoModelForTokenClassification

    model = AutoModelForTokenClassification.from_pretrained(run / "model")
    assert model.config.num_labels > 1
    assert (run / "checkpoints" / "ner" / "last.ckpt").is_file()
    lines = (run / "test_predictions.jsonl").read_text().splitlines()
    assert lines and all(json.loads(line) for line in lines)


def killed_report(env, run, args, pid):
    return [
        debris(run / name, pid, b"| model | ST")
        for name in ("results.md", "results.csv", "runs.csv", "metrics.json")
    ]


def report_whole(env, run, metrics):
    assert metrics["runs"] == 1
    assert (run / "results.md").read_text().startswith("| model |")


def pipeline_args(env, run):
    stage = f"['task=tokenizer','data=csv','data.path={env.notes_csv}','tokenizer.vocab_size=200']"
    return ["task=pipeline", "pipeline.run=[tokenizer]", f"pipeline.stages.tokenizer={stage}"]


def killed_pipeline(env, run, args, pid):
    """Killed while its stage wrote the tokenizer: the stage dir keeps its ``stage.json`` (so the
    rerun resumes it in place) and gets the stage's debris."""
    first_run(args, run)
    stage = run / "tokenizer"
    shutil.rmtree(stage / "tokenizer")
    (stage / "metrics.json").unlink()
    (run / "metrics.json").unlink()
    return [
        debris(stage / "tokenizer", pid, {"vocab.txt": b"[PAD]\n[UN"}),
        debris(stage / "metrics.json", pid, HALF_METRICS),
        debris(run / "stages.json", pid, b'{"tokeni'),
        debris(run / "metrics.json", pid, HALF_METRICS),
    ]


def pipeline_stage_rerun(env, run, metrics):
    from tests.faults.verify import assert_loads

    assert "skipped.tokenizer" not in metrics
    assert_loads(run / "tokenizer" / "tokenizer")
    assert (run / "tokenizer" / "metrics.json").is_file()


RERUNS: list[Rerun] = [
    Rerun("prepare", "corpus_write",
          lambda e, run: prepare(e, "data.category_column=category", "tokenizer.min_frequency=1"),
          killed_prepare, ("corpus", "tokenizer")),
    Rerun("tokenizer", "tokenizer_write",
          lambda e, run: tokenizer(e, f"corpus.path={e.fault_corpus}"),
          killed_tokenizer, ("tokenizer",)),
    Rerun("pretrain", "model_export",
          lambda e, run: pretrain(e, f"corpus.path={e.fault_corpus}"),
          killed_pretrain, ("model",), pretrain_resumed),
    Rerun("simcse", "encoder_export",
          lambda e, run: simcse(e, f"corpus.path={e.fault_corpus}",
                                f"encoder.path={e.micro_encoder}"),
          killed_simcse, ("encoder",)),
    Rerun("sts", "predictions_write",
          lambda e, run: sts(e, f"sts.path={e.sts_file}", f"encoder.path={e.micro_encoder}"),
          killed_sts, (), sts_predictions_whole),
    Rerun("rag", "split_cache",
          lambda e, run: rag(e, f"encoder.path={e.micro_encoder}",
                             f"rag.cache_dir={e.tmp / 'rag-cache'}"),
          killed_rag, (), rag_split_rebuilt, marks=(pytest.mark.slow,)),
    Rerun("predict", "hourly_cache",
          lambda e, run: predict(e, "predict.modality=struct", f"paths.cache_dir={e.tmp / 'cache'}",
                                 f"paths.demo_dir={e.isolated_cache / 'demo'}"),
          killed_predict, ("cohort",), predict_whole),
    Rerun("finetune", "model_export",
          lambda e, run: finetune(e, f"encoder.path={e.micro_encoder}"),
          killed_finetune, (), finetune_whole),
    Rerun("report", "results_write",
          lambda e, run: report(e, f"report.runs=[{e.report_runs}]"),
          killed_report, (), report_whole),
    Rerun("pipeline", "stage_write", pipeline_args, killed_pipeline, (), pipeline_stage_rerun),
]  # fmt: skip


def reruns() -> list:
    return [case.param() for case in RERUNS]


def counts() -> dict[str, dict[str, int]]:
    """``{task: {class: number of cases}}`` (the real kill of ``test_killed_rerun`` not counted)."""
    table = {task: dict.fromkeys(CLASSES, 0) for task in TASKS}
    for case in [*CASES, *RERUNS]:
        table[case.task][case.fault] += 1
    return table


def markdown() -> str:
    """The matrix as a Markdown table of case counts (``python -m tests.faults.matrix``)."""
    table = counts()
    lines = ["| task | " + " | ".join(CLASSES) + " | total |", "|---" * (len(CLASSES) + 2) + "|"]
    for task, row in table.items():
        lines.append(
            f"| {task} | " + " | ".join(map(str, row.values())) + f" | {sum(row.values())} |"
        )
    totals = [sum(row[c] for row in table.values()) for c in CLASSES]
    lines.append("| total | " + " | ".join(map(str, totals)) + f" | {sum(totals)} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown())
