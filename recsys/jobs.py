"""Long work in the background while the served model keeps answering: retraining, indexing a catalog.

A job runs in a daemon thread, reports its progress (stage, steps done, validation figures) for a live
progress bar, and writes its model atomically to a fresh directory. Until it has finished, and after any
failure, the served model is untouched.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from recsys.catalog import Catalog
from recsys.engine import MovieSearch
from recsys.errors import RecsysError
from recsys.interactions import Interactions
from recsys.train import TrainConfig, train, with_taste


@dataclass
class JobState:
    """What a job is doing; read it from any thread.

    Attributes
    ----------
    status : str
        ``"running"``; then ``"done"`` (an index job: the model is in ``result``), ``"better"`` (a retrain
        job: a new model is ready in ``result``), ``"likes learned"`` (a retrain job with likes: the new model,
        with the better of the two heads, is in ``result``), ``"not better"`` (the served head stays) or
        ``"failed"`` (``error`` says why).
    stage, done, total : str, int, int
        The current step ("training head", 120 of 3,880).
    validation : list of float
        The held-out nDCG@10 after each epoch, for a live plot.
    validation_series : list of (str, int or None)
        Which curve each ``validation`` figure is on: the stage that reported it and, for the heads trained to
        be averaged, the head's number.
    """

    status: str = "running"
    stage: str = "starting"
    done: int = 0
    total: int = 0
    validation: list[float] = field(default_factory=list)
    validation_series: list[tuple[str, int | None]] = field(default_factory=list)
    served_validation: float | None = None
    new_validation: float | None = None
    result: Path | None = None
    error: str | None = None
    seconds: float = 0.0


class BackgroundJob:
    """Runs :meth:`work` in a daemon thread, recording progress, outcome and failure in :class:`JobState`."""

    def __init__(self) -> None:
        self.state = JobState()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name=f"recsys-{type(self).__name__}", daemon=True)

    def start(self) -> BackgroundJob:
        """Start the job; returns at once."""
        self._thread.start()
        return self

    def wait(self, timeout: float | None = None) -> JobState:
        """Block until the job ends (or ``timeout`` seconds pass); return its state."""
        self._thread.join(timeout)
        return self.snapshot()

    def snapshot(self) -> JobState:
        """A copy of the state, consistent at one moment."""
        with self._lock:
            lists = {"validation": list(self.state.validation), "validation_series": list(self.state.validation_series)}
            return JobState(**{**vars(self.state), **lists})

    def work(self) -> dict:
        """Do the job; return the state's fields to set when it ends (``status`` at least)."""
        raise NotImplementedError

    def _report(self, stage: str, done: int, total: int, figures: dict) -> None:
        with self._lock:
            self.state.stage, self.state.done, self.state.total = stage, done, total
            if "validation" in figures:
                self.state.validation.append(float(figures["validation"]))
                self.state.validation_series.append((stage, figures.get("head")))

    def _run(self) -> None:
        started = time.perf_counter()
        try:
            outcome = self.work()
            with self._lock:
                for name, value in outcome.items():
                    setattr(self.state, name, value)
        except (RecsysError, ValueError, RuntimeError, OSError) as err:
            with self._lock:
                self.state.status, self.state.error = "failed", f"{type(err).__name__}: {err}"
        finally:
            with self._lock:
                self.state.seconds = round(time.perf_counter() - started, 1)


class RetrainJob(BackgroundJob):
    """Retrain ``served`` on its own catalog; the new model is written to ``out`` only if it is better.

    Parameters
    ----------
    served : MovieSearch
        The model serving now; it is read, never changed.
    out : Path
        Directory the new model is written to (atomically) if it beat the served head on held-out titles.
    config : TrainConfig, optional
        Training settings; the served head is the starting point and one of the candidates.
    interactions : Interactions, optional
        Likes read against the served catalog: recommendations learn from them too (``recsys.taste``).
    """

    def __init__(
        self, served: MovieSearch, out: Path, config: TrainConfig | None = None,
        interactions: Interactions | None = None,
    ):  # fmt: skip
        super().__init__()
        self.served, self.out, self.config = served, Path(out), config or TrainConfig()
        self.interactions = interactions

    def work(self) -> dict:
        """Train, and save the new model if its head beat the served one or it learned from likes."""
        model = train(self.served, self.config, progress=self._report, init=self.served)
        scores, chosen = model.metrics["validation"], model.metrics["chosen"]
        better = chosen != "start" and scores[chosen] > scores["start"]
        status = "better" if better else "not better"
        if self.interactions is not None:  # the likes are new either way: the better head learns from them
            model = with_taste(model if better else self.served, self.interactions, self._report)
            status = "likes learned"
        if status != "not better":
            model.save(self.out)
        return {"served_validation": scores["start"], "new_validation": scores[chosen],
                "result": self.out if status != "not better" else None, "status": status}  # fmt: skip


class IndexJob(BackgroundJob):
    """Index a catalog with a base model's encoder, head and settings; the model is written to ``out``."""

    def __init__(self, catalog: Catalog, base: MovieSearch, out: Path):
        super().__init__()
        self.catalog, self.base, self.out = catalog, base, Path(out)

    def work(self) -> dict:
        """Encode and index the catalog, then save the model."""
        MovieSearch.build(self.catalog, base=self.base, progress=self._report).save(self.out)
        return {"result": self.out, "status": "done"}
