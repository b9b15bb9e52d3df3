"""The project's default model: trained on ``data/movies.csv`` the first time it is needed, then cached.

It is written to ``models/default`` beside the package (or to ``$RECSYS_DEFAULT_MODEL``) and rebuilt
only when the catalog changed or the model was written by an older recsys. Several processes asking at
once build it once: the others wait on a lock file and then load it.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from recsys import artifacts
from recsys.catalog import load_catalog
from recsys.errors import ModelError
from recsys.explain import current_words_file
from recsys.progress import Progress

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CATALOG = ROOT / "data" / "movies.csv"


def default_model_dir() -> Path:
    """Where the default model lives: ``$RECSYS_DEFAULT_MODEL``, or ``models/default`` in the project."""
    return Path(os.environ.get("RECSYS_DEFAULT_MODEL") or ROOT / "models" / "default")


def default_model(progress: Progress = False) -> Path:
    """The default model's directory, built first if missing or stale (about 40 s on 2 CPU cores).

    It is what ``recsys train data/movies.csv --out models/default --init none`` writes.

    Raises
    ------
    ModelError
        If the project's catalog is not there (recsys installed without its source tree).
    """
    path = default_model_dir()
    if not DEFAULT_CATALOG.is_file():
        raise ModelError(f"{DEFAULT_CATALOG}: the default catalog is missing; give a model directory instead")
    fingerprint = load_catalog(DEFAULT_CATALOG).fingerprint()
    if _is_current(path, fingerprint):
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.parent / f".{path.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another process may be building it: wait, then look again
        if not _is_current(path, fingerprint):
            from recsys.train import train_catalog  # training code loads only when a build is needed

            train_catalog(load_catalog(DEFAULT_CATALOG), progress=progress).save(path)
    return path


def _is_current(path: Path, fingerprint: str) -> bool:
    try:
        config = artifacts.read_config(path)
    except ModelError:
        return False
    return (
        bool(current_words_file(config))
        and "encoding" in config  # models before it encoded descriptions in float32 only
        and config.get("catalog", {}).get("fingerprint") == fingerprint
    )
