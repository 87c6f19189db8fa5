"""task=pipeline: the stages of ``conf/pipeline`` as one resumable chain of commands."""

from clinicalnotebert.runner import stage_entry

run = stage_entry(__name__)  # imports .task when called

__all__ = ["run"]
