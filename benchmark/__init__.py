"""GONERD Bench's runner: tasks, metrics, cost profiling, result files and the CLI."""

__version__ = "0.1.0"
