"""Fine-tuning on the paper's task families (SPEC §7): NLI, NER, extractive QA, relation extraction.

``readers`` parse the published formats (MedNLI JSONL, CoNLL BIO / datasets dirs, SQuAD JSON,
DyGIE JSONL), ``metrics`` score them, ``loop`` trains any Hugging Face head, one module per task
builds features and predictions, ``runner`` runs one config or the reference grid.
"""
