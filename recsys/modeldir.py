"""The model directory: its layout, format version and checksums, and the atomic swap that writes it.

Each component writes and reads its own files and its own section of ``config.json`` (the encoder, the
head, the title store, the catalog); this module says where each one goes, checks every file against the
SHA-256 recorded in ``config.json`` on load, refuses files it does not list (a planted pickle) and formats
it cannot read, and replaces a directory in one atomic step so a crash never leaves half a model.

Layout (format 2)::

    config.json             every component's settings, library versions, a SHA-256 of recsys's code and
                            of every other file
    metrics.json            training figures
    catalog.parquet         the normalised catalog
    encoder/                tokenizer.json; weights.safetensors for a tiny or fine-tuned encoder
    head.safetensors        the attention head
    embeddings.safetensors  the titles' encoder embeddings
    keys.faiss              the key store
    lexical/                the BM25 index
    words/                  each title's word vectors (index.safetensors, segment-N.safetensors)
    taste/                  a model trained with likes: the history model, item-to-item weights, ids (JSON)
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import importlib.metadata
import json
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from recsys.errors import ModelError

FORMAT_VERSION = 2
CONFIG = "config.json"
LAYOUT = {
    "metrics": "metrics.json",
    "catalog": "catalog.parquet",
    "encoder": "encoder",
    "head": "head.safetensors",
    "embeddings": "embeddings.safetensors",
    "keys": "keys.faiss",
    "lexical": "lexical",
    "words": "words",
    "taste": "taste",
}
_LIBRARIES = ("recsys", "torch", "faiss-cpu", "tokenizers", "safetensors", "numpy", "pandas", "pyarrow")


def location(directory: str | Path, component: str) -> Path:
    """Where a component's file or folder is in a model directory.

    >>> location("models/m", "keys").as_posix()
    'models/m/keys.faiss'
    """
    return Path(directory) / LAYOUT[component]


def library_versions() -> dict[str, str]:
    """Versions of the libraries that wrote a model, recorded in its config."""
    versions = {}
    for name in _LIBRARIES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


@functools.cache
def code_fingerprint() -> str:
    """A SHA-256 over recsys's own files (its modules and data; not the app's pages), recorded in a model's config.

    Two models with the same fingerprint were built by the same code, so a cached model built by an older
    checkout or release can be told from one this code would build. Read once per process: the code a
    process runs is the code it loaded.
    """
    package = Path(__file__).parent
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*")):
        name = path.relative_to(package).as_posix()
        if path.is_file() and path.suffix in {".py", ".json", ".csv"} and not name.startswith("app/"):
            digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def sha256(path: Path) -> str:
    """Return the hex SHA-256 of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@contextmanager
def atomic_directory(target: str | Path) -> Iterator[Path]:
    """Yield a temporary directory beside ``target``; on success it replaces ``target`` whole.

    A crash (or an exception) while writing leaves ``target`` as it was and removes the temporary one.
    """
    target = Path(target).resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale(target)
    staging = target.parent / f".{target.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    staging.mkdir()
    try:
        yield staging
        _replace_directory(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _remove_stale(target: Path) -> None:
    """Remove what writers that were killed left: their staging directories, and a retired old model."""
    for leftover in target.parent.glob(f".{target.name}.tmp-*"):
        pid = leftover.name.rsplit(".tmp-", 1)[1].split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(leftover, ignore_errors=True)
    for retired in target.parent.glob(f".{target.name}.old-*"):  # left between the two renames of a swap
        shutil.rmtree(retired, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _replace_directory(staging: Path, target: Path) -> None:
    _fsync_tree(staging)
    if not target.exists():
        os.rename(staging, target)
        return
    if not (target / CONFIG).is_file() and any(target.iterdir()):
        raise ModelError(f"{target}: exists and is not a recsys model; refusing to replace it")
    if _exchange(staging, target):  # one atomic step: no moment without a model at ``target``
        shutil.rmtree(staging, ignore_errors=True)  # it holds the old model now
        return
    retired = target.parent / f".{target.name}.old-{uuid.uuid4().hex[:8]}"
    os.rename(target, retired)
    os.rename(staging, target)
    shutil.rmtree(retired, ignore_errors=True)


def _exchange(first: Path, second: Path) -> bool:
    """Swap two directories atomically with Linux's renameat2(RENAME_EXCHANGE); False where unsupported."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_cwd, rename_exchange = -100, 2
    result = renameat2(at_cwd, os.fsencode(first), at_cwd, os.fsencode(second), rename_exchange)
    return result == 0


def _fsync_tree(directory: Path) -> None:
    for path in directory.rglob("*"):
        if path.is_file():
            with open(path, "rb") as handle:
                os.fsync(handle.fileno())
    for folder in [directory, *(p for p in directory.rglob("*") if p.is_dir())]:
        descriptor = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


def write_config(directory: Path, config: dict, known: dict[str, str] | None = None) -> dict[str, str]:
    """Write ``config.json`` with the checksum of every other file in the directory; return the checksums.

    ``known`` gives checksums already verified (of files linked from a model that was loaded), by name.
    """
    known = known or {}
    files = {}
    for path in sorted(directory.rglob("*")):
        name = path.relative_to(directory).as_posix()
        if path.is_file() and name != CONFIG:
            files[name] = known.get(name) or sha256(path)
    config = {"format_version": FORMAT_VERSION, "libraries": library_versions(), "code": code_fingerprint(),
              **config, "files": files}  # fmt: skip
    write_json(directory / CONFIG, config)
    return files


def read_config(directory: str | Path) -> dict:
    """Read and check a model directory's config: known format, every file present and unchanged.

    Raises
    ------
    ModelError
        For a missing directory or file, a changed checksum, a file the model did not write (a planted
        pickle, say), or a format from a newer recsys.
    """
    directory = Path(directory)
    config_path = directory / CONFIG
    if not config_path.is_file():
        raise ModelError(f"{directory}: not a recsys model directory (no {CONFIG})")
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ModelError(f"{config_path}: not valid JSON ({err})") from None
    version = config.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ModelError(
            f"{config_path}: model format {version!r} is newer than this recsys reads ({FORMAT_VERSION}); "
            "upgrade recsys"
        )
    if version < FORMAT_VERSION:
        raise ModelError(
            f"{config_path}: model format {version} was written by an older recsys; "
            "rebuild it with recsys index or recsys train"
        )
    files = config.get("files", {})
    for name, expected in files.items():
        file = directory / name
        if not file.is_file():
            raise ModelError(f"{directory}: {name} is missing; rebuild the model")
        if sha256(file) != expected:
            raise ModelError(f"{file}: checksum does not match config.json; the file was changed or damaged")
    for file in directory.rglob("*"):
        name = file.relative_to(directory).as_posix()
        if file.is_file() and name != CONFIG and name not in files:
            raise ModelError(f"{file}: not part of the model (config.json does not list it); remove it or rebuild")
    return config


def write_json(path: Path, data: dict) -> None:
    """Write a small JSON document (UTF-8, indented)."""
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def read_json(path: Path) -> dict:
    """Read a JSON document written by :func:`write_json`."""
    return json.loads(path.read_text(encoding="utf-8"))
