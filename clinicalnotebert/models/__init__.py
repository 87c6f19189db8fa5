"""What several stages share: BERT builders, tokenizers, encoder loading and pooling, exports."""

IGNORE_INDEX = -100  # label of a position that is not predicted (torch cross-entropy default)
