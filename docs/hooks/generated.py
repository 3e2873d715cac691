"""MkDocs hook: the reference parts of the documentation, generated from the code at build
time so they cannot drift from it.

A page holds a marker line (indented or not), and the build replaces it:

- ``<!-- generated: cli -->``: every ``bench`` command (the typer app of
  ``gonerd_bench.cli``, walked through ``typer.main.get_command``) with its usage, help,
  arguments and options, as ``bench COMMAND --help`` prints them;
- ``<!-- generated: python-m-benchmark -->``: the commands ``python -m benchmark`` takes;
- ``<!-- generated: result-schema -->``: the result file's JSON Schema
  (``benchmark.run_result.result_schema()``, what ``bench schema result`` prints);
- ``<!-- generated: entry-schema -->``: the leaderboard entry's JSON Schema
  (``leaderboard.entry.entry_schema()``, what ``bench leaderboard schema`` prints);
- ``<!-- generated: tasks -->``: the task registry (``benchmark.tasks.TASKS``, what
  ``bench tasks`` lists).

An unknown marker fails the build. Registered in ``mkdocs.yml`` under ``hooks:``.
"""

from __future__ import annotations

import json
import re

MARKER = re.compile(r"^([ \t]*)<!-- generated: ([a-z-]+) -->[ \t]*$", re.MULTILINE)
_SPECIAL = re.compile(r"([\\*_\[\]|])")


def on_page_markdown(markdown: str, page, config, files) -> str:
    def replace(match: re.Match) -> str:
        indent, name = match.groups()
        if name not in GENERATORS:
            raise ValueError(
                f"{page.file.src_path}: unknown marker {name!r}; known: {', '.join(GENERATORS)}"
            )
        lines = GENERATORS[name]().splitlines()
        return "\n".join(indent + line if line else line for line in lines)

    return MARKER.sub(replace, markdown)


# --- text -------------------------------------------------------------------------------


def _text(text: str | None) -> str:
    """Help text as Markdown in a table cell: code spans kept, everything else shown as
    written (no emphasis, no HTML, no table breaks), on one line."""
    parts = " ".join((text or "").split()).split("`")
    out = []
    for i, part in enumerate(parts):
        if i % 2:  # inside a code span
            out.append("`" + part.replace("|", "\\|") + "`")
        else:
            part = part.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            out.append(_SPECIAL.sub(r"\\\1", part))
    return "".join(out)


def _code(text: str) -> str:
    """Text in a code span inside a table cell."""
    return "`" + text.replace("|", "\\|") + "`"


def _anchor(path: list[str]) -> str:
    return "-".join(path).replace("_", "-")


# --- the CLI ----------------------------------------------------------------------------


def cli_reference() -> str:
    import typer

    from gonerd_bench.cli import app

    root = typer.main.get_command(app)
    lines: list[str] = []
    _command(root, ["bench"], None, lines, level=2)
    return "\n".join(lines)


def _subcommands(command, ctx) -> list:
    if not hasattr(command, "list_commands"):
        return []
    subs = [command.get_command(ctx, name) for name in command.list_commands(ctx)]
    return [sub for sub in subs if sub is not None and not sub.hidden]


def _command(command, path: list[str], parent, lines: list[str], level: int) -> None:
    ctx = command.context_class(command, info_name=path[-1], parent=parent)
    subs = _subcommands(command, ctx)
    pieces = command.collect_usage_pieces(ctx)
    if subs and getattr(command, "invoke_without_command", False):
        pieces = ["[" + p + "]" if p.startswith("COMMAND") else p for p in pieces]
    lines += [
        f"{'#' * level} `{' '.join(path)}` {{#{_anchor(path)}}}",
        "",
        "```text",
        " ".join([ctx.command_path, *pieces]),
        "```",
        "",
        _text(command.help),
        "",
    ]
    params = [p for p in command.get_params(ctx) if p.name != "help"]
    records = [(p, p.get_help_record(ctx)) for p in params]
    records = [(p, r) for p, r in records if r is not None]
    arguments = [r for p, r in records if p.param_type_name == "argument"]
    options = [r for p, r in records if p.param_type_name != "argument"]
    for title, rows in (("Argument", arguments), ("Option", options)):
        if rows:
            lines += [f"| {title} | Description |", "|---|---|"]
            lines += [f"| {_code(decl)} | {_text(help_)} |" for decl, help_ in rows]
            lines.append("")
    if subs:
        lines += ["| Command | Description |", "|---|---|"]
        for sub in subs:
            sub_path = [*path, sub.name]
            link = f"[`{' '.join(sub_path)}`](#{_anchor(sub_path)})"
            lines.append(f"| {link} | {_text(sub.help)} |")
        lines.append("")
    for sub in subs:
        _command(sub, [*path, sub.name], ctx, lines, level=min(level + 1, 3) if parent else 2)


