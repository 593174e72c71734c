"""The answer stage: per-seed statistics of every pruned source (``statistics``), the paired
tests (``inference``) and the comparisons of the four questions with their families
(``comparisons``), and the page's sentences and tables (``page``)."""
