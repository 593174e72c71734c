"""Torch-free helpers that every layer uses: atomic files, schema-checked tables, logs,
seeds, registries."""
