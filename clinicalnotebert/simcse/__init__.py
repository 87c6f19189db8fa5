"""task=simcse: unsupervised SimCSE on a prepared corpus -> ``<run>/encoder/`` (docs/simcse_sts.md).

``data`` (sampled corpus lines, padding), ``module`` (the contrastive LightningModule, GradCache,
cross-rank gather), ``selection`` (the sweep's best job), ``task`` (``run``).
"""

from clinicalnotebert.simcse.task import run

__all__ = ["run"]
