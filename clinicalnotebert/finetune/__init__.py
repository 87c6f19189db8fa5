"""task=finetune: NLI, NER, extractive QA and relation extraction (docs/finetune.md).

``readers`` parse the published formats (MedNLI JSONL, CoNLL BIO / datasets dirs, SQuAD JSON,
DyGIE JSONL), ``metrics`` score them. ``module`` is the LightningModule over any Hugging Face
head, ``batching`` its batches, ``training`` trains, predicts and exports a head with the
``trainer`` group's trainer. One module per task (``nli``, ``ner``, ``qa``, ``relations``) builds
features and predictions; ``task`` runs one configuration, the reference grid, or the selection
over a finished sweep (``clinicalnotebert.sweeps``).
"""

from clinicalnotebert.runner import stage_entry

run = stage_entry(__name__)  # imports .task when called

__all__ = ["run"]
