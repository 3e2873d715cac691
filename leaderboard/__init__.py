"""The leaderboard: the entry schema (``entry``), validating a submitted result file
(``validation``), the board file and its lock (``store``), the numbers the board computes
(``board``: retention, speed-ups, the Pareto front), how sure they are (``intervals``,
``pairing``, drawn when an entry is submitted; ``recheck``, drawn again by `bench
leaderboard check`) and its renderings (``render``: terminal, Markdown, CSV, JSON, a static
web page). It reads result files, never writes
them, and never runs anything a submission holds."""
