"""What the web page's data filter swaps in: with several data labels on the board, each
label's entries over their own tasks. The page shows every entry over every task any entry
was run on, and takes an aggregate only over an entry having all of them, so a label run on
other tasks (the study's four among the samples' ten) would show no mean, retained mean or
worst task; chosen in the filter, the label's rows show those over its own tasks, its
other task columns hidden. The values are computed here, by the board's own code; the
page's script only swaps attributes in (:mod:`leaderboard.html_page`).
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass

from leaderboard.board import PlotView, Row, build_rows, ordered, plot_view
from leaderboard.cells import cells, tasks_text


def heat(retained: float | None) -> str:
    """A background colour for a retained %: red at 80 % or less, green at 100 % or more."""
    if retained is None:
        return ""
    share = max(0.0, min(1.0, (retained - 80.0) / 20.0))
    red, green = int(230 - 120 * share), int(120 + 100 * share)
    return f"background:rgb({red},{green},130)"


@dataclass(frozen=True)
class LabelView:
    """The table as the data filter shows one data label: its entries' own task columns
    (``tasks``), and each row's aggregate cells (mean, retained mean, worst task, speed-up)
    over those tasks, by entry id, with their sort keys and heat-map styles."""

    tasks: list[str]
    cells: dict[str, list[tuple[str, object, str]]]


def label_views(rows: list[Row], tasks: list[str], sort: str) -> dict[str, LabelView]:
    """Each data label's view where the board holds several and the label's entries were
    run on fewer of the page's ``tasks`` than it shows: aggregates are taken only over
    entries having every task shown, so without its own view a label of other tasks (the
    study's four among the samples' ten) would show none. The rows are the whole board's
    over the label's tasks, so a student keeps the teacher it links to on the page, whatever
    that teacher's label."""
    labels = sorted({r.entry.data_name() for r in rows})
    if len(labels) < 2:
        return {}
    entries = [r.entry for r in rows]
    views = {}
    for label in labels:
        own = [r.entry for r in rows if r.entry.data_name() == label]
        own_tasks = [t for t in tasks if any(t in e.tasks for e in own)]
        if own_tasks == tasks or not own_tasks:
            continue
        own_ids = {e.entry_id for e in own}
        all_rows = build_rows(entries, own_tasks)
        _, body = cells(all_rows, own_tasks, sort)
        n = len(own_tasks)
        found = {}
        for (row, _depth), texts in zip(ordered(all_rows, sort), body):
            if row.entry.entry_id not in own_ids:
                continue
            keys = [
                row.score_mean,
                row.retained_mean,
                row.retained_min[0] if row.retained_min else None,
                row.pareto["speedup"] if row.pareto else None,
            ]
            styles = ["", heat(row.retained_mean), "", ""]
            found[row.entry.entry_id] = list(zip(texts[3 + n : 7 + n], keys, styles))
        views[label] = LabelView(own_tasks, found)
    return views


def label_plots(
    rows: list[Row], tasks: list[str], view: PlotView, views: dict[str, LabelView]
) -> list[tuple[str, PlotView]]:
    """Each data label's own Pareto plot, where the board holds several labels: of the
    label's entries and the teachers they link to (whatever those teachers' label), by the
    board's rule for the plot's tasks (:func:`leaderboard.board.plot_view`, or the tasks
    asked for) over the label's tasks (its view's, else the page's ``tasks``). A label whose
    tasks are the page's has its own plot too, so that choosing it never shows another
    label's students. Every entry of a teacher the label's entries name is kept, linked or
    not, so a student is linked, or not, for the same reason as on the board; the plot's
    list of students it cannot place names only the label's own."""
    entries = [r.entry for r in rows]
    labels = sorted({e.data_name() for e in entries})
    if len(labels) < 2:
        return []
    plots = []
    for label in labels:
        own_tasks = views[label].tasks if label in views else tasks
        mine = [e for e in entries if e.data_name() == label]
        named = {e.teacher.key() for e in mine if e.teacher is not None}
        ids = {e.entry_id for e in mine}
        picked = [e for e in entries if e.entry_id in ids or e.model.key() in named]
        picked_rows = build_rows(picked, own_tasks)
        plots.append(
            (label, plot_view(picked, picked_rows, own_tasks, chosen=not view.chosen_by_board))
        )
    return plots


