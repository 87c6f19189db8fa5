"""task=tokenizer: an uncased WordPiece vocabulary trained on the notes or a prepared corpus.

The WordPiece trainer and loader every stage uses live in ``clinicalnotebert.models.tokenizer``.
"""

from clinicalnotebert.tokenizer.task import run

__all__ = ["run"]
