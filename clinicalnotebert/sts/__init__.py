"""task=sts: score any encoder on sentence pairs by cosine similarity (docs/simcse_sts.md).

``readers`` (ClinicalSTS and STS-B layouts), ``evaluate`` (embedding, correlations, the library
SimCSE scores its encoders with), ``task`` (``run``).
"""

from clinicalnotebert.sts.task import run

__all__ = ["run"]
