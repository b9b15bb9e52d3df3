"""The project's default model: trained on its own catalog the first time it is needed, then cached.

The catalog ships inside the package (``recsys/data/movies.csv``). The model is written under the recsys
home, ``$RECSYS_HOME`` or the user's cache directory (``~/.cache/recsys`` on Linux), and rebuilt only when
the catalog changed or the model was built by other code (another release, another checkout). Several
processes asking at once build it once: the others wait on a lock file and then load it.
"""

from __future__ import annotations

import fcntl
import os
from importlib.resources import files
from pathlib import Path

import platformdirs

from recsys import modeldir
from recsys.errors import ModelError
from recsys.files import load_catalog
from recsys.progress import Progress

DEFAULT_CATALOG = Path(str(files("recsys") / "data" / "movies.csv"))


def recsys_home() -> Path:
    """Where recsys keeps the models it makes: ``$RECSYS_HOME``, or the user's cache directory for recsys."""
    return Path(os.environ.get("RECSYS_HOME") or platformdirs.user_cache_dir("recsys"))


def default_model_dir() -> Path:
    """The default model's directory: ``models/default`` under :func:`recsys_home`."""
    return recsys_home() / "models" / "default"


def default_model(progress: Progress = False) -> Path:
    """The default model's directory, built first if missing or stale (about a minute on 2 CPU cores).

    It is what ``recsys train recsys/data/movies.csv --out DIR --init none`` writes.

    Raises
    ------
    ModelError
        If the package's catalog is missing (a broken install).
    """
    path = default_model_dir()
    if not DEFAULT_CATALOG.is_file():
        raise ModelError(f"{DEFAULT_CATALOG}: the default catalog is missing; reinstall recsys")
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
    """Whether the model at ``path`` is of this catalog and was built by this code (so is what it would build)."""
    try:
        config = modeldir.read_config(path)
    except ModelError:
        return False
    same_code = config.get("code") == modeldir.code_fingerprint()
    return same_code and config["catalog"].get("fingerprint") == fingerprint
