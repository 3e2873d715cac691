"""GONERD Bench's runner: tasks, metrics, cost profiling, result files, the attention the
suite adds to transformers, and the helpers every package shares. The suite's version is
declared here once; the package metadata reads it (pyproject.toml)."""

__version__ = "0.1.0"
