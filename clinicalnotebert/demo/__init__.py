"""The synthetic MIMIC-shaped demo data set (``data=demo``), generated on first use.

It is the project's own text and tables: MIMIC-III and MIMIC-IV-Note layouts with linked
patients, stays, notes and hourly signals, plus STS pairs and a NER set, so that every stage
runs offline without credentialed data.
"""

from __future__ import annotations

from collections.abc import Mapping

from clinicalnotebert.demo.generator import ensure_demo, generate_demo

__all__ = ["ensure_demo", "ensure_demo_data", "generate_demo"]


def ensure_demo_data(data) -> None:
    """Generate the demo data on first use when the ``data`` section is the demo's."""
    if data.name == "demo":
        ensure_demo(data if isinstance(data, Mapping) else vars(data))
