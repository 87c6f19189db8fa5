"""task=sts: score any encoder on sentence pairs by cosine similarity (docs/simcse_sts.md).

``readers`` (ClinicalSTS and STS-B layouts), ``evaluate`` (embedding, correlations, the library
SimCSE scores its encoders with), ``task`` (``run``).
"""

from clinicalnotebert.runner import stage_entry

run = stage_entry(__name__)  # imports .task when called

__all__ = ["run"]
