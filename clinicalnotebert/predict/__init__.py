"""Clinical prediction and multimodal fusion (SPEC §6): cohorts, notes, hourly signals, models."""
