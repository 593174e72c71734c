"""ddprune: what happens when a network at the interpolation threshold of double descent is pruned."""

__version__ = "0.1.0"
