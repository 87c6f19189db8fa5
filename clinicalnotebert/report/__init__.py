"""task=report: metrics.json of many runs -> the paper's results table, CSV and plots.

``collect`` (finding runs, naming their model), ``table`` (columns, shares of the best),
``plots``, ``readme`` (the README's results block), ``task`` (``run``).
"""

from clinicalnotebert.runner import stage_entry

run = stage_entry(__name__)  # imports .task when called

__all__ = ["run"]
