"""task=pipeline: the stages of ``conf/pipeline`` as one resumable chain of commands."""

from clinicalnotebert.pipeline.task import run

__all__ = ["run"]
