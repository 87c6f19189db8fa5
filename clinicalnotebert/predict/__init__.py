"""task=predict: clinical prediction from notes, hourly signals, or both (docs/predict.md).

``cohorts`` (stays, labels, splits), ``notes`` (first-window notes and their vectors),
``hourly`` (the 104 hourly variables), ``dataset`` (batches), ``models`` (BiLSTM, GRU-D, fusion
and the LightningModule), ``metrics`` (scores over seeds), ``task`` (``run``).
"""

from clinicalnotebert.runner import stage_entry

run = stage_entry(__name__)  # imports .task when called

__all__ = ["run"]
