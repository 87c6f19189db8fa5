"""task=rag: an encoder measured as a retriever for a causal LM's perplexity (docs/rag.md).

Data flows one way: notes split by patient (``notes``, ``split``) -> datastore chunks
(``datastore``) -> embeddings and a faiss index (``index``) -> sliding-window perplexity with and
without retrieved chunks (``perplexity``), with the LM from ``lm``; ``task`` holds ``run``.
"""

from clinicalnotebert.runner import stage_entry

run = stage_entry(__name__)  # imports .task when called

__all__ = ["run"]
