"""Side-by-side speed measurements (see the README's Benchmarks section)."""
