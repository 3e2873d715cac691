"""``python -m gonerd_bench`` is ``bench``: the form launchers take
(``accelerate launch -m gonerd_bench recipe run CONFIG``, ``torchrun -m gonerd_bench run ...``)."""

from gonerd_bench.cli import main

main()
