"""The leaderboard page as the README shows it: `bench leaderboard --format html` of the
committed board, opened in headless Chromium at 1,280 x 1,000 and saved as a PNG, so the
picture is always of the page the code renders now, from the board as committed.

Run from the repository root, with the dev extra (Playwright) and Debian's `chromium`:

    python scripts/board_screenshot.py [--board leaderboard/leaderboard.json]
        [--output docs/leaderboard.png] [--width 1280] [--height 1000] [--data LABEL]

`--data` chooses that data label in the page's filter first (`study`: the study's models
over their own tasks).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--board", type=Path, default=Path("leaderboard/leaderboard.json"))
    parser.add_argument("--output", type=Path, default=Path("docs/leaderboard.png"))
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=1000)
    parser.add_argument("--data", help="a data label to choose in the page's filter first")
    args = parser.parse_args()
    chromium = shutil.which("chromium")
    if chromium is None:
        sys.exit("error: no chromium on PATH: install Debian's chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as folder:
        page_file = Path(folder) / "board.html"
        subprocess.run(
            [sys.executable, "-m", "gonerd_bench", "leaderboard", "--leaderboard",
             str(args.board), "--format", "html", "--output", str(page_file)],
            check=True,
        )  # fmt: skip
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": args.width, "height": args.height})
            page.goto(page_file.as_uri())
            page.wait_for_load_state("load")
            if args.data is not None:
                labels = page.locator("#data-filter option").evaluate_all(
                    "options => options.map(o => o.value)"
                )
                if args.data not in labels:
                    browser.close()
                    sys.exit(f"error: --data {args.data}: the board's labels are {labels[1:]}")
                page.select_option("#data-filter", args.data)
            args.output.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(args.output), full_page=True)
            browser.close()
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