def python_m_benchmark() -> str:
    import typer

    from benchmark.cli import build_app

    root = typer.main.get_command(build_app())
    ctx = root.context_class(root, info_name="python -m benchmark")
    names = [f"[`{name}`](#{_anchor(['bench', name])})" for name in root.list_commands(ctx)]
    return ", ".join(names)


# --- JSON Schemas -----------------------------------------------------------------------


def _type(schema: dict, prefix: str) -> str:
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return f"[{name}](#{prefix}-{name.lower()})"
    if "anyOf" in schema:
        return " or ".join(_type(s, prefix) for s in schema["anyOf"])
    if "const" in schema:
        return _code(json.dumps(schema["const"]))
    if "enum" in schema:
        return " or ".join(_code(json.dumps(v)) for v in schema["enum"])
    kind = schema.get("type", "any")
    if kind == "array":
        items = schema.get("items")
        return "array of " + _type(items, prefix) if items else "array"
    if kind == "object":
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict) and extra:
            return "object of " + _type(extra, prefix)
        return "object"
    return kind


def _object(name: str, schema: dict, prefix: str, level: str) -> list[str]:
    lines = [f"{level} `{name}` {{#{prefix}-{name.lower()}}}", ""]
    if schema.get("description"):
        lines += [_text(schema["description"]), ""]
    required = set(schema.get("required", ()))
    lines += ["| Field | Type | Required | Default |", "|---|---|---|---|"]
    for field, spec in schema.get("properties", {}).items():
        default = _code(json.dumps(spec["default"])) if "default" in spec else ""
        need = "yes" if field in required else ""
        lines.append(f"| `{field}` | {_type(spec, prefix)} | {need} | {default} |")
    return [*lines, ""]


def _schema_page(schema: dict, prefix: str, command: str) -> str:
    lines = _object(schema.get("title", "root"), schema, prefix, "###")
    for name, spec in schema.get("$defs", {}).items():
        lines += _object(name, spec, prefix, "####")
    body = json.dumps(schema, indent=2)
    lines += [
        f'??? note "The whole JSON Schema (`{command}`)"',
        "",
        "    ```json",
        *("    " + line for line in body.splitlines()),
        "    ```",
        "",
    ]
    return "\n".join(lines)


def result_schema() -> str:
    from benchmark.run_result import SCHEMA_VERSION
    from benchmark.run_result import result_schema as schema

    head = f"The current format is `schema_version` {SCHEMA_VERSION}.\n\n"
    return head + _schema_page(schema(), "result", "bench schema result")


def entry_schema() -> str:
    from leaderboard.entry import entry_schema as schema

    return _schema_page(schema(), "entry", "bench leaderboard schema")


# --- tasks ------------------------------------------------------------------------------


def tasks_table() -> str:
    from benchmark.tasks import TASKS

    lines = [
        "| Task | Family | Group | Metric (main score) | Max length | Long context | Version "
        "| Description |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, spec in TASKS.items():
        lines.append(
            f"| `{name}` | `{spec.family}` | {spec.group or ''} | {spec.metric} "
            f"({spec.main_score}) | {spec.max_length} | {'yes' if spec.long_context else ''} "
            f"| {spec.version} | {_text(spec.description)} |"
        )
    return "\n".join(lines) + "\n"


GENERATORS = {
    "cli": cli_reference,
    "python-m-benchmark": python_m_benchmark,
    "result-schema": result_schema,
    "entry-schema": entry_schema,
    "tasks": tasks_table,
}
