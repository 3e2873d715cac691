"""``python -m benchmark``: the runner's commands alone (``run``, ``speed``, ``sweep``, ...),
the form launchers take (``torchrun -m benchmark run ...``). The whole ``bench`` command,
recipe and leaderboard included, is ``python -m gonerd_bench``."""

from benchmark.cli import main

main()
