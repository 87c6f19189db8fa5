"""task=pretrain: MLM with whole-word masking (+ note-type prediction) (docs/pretrain.md).

``masking`` (whole-word masker), ``data`` (length-grouped, resumable batches), ``module`` (the
LightningModule and optimizer), ``card`` (export and model card), ``task`` (``run``).
"""

from clinicalnotebert.runner import stage_entry

run = stage_entry(__name__)  # imports .task when called

__all__ = ["run"]
