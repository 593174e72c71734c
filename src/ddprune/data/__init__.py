"""Data: datasets by name, label noise, and the device-resident tensors a run trains on
(with the feed that turns a stored batch into a model's input)."""
