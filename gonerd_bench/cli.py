"""``bench``: the runner's commands (benchmark.cli) with the leaderboard's (submit,
leaderboard) and the recipe's (recipe, study, report), each defined beside its package."""

from __future__ import annotations

from baselines.cli import recipe_app, report_command, study_app
from benchmark.cli import build_app
from benchmark.console import run_command_line
from leaderboard.cli import leaderboard_app, submit_command
from leaderboard.entry import entry_schema


def _entry_schema() -> dict:
    """The JSON Schema of a leaderboard entry (as `bench leaderboard schema`)."""
    return entry_schema()


app = build_app(schemas={"entry": _entry_schema})
app.command("submit")(submit_command)
app.command("report")(report_command)
app.add_typer(leaderboard_app, name="leaderboard")
app.add_typer(recipe_app, name="recipe")
app.add_typer(study_app, name="study")


def main() -> None:
    """Console-script entry point: user errors become one line on stderr and exit code 2."""
    run_command_line(app)


if __name__ == "__main__":
    main()
