"""What every command of the suite shares on the terminal: the libraries kept quiet, and a
user's mistake shown as one ``error:`` line (exit status 2) instead of a traceback.

Tracebacks are for bugs; a failure the user can fix is a typed error (``BenchError``,
``GonerdError``) whose message names the problem and the fix."""

from __future__ import annotations

from collections.abc import Callable

from rich.console import Console
from rich.text import Text

from benchmark.errors import BenchError
from gonerd.errors import GonerdError


def quiet_libraries() -> None:
    """Our own progress output replaces the libraries' per-file bars and load reports."""
    import datasets
    import transformers

    datasets.disable_progress_bars()
    transformers.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()


def one_line(text: str) -> str:
    """``text`` on one line, every unprintable character written as an escape."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in " ".join(text.splitlines()))


def run_command_line(app: Callable[[], object]) -> None:
    """Run a typer app as a console script: user errors become one line on stderr and exit
    code 2; an interrupt says that finished work is kept (exit code 130)."""
    try:
        app()
    except (BenchError, GonerdError) as exc:
        # The message may quote user input (a name, a value from a submitted file): shown
        # as plain text on one line, never as markup, unprintable characters escaped.
        message = Text.assemble(("error:", "bold red"), " ", one_line(str(exc)))
        Console(stderr=True).print(message, highlight=False, soft_wrap=True)
        raise SystemExit(2) from None
    except KeyboardInterrupt:
        Console(stderr=True).print(
            "[bold red]interrupted:[/] finished tasks are kept in the result file; "
            "run the same command again to resume",
            highlight=False,
            soft_wrap=True,
        )
        raise SystemExit(130) from None
