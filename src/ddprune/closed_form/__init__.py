"""Least-squares models solved in closed form, the route after Chang et al. (2021): the
solver (``solver``: linear and random-feature models, pruning by magnitude or Hessian score,
with and without refitting; torch), the tests of their claims (``claims``), the exact risk
where theory gives it (``theory``) and the prune-large-vs-train-small figure (``figures``),
all torch-free but the solver. Nothing is imported here, so that the torch-free parts stay
torch-free.
"""
