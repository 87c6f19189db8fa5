"""Semantic textual similarity: read sentence pairs (ClinicalSTS, STS-B) and score encoders (SPEC 4)."""
