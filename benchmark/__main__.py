"""``python -m benchmark`` is ``bench``: the form launchers take
(``accelerate launch -m benchmark recipe run CONFIG``, ``torchrun -m benchmark ...``)."""

from benchmark.cli import main

main()
