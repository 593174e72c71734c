"""ddprune: what happens when a network at the interpolation threshold is pruned?"""

__version__ = "0.1.0"
