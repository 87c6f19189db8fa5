"""Tests of the synthetic demo data set."""
