"""`bench sweep MANIFEST.yaml`: many models (students with their teachers), tasks and seeds,
as independent units that any number of workers share out.

A unit is one (model, task, seed) run of `bench run`, written to its own result file under
``<output>/units/<model>/``, or one model's speed measurement. Units are listed in one fixed
order, seed by seed (every model at the first seed, teachers first, then every model at the
next), and ``--shard I/N`` takes every N-th, so a SLURM job array or any scheduler spreads
them over nodes with no coordinator (and ``--workers N`` over one machine's cores,
benchmark.sweep.workers): each worker skips the units already
written (a killed worker loses only the unit it was in) and, when it is done, merges every
model whose units are all written into ``<output>/<model>.json``: its tasks as `bench run
--seeds` writes them (benchmark.seeds), its speed block, and, for a student, retention
against its teacher. A merged file follows from its unit files alone, so whichever worker
writes it last writes the same file.

The package in four rooms: the manifest (benchmark.sweep.manifest), the plan of units and
their files (benchmark.sweep.plan), running them (benchmark.sweep.run, in local worker
processes with benchmark.sweep.workers) and merging each model's units
(benchmark.sweep.merge).
"""

from benchmark.sweep.manifest import Manifest, ModelEntry, load_manifest
from benchmark.sweep.plan import Sweep, Unit, parse_shard, read_speed
from benchmark.sweep.run import run_sweep

__all__ = [
    "Manifest",
    "ModelEntry",
    "Sweep",
    "Unit",
    "load_manifest",
    "parse_shard",
    "read_speed",
    "run_sweep",
]
