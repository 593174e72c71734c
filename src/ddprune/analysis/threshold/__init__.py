"""The threshold stage: the IT criteria on a family's seed-mean curves (``criteria``) and the
IT of every family with the checkpoints selected around it (``detection``)."""
