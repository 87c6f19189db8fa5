"""Datasets, batching and collators: whole-word masking and the pretraining DataModule."""
