"""The board as one self-contained web page: the sortable table (retained % as a heat map,
long model names cut with their whole name as a tooltip, each task's interval, paired numbers
and long-context gain in its cell's tooltip, a permalink per row), the details table of
those numbers, the board's CSV as a download, and the Pareto plot as inline SVG, with why
any student is not on it (:mod:`leaderboard.html_plot`); the data filter shows one data
label at a time, over its own tasks where it has fewer (:mod:`leaderboard.html_filter`).

Every user-supplied string goes through ``html.escape``, and the CSV through URL encoding
before it becomes a link; the page's own script is the only one it runs, allowed by its hash
in the page's Content-Security-Policy.
"""

from __future__ import annotations

import html
import re
from urllib.parse import quote

from leaderboard.board import PlotView, Row, ordered
from leaderboard.cells import cells, row_note_lines
from leaderboard.html_filter import (
    FILTER_SCRIPT,
    alternative_attributes,
    header_attributes,
    heat,
    label_plots,
    label_views,
    tasks_count_html,
)
from leaderboard.html_plot import plot_html
from leaderboard.trust_cells import DETAIL_HEADER, detail_lines, task_title


def row_anchor(entry_id: str) -> str:
    """The HTML id of an entry's row, the target of its permalink: ids are hex digests, and
    anything else is replaced, so an id never needs escaping nor breaks the fragment."""
    return "entry-" + re.sub(r"[^A-Za-z0-9_-]", "-", entry_id)


def csv_href(csv_text: str) -> str:
    """The CSV as a ``data:`` URL: every character but letters, digits and ``_.-~`` is
    percent-encoded, so no quote, angle bracket or ``#`` from a name reaches the attribute."""
    return "data:text/csv;charset=utf-8," + quote(csv_text, safe="")


