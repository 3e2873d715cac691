"""``bench card``: a result's scores into its model's card (benchmark.hub_card), written
beside the weights or sent to the Hub (benchmark.hub_push)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from benchmark.cli.output import console


def card_command(
    result: Annotated[Path, typer.Argument(help="A result file written by `bench run`.")],
    model_dir: Annotated[
        Path | None,
        typer.Option(help="The model's folder: its README.md gains the scores (made if absent)."),
    ] = None,
    repo_id: Annotated[
        str | None,
        typer.Option(help="A Hub model repository: its card is read from the Hub to be updated."),
    ] = None,
    push: Annotated[
        bool, typer.Option("--push", help="Send the card to --repo-id (or the result's Hub id).")
    ] = False,
    with_results: Annotated[
        bool,
        typer.Option(
            "--with-results",
            help="With --push: also send the result file and its predictions, under gonerd-bench/.",
        ),
    ] = False,
    base_model: Annotated[
        str | None,
        typer.Option(help="The teacher's Hub id, for a student (default: the one recorded)."),
    ] = None,
    source_url: Annotated[
        str | None,
        typer.Option(
            help="Where the suite lives, named as the results' source (default: "
            "the installed package's repository URL, if it states one)."
        ),
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Print the card and what --push would send; write nothing."),
    ] = False,
) -> None:
    """Write a result's scores into its model's card as Hub evaluation results
    (model-index and .eval_results), keeping the card's own text; --push sends it."""
    from rich.markup import escape

    from benchmark.errors import BenchError
    from benchmark.hub_card import (
        EVAL_RESULTS_FILE,
        build_card,
        left_out_by_reason,
        suite_url,
        write_card,
    )
    from benchmark.hub_push import Upload, existing_card, result_uploads
    from benchmark.hub_push import push as push_files
    from benchmark.run_result import GIVE_ONE, read_result

    if with_results and not (push or dry_run):
        raise BenchError(
            "--with-results sends the result file with the card: add --push (or --dry-run to "
            "see what would be sent)"
        )
    loaded = read_result(result, GIVE_ONE)
    if loaded is None:
        raise BenchError(f"result file {result} does not exist: give the file `bench run` wrote")
    if model_dir is None and repo_id is None:
        model_dir, repo_id = _target(loaded)
    target = repo_id or loaded.model.hub_id
    if push and not target:
        raise BenchError("--push needs a repository: give --repo-id OWNER/NAME")
    if model_dir is not None:
        readme = Path(model_dir) / "README.md"
        existing = readme.read_text(encoding="utf-8") if readme.is_file() else None
    else:
        existing = existing_card(repo_id)
    contents = build_card(loaded, existing, base_model, source_url or suite_url())
    folder = Path(model_dir) if model_dir is not None else result.with_name(result.stem + ".card")
    uploads = [Upload(folder / "README.md", "README.md")]
    if contents.entries:
        uploads.append(Upload(folder / EVAL_RESULTS_FILE, EVAL_RESULTS_FILE))
    if with_results:
        uploads += result_uploads(result)
    message = f"GONERD Bench results of {loaded.model.name}: {', '.join(loaded.tasks)}"
    for why, tasks in left_out_by_reason(contents.left_out).items():
        console.print(
            f"[dim]not in {EVAL_RESULTS_FILE}: {escape(', '.join(tasks))} ({escape(why)})[/]",
            highlight=False,
            soft_wrap=True,
        )
    if dry_run:
        console.print(str(contents.card), markup=False, highlight=False)
        if contents.entries:
            console.print(f"--- {EVAL_RESULTS_FILE}\n{contents.eval_results_yaml()}", markup=False)
        if push:
            sent = ", ".join(u.in_repo for u in uploads)
            console.print(f"would send to {target}: {sent} ({message!r})", markup=False)
        return
    for path in write_card(folder, contents):
        console.print(f"wrote {path}", highlight=False)
    if push:
        console.print(f"pushed: {push_files(target, uploads, message)}", highlight=False)


def _target(result) -> tuple[Path | None, str | None]:
    """Where the card goes when not told: the model's recorded folder, else its Hub id."""
    from benchmark.errors import BenchError

    path = result.model.path
    if path and Path(path).is_dir():
        return Path(path), None
    if result.model.hub_id:
        return None, result.model.hub_id
    raise BenchError(
        "the result names no model folder or Hub id to put the card in: give --model-dir DIR "
        "or --repo-id OWNER/NAME"
    )
