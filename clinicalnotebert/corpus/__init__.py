"""task=prepare: raw notes -> ``corpus/<variant>/<note_type>/`` (docs/prepare.md).

``readers`` (MIMIC-III, MIMIC-IV-Note, CSV/JSONL), ``note_types`` (the five classes), ``deid``
(placeholder cleanup), ``segmenter`` and ``sentences`` (splitting), ``variants`` (sentence /
segment / note bands), ``tokenizer`` (the tokenizer prepare measures with), ``prepare`` (filters,
workers, writer, shards), ``store`` (reading a corpus back), ``task`` (``run``).
"""

from clinicalnotebert.runner import stage_entry

run = stage_entry(__name__)  # imports .task when called

__all__ = ["run"]
