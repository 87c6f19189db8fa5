"""task=rag: an encoder measured as a retriever for a causal LM's perplexity (SPEC 5).

Data flows one way: notes split by patient (:mod:`.notes`) -> datastore chunks
(:mod:`.datastore`) -> embeddings and a faiss index (:mod:`.index`) -> sliding-window
perplexity with and without retrieved chunks (:mod:`.perplexity`), with the LM from :mod:`.lm`.
"""
