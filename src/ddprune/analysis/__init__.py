"""Torch-free analysis of the tables: the interpolation threshold, summaries, HTML tables and
figures."""
