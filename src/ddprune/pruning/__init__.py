"""Pruning a trained checkpoint: exact masks, the methods (torch-free records), and the
rounds of pruning and retraining."""
