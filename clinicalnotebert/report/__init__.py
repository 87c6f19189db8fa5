"""task=report: metrics.json of many runs -> the paper's results table, CSV and plots."""
