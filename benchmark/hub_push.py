"""Sending a card (and optionally the result behind it) to a model repository on the Hub.

One commit through ``huggingface_hub.HfApi``: the card, its ``.eval_results`` file and, when
asked, the result file and its predictions under ``gonerd-bench/``. The token is the
library's (``HF_TOKEN``, else ``hf auth login``'s); with ``HF_HUB_OFFLINE`` set nothing is
sent and the command says so. :func:`hub_client` is the one place a client is made, so a
test can hand in a stand-in that records the commit instead of sending it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from benchmark.errors import BenchError

RESULTS_FOLDER = "gonerd-bench"


@dataclass(frozen=True)
class Upload:
    """One file of the commit: where it is here and where it goes in the repository."""

    local: Path
    in_repo: str


def hub_client():
    """The Hub client (``HfApi``, which reads ``HF_TOKEN`` and the login itself)."""
    from huggingface_hub import HfApi

    return HfApi()


def offline() -> bool:
    """Whether ``HF_HUB_OFFLINE`` asks for no network (read now, not at import)."""
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}


def refuse_offline(what: str) -> None:
    if offline():
        raise BenchError(
            f"HF_HUB_OFFLINE is set, so {what} cannot reach the Hub: unset it (and log in "
            "with `hf auth login` or set HF_TOKEN) to go on"
        )


def existing_card(repo_id: str) -> str | None:
    """The repository's current README.md text, or None when it has none yet."""
    from huggingface_hub.errors import EntryNotFoundError, HfHubHTTPError

    refuse_offline(f"the card of {repo_id}")
    try:
        path = hub_client().hf_hub_download(repo_id, "README.md", repo_type="model")
    except EntryNotFoundError:
        return None
    except HfHubHTTPError as exc:
        raise BenchError(f"could not read the card of {repo_id} from the Hub: {exc}") from None
    return Path(path).read_text(encoding="utf-8")


def result_uploads(result_path: Path) -> list[Upload]:
    """The result file and its predictions, under ``gonerd-bench/`` in the repository."""
    from benchmark.results import predictions_dir

    result_path = Path(result_path)
    uploads = [Upload(result_path, f"{RESULTS_FOLDER}/{result_path.name}")]
    folder = predictions_dir(result_path)
    if folder.is_dir():
        for file in sorted(folder.glob("*.jsonl")):
            uploads.append(Upload(file, f"{RESULTS_FOLDER}/{folder.name}/{file.name}"))
    return uploads


def push(repo_id: str, uploads: list[Upload], message: str) -> str:
    """One commit of ``uploads`` to the model repository; returns the commit's address."""
    from huggingface_hub import CommitOperationAdd
    from huggingface_hub.errors import HfHubHTTPError

    refuse_offline("the push")
    operations = [CommitOperationAdd(u.in_repo, str(u.local)) for u in uploads]
    try:
        info = hub_client().create_commit(
            repo_id, operations, commit_message=message, repo_type="model"
        )
    except HfHubHTTPError as exc:
        raise BenchError(
            f"could not push to {repo_id}: {exc}. Check the repository exists and that your "
            "token (HF_TOKEN or `hf auth login`) may write to it; the files are written here"
        ) from None
    return getattr(info, "commit_url", None) or str(info)