def alternative_attributes(cell: tuple[str, object, str]) -> str:
    """An aggregate cell's text, sort key and style under its data label's own tasks, as
    attributes the page's script swaps in when that label is chosen."""
    text, key, style = cell
    sort_key = "" if key is None else str(key)
    return (
        f' data-label-text="{html.escape(text, quote=True)}"'
        f' data-label-sort="{html.escape(sort_key, quote=True)}"'
        f' data-label-style="{html.escape(style, quote=True)}"'
    )


def header_attributes(
    column: int, header: list[str], tasks: list[str], views: dict[str, LabelView]
) -> str:
    """A header cell's attributes for the data filter: a task column lists the labels
    whose entries were run on it (hidden for the others); an aggregate names its tasks'
    count per label (a JSON object, read by the page's script, never run)."""
    if not views:
        return ""
    n = len(tasks)
    if 3 <= column < 3 + n:
        task = tasks[column - 3]
        hidden = sorted(label for label, v in views.items() if task not in v.tasks)
        return f' data-hidden-for="{html.escape(json.dumps(hidden), quote=True)}"'
    if 3 + n <= column < 5 + n:
        names = {
            label: header[column].replace(f"({tasks_text(n)})", f"({tasks_text(len(v.tasks))})")
            for label, v in views.items()
        }
        return f' data-label-texts="{html.escape(json.dumps(names), quote=True)}"'
    return ""


def tasks_count_html(n: int, views: dict[str, LabelView]) -> str:
    """The page text's count of the tasks aggregates are taken over, escaped, with each
    label's own count for the filter to swap in."""
    if not views:
        return html.escape(tasks_text(n))
    counts = {label: tasks_text(len(v.tasks)) for label, v in views.items()}
    return (
        f'<span data-label-texts="{html.escape(json.dumps(counts), quote=True)}">'
        f"{html.escape(tasks_text(n))}</span>"
    )


# The filter's half of the page's script: rows of the chosen label only (details and notes
# too), its hidden task columns, its aggregates' text, sort key and colour and the page's
# count of tasks swapped in from the attributes above (the originals kept, so choosing
# "all" restores them).
FILTER_SCRIPT = """\
function swap(cell, attribute, value) {
  var kept = 'data-all-' + attribute;
  if (!cell.hasAttribute(kept)) cell.setAttribute(kept, cell.getAttribute(attribute) || '');
  cell.setAttribute(attribute, value === null ? cell.getAttribute(kept) : value);
}
function swapText(cell, value) {
  if (!cell.hasAttribute('data-all-text')) cell.setAttribute('data-all-text', cell.textContent);
  cell.textContent = value === null ? cell.getAttribute('data-all-text') : value;
}
function swapLabelText(element, wanted) {
  var texts = JSON.parse(element.getAttribute('data-label-texts') || '{}');
  var own = wanted !== '' && Object.prototype.hasOwnProperty.call(texts, wanted);
  swapText(element, own ? texts[wanted] : null);
}
document.getElementById('data-filter').addEventListener('change', function (event) {
  var wanted = event.target.value;
  var plots = document.querySelectorAll('div.plot');
  var ownPlot = Array.prototype.some.call(plots, function (plot) {
    return plot.getAttribute('data-data') === wanted;
  });
  plots.forEach(function (plot) {
    plot.hidden = plot.getAttribute('data-data') !== (ownPlot ? wanted : '');
  });
  var hiddenColumns = [];
  document.querySelectorAll('#board thead th').forEach(function (th, column) {
    var hiddenFor = JSON.parse(th.getAttribute('data-hidden-for') || '[]');
    th.hidden = wanted !== '' && hiddenFor.indexOf(wanted) >= 0;
    if (th.hidden) hiddenColumns.push(column);
    swapLabelText(th, wanted);
  });
  document.querySelectorAll('span[data-label-texts]').forEach(function (span) {
    swapLabelText(span, wanted);
  });
  document.querySelectorAll('#details tbody tr, #notes div').forEach(function (row) {
    row.hidden = wanted !== '' && row.getAttribute('data-data') !== wanted;
  });
  document.querySelectorAll('#board tbody tr').forEach(function (row) {
    row.hidden = wanted !== '' && row.getAttribute('data-data') !== wanted;
    Array.prototype.forEach.call(row.cells, function (cell, column) {
      cell.hidden = hiddenColumns.indexOf(column) >= 0;
      if (!cell.hasAttribute('data-label-text')) return;
      var own = wanted !== '' && !row.hidden;
      swapText(cell, own ? cell.getAttribute('data-label-text') : null);
      swap(cell, 'data-sort', own ? cell.getAttribute('data-label-sort') : null);
      swap(cell, 'style', own ? cell.getAttribute('data-label-style') : null);
    });
  });
});
"""