_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{csp}">
<title>GONERD Bench leaderboard</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 1em; color: #222; }}
table {{ border-collapse: collapse; font-size: 12px; max-width: 100%; }}
th, td {{ border: 1px solid #ccc; padding: 3px 4px; text-align: right; }}
th {{ background: #f0f0f0; cursor: pointer; }}
td.model {{ text-align: left; max-width: 11em; overflow: hidden; text-overflow: ellipsis;
  white-space: nowrap; }}
tr.student td.model {{ padding-left: 2em; }}
td.permalink a {{ color: #888; text-decoration: none; }}
tr:target {{ outline: 2px solid #d62728; }}
#csv-download {{ margin-left: 1em; }}
#details td:nth-child(-n+2) {{ text-align: left; max-width: 14em; overflow: hidden;
  text-overflow: ellipsis; white-space: nowrap; }}
.note {{ color: #666; font-size: 12px; }}
</style></head><body>
<h1>GONERD Bench leaderboard</h1>
<p>Scores on a 0-100 scale; in brackets, the percent of the teacher's score a student keeps
(coloured from red at 80 % to green at 100 %). Aggregates are taken only over entries scored
on every task shown ({n_tasks}){filter_note}. Speed-up: the teacher's time over the
student's at the longest shape both were timed at on one kind of device, timed in turns with
that teacher where the student was (else the ratio of the two entries' latencies); * marks
the Pareto front of retained % and speed-up within a device class. Point at a score for its
95 % interval and, for a student, the paired interval of its retained %, agreement and
flips. Click a column header to sort; the # at the end of a row is a link to it.</p>
<p><label for="data-filter">Data:</label> <select id="data-filter">
<option value="">all</option>{data_options}</select>
<a id="csv-download" href="{csv_href}" download="leaderboard.csv">Download the table (CSV)</a>
</p>
<table id="board"><thead><tr>{header}</tr></thead><tbody>
{body}
</tbody></table>
{details}
<h2>Retained % against speed-up</h2>
{plots}
<div id="notes" class="note">{notes}</div>
<script>{script}</script>
</body></html>
"""

# Our own sorting script, the only one the page runs (its hash is in the page's
# Content-Security-Policy, so no injected script could run even if escaping failed).
_SCRIPT = (
    """
document.querySelectorAll('#board th').forEach(function (th, column) {
  th.addEventListener('click', function () {
    var body = document.querySelector('#board tbody');
    var rows = Array.prototype.slice.call(body.rows);
    var ascending = th.getAttribute('data-order') !== 'asc';
    th.setAttribute('data-order', ascending ? 'asc' : 'desc');
    rows.sort(function (a, b) {
      var x = a.cells[column].getAttribute('data-sort');
      var y = b.cells[column].getAttribute('data-sort');
      var nx = parseFloat(x), ny = parseFloat(y);
      var bothNumbers = !isNaN(nx) && !isNaN(ny);
      if (x === '' && y !== '') return 1;
      if (y === '' && x !== '') return -1;
      var order = bothNumbers ? nx - ny : x.localeCompare(y);
      return ascending ? order : -order;
    });
    rows.forEach(function (row) { body.appendChild(row); });
  });
});
"""
    + FILTER_SCRIPT
)


def _speedup_title(point: dict) -> str:
    """How a row's speed-up was timed: where, at which shape, and by which method."""
    how = {
        "interleaved": "timed in turns with its teacher in one process",
        "separate runs": "the ratio of its and its teacher's median latencies, timed apart",
    }[point["method"]]
    shape = f"{point['seq_len']} tokens x {point['batch_size']}, {point['dtype']}"
    return f"{point['speedup']:.2f}x on {point['device']} at {shape}: {how}"


def _details_html(rows: list[Row], tasks: list[str], sort: str) -> str:
    """The details table (students' paired numbers, long-context gains), escaped; nothing
    when no row has any."""
    body = detail_lines(rows, tasks, sort)
    if not body:
        return ""
    head = "".join(f"<th>{html.escape(h)}</th>" for h in DETAIL_HEADER)
    lines = [  # each line carries its entry's data label, for the page's filter
        f'<tr data-data="{html.escape(row.entry.data_name(), quote=True)}">'
        + "".join(
            f'<td title="{html.escape(c, quote=True)}">{html.escape(c)}</td>'
            if i < 2
            else f"<td>{html.escape(c)}</td>"
            for i, c in enumerate(line)
        )
        + "</tr>"
        for row, line in body
    ]
    return (
        "<h2>Paired with the teacher, and long-context gains</h2>\n"
        '<p class="note">Per student and task: the retained % with its paired 95 % interval '
        "(the same examples resampled for both), the percent of examples on which it "
        "predicts what its teacher does, and its flips: lost (the teacher right, the student "
        "wrong) and gained (the other way round). A long-context gain is the score reading "
        "inputs whole less the score reading 512 tokens at most.</p>\n"
        f'<table id="details"><thead><tr>{head}</tr></thead><tbody>\n'
        + "\n".join(lines)
        + "\n</tbody></table>"
    )


def as_html(rows: list[Row], tasks: list[str], sort: str, view: PlotView | None = None) -> str:
    """One self-contained page: the sortable table and the Pareto plot (over ``view``'s
    tasks, the table's when none is given)."""
    import base64
    import hashlib

    from leaderboard.render import as_csv  # render imports this module: imported when used

    n = len(tasks)
    # the same texts as every rendering; the intervals go in the tooltips
    header_cells, body = cells(rows, tasks, sort)
    views = label_views(rows, tasks, sort)
    header = "".join(
        f"<th{header_attributes(column, header_cells, tasks, views)}>{html.escape(c)}</th>"
        for column, c in enumerate(header_cells)
    )
    header += '<th title="a link to each row">link</th>'
    lines = []
    for (row, depth), texts in zip(ordered(rows, sort), body):
        e = row.entry
        # what each column sorts by, and the heat-map colour of the retained % columns
        keys = [e.model.name.lower(), e.model.parameters, e.verified]
        keys += [row.scores.get(t) for t in tasks]
        keys += [
            row.score_mean,
            row.retained_mean,
            row.retained_min[0] if row.retained_min else None,
            row.pareto["speedup"] if row.pareto else None,
            texts[-1],
        ]
        styles = {3 + i: heat(row.retained.get(t)) for i, t in enumerate(tasks)}
        styles[4 + n] = heat(row.retained_mean)
        own = views.get(e.data_name())
        cells_html = []
        for column, (text, key) in enumerate(zip(texts, keys)):
            sort_key = "" if key is None else html.escape(str(key), quote=True)
            # a long name is cut with an ellipsis; the whole name is its tooltip, and a
            # task's interval, paired numbers and long-context gain are its cell's
            css = ""
            if column == 0:
                tip = e.model.name + (f"; budget: {e.budget}" if e.budget else "")
                css = f' class="model" title="{html.escape(tip, quote=True)}"'
            elif 3 <= column < 3 + n:
                title = task_title(row, tasks[column - 3])
                css = f' class="task" title="{html.escape(title, quote=True)}"'
            elif column == 6 + n and row.pareto and row.pareto.get("method"):
                css = f' title="{html.escape(_speedup_title(row.pareto), quote=True)}"'

            style = f' style="{styles[column]}"' if styles.get(column) else ""
            if own is not None and 3 + n <= column < 7 + n:  # an aggregate: its data's own too
                css += alternative_attributes(own.cells[e.entry_id][column - 3 - n])
            cells_html.append(f'<td data-sort="{sort_key}"{css}{style}>{html.escape(text)}</td>')
        anchor = html.escape(row_anchor(e.entry_id), quote=True)
        cells_html.append(
            f'<td class="permalink" data-sort="{anchor}">'
            f'<a href="#{anchor}" title="a link to this row">#</a></td>'
        )
        css = "student" if depth else "teacher"
        label = html.escape(texts[-1], quote=True)  # the data column: sample, full, ...
        entry_id = html.escape(e.entry_id, quote=True)
        lines.append(
            f'<tr id="{anchor}" class="{css}" data-entry="{entry_id}" data-data="{label}">'
            f"{''.join(cells_html)}</tr>"
        )
    digest = base64.b64encode(hashlib.sha256(_SCRIPT.encode()).digest()).decode()
    csp = f"default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-{digest}'"
    view = view or PlotView(rows, tasks, chosen_by_board=False)
    return _PAGE.format(
        csp=csp,
        n_tasks=tasks_count_html(n, views),
        filter_note=(
            "; a data label chosen below shows its entries over the tasks they were run on"
            if views
            else ""
        ),
        header=header,
        csv_href=html.escape(csv_href(as_csv(rows, tasks, sort)), quote=True),
        data_options="".join(
            f'<option value="{html.escape(v, quote=True)}">{html.escape(v)}</option>'
            for v in sorted({texts[-1] for texts in body})
        ),
        body="\n".join(lines),
        details=_details_html(rows, tasks, sort),
        plots="\n".join(
            plot_html(shown, label, "pareto" if not label else f"pareto-{i}")
            for i, (label, shown) in enumerate([("", view), *label_plots(rows, tasks, view, views)])
        ),
        notes="\n".join(
            f'<div data-data="{html.escape(row.entry.data_name(), quote=True)}">'
            f"{html.escape(line)}</div>"
            for row, line in row_note_lines(rows)
        ),
        script=_SCRIPT,
    )
