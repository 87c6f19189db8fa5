"""Where the configs live, and the typed schemas of their sections (the values stay in conf/)."""

from __future__ import annotations

from pathlib import Path

CONF_DIR = Path(__file__).resolve().parent.parent / "conf"  # the clone's conf/ (pip install -e .)
