"""task=simcse: unsupervised SimCSE on a prepared corpus -> ``<run>/encoder/`` (docs/simcse_sts.md).

``data`` (sampled corpus lines, padding), ``module`` (the contrastive LightningModule, GradCache,
cross-rank gather), ``task`` (``run``, and ``select_from``: a sweep's best job retrained).
"""

from clinicalnotebert.runner import stage_entry

run = stage_entry(__name__)  # imports .task when called

__all__ = ["run"]
