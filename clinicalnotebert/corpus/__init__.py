"""Corpus preparation: note readers, note types, de-id cleanup, segmentation, sentence splitting."""
