"""task=tokenizer: an uncased WordPiece vocabulary trained on the notes or a prepared corpus.

The WordPiece trainer and loader every stage uses live in ``clinicalnotebert.models.tokenizer``.
"""

from clinicalnotebert.runner import stage_entry

run = stage_entry(__name__)  # imports .task when called

__all__ = ["run"]
