"""Every figure of the report (plotnine), a module per stage -- ``dense``, ``pruning``,
``answer`` -- and what they share (``plotting``: labels, scales, atomic saving)."""
