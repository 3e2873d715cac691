"""`bench report STUDY.yaml --output docs/study/`: the study's page, made from its files alone.

Reads each model's merged result (``<runs>/results/<model>.json``, written by the study's
sweep) and each student's interleaved time ratios (``<runs>/time-ratios/<model>.json``),
copies them under ``<output>/data/`` so the page can be made again from what is committed
(``--runs <output>/data``), and writes ``README.md`` (a table per architecture: scores with
their spread over seeds, retained %, time ratio and speed-up, own time and peak memory, at
every length), the Pareto plot of retained % against speed-up (``pareto.png`` and
``pareto.svg``), and the paper's claims beside ours, labelled as the paper's. Nothing is
measured here.

One module per step: :mod:`.load` reads and copies the files, :mod:`.stats` makes the
numbers, :mod:`.pairs` makes the paired intervals of two models' difference from their
predictions, :mod:`.verdicts` decides the goal, floor and orders verdicts as records,
:mod:`.sentences` words them, :mod:`.tables` and :mod:`.gpu` make the tables, :mod:`.text`
holds the fixed text and :mod:`.page` puts the page and its plot together.
"""

from baselines.report.page import make_report

__all__ = ["make_report"]
