"""Export a model folder that Hugging Face loads with no project code, atomically.

``save_hf_model`` writes ``config.json`` + ``model.safetensors`` (``save_pretrained``), the
tokenizer files, optional extra safetensors files (e.g. a head that the HF class does not hold)
and a ``README.md`` model card; a run killed halfway leaves no folder that looks complete.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from clinicalnotebert.io import atomic_dir

CARD_FILE = "README.md"


def save_hf_model(
    model,
    tokenizer,
    target: str | Path,
    card: str,
    architectures: list[str] | None = None,
    extra_tensors: Mapping[str, Mapping[str, Any]] | None = None,
) -> Path:
    """Save ``model`` and ``tokenizer`` into ``target`` with the model card text ``card``.

    ``architectures`` replaces the class names recorded in ``config.json`` (so that a folder
    saved from a project class names the standard HF class its weights load into);
    ``extra_tensors`` maps a file name to a dict of tensors saved beside the model.
    """
    from safetensors.torch import save_file

    with atomic_dir(target) as tmp:
        model.save_pretrained(tmp)
        if architectures:
            config_path = tmp / "config.json"
            config = json.loads(config_path.read_text(encoding="utf-8"))
            config["architectures"] = list(architectures)
            config_path.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n", "utf-8")
        tokenizer.save_pretrained(tmp)
        for name, tensors in (extra_tensors or {}).items():
            contiguous = {key: value.detach().cpu().contiguous() for key, value in tensors.items()}
            save_file(contiguous, str(tmp / name), metadata={"format": "pt"})
        (tmp / CARD_FILE).write_text(card, encoding="utf-8")
    return Path(target)


def markdown_table(rows: Mapping[str, Any]) -> str:
    lines = ["| | |", "|---|---|"]
    lines += [f"| {key} | {format_value(value)} |" for key, value in rows.items()]
    return "\n".join(lines)


def format_value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def model_card(
    title: str,
    summary: str,
    sections: Mapping[str, Mapping[str, Any]],
    usage: str,
    tags: tuple[str, ...] = ("clinical", "bert"),
    pipeline_tag: str = "fill-mask",
) -> str:
    """A Markdown model card: front matter, summary, one table per section, and how to load it.

    Only numbers and settings go in; never corpus text (it may be protected health information).
    """
    front = ["---", "library_name: transformers", f"pipeline_tag: {pipeline_tag}", "tags:"]
    front += [f"- {tag}" for tag in tags] + ["---", ""]
    body = [f"# {title}", "", summary, ""]
    for heading, rows in sections.items():
        body += [f"## {heading}", "", markdown_table(rows), ""]
    body += ["## Usage", "", "```python", usage.strip(), "```", ""]
    return "\n".join(front + body)
