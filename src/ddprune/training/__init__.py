"""Training one network: hyper-parameters, the one training loop (used by dense runs and by
retraining after pruning), evaluation, checkpoints, and the platform a job runs on."""
