"""The ``bench`` command: the suite's packages joined into one CLI.

It sits above them all (``gonerd`` <- ``benchmark`` <- {``leaderboard``, ``baselines``} <-
here), so none of them needs to know the others' commands."""
