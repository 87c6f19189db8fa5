"""clinicalnotebert: build and evaluate clinical text encoders the ClinicalNoteBERT way."""

__version__ = "0.1.0"
