"""Retraining in the background while the served model keeps answering.

A :class:`RetrainJob` trains a new head on the served model's catalog in a thread, writes the new model
atomically to a fresh directory, and offers it only when it finished and beat the served head on the
held-out titles. Until then, and after any failure, the served model is untouched.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from recsys.engine import MovieSearch
from recsys.errors import RecsysError
from recsys.train import TrainConfig, train


@dataclass
class JobState:
    """What a retraining job is doing; read it from any thread.

    Attributes
    ----------
    status : str
        ``"running"``, ``"better"`` (a new model is ready in ``result``), ``"not better"`` (the served
        head stays) or ``"failed"`` (``error`` says why).
    stage, done, total : str, int, int
        The current step ("training head", 120 of 3,880).
    validation : list of float
        The held-out nDCG@10 after each epoch, for a live plot.
    """

    status: str = "running"
    stage: str = "starting"
    done: int = 0
    total: int = 0
    validation: list[float] = field(default_factory=list)
    served_validation: float | None = None
    new_validation: float | None = None
    result: Path | None = None
    error: str | None = None
    seconds: float = 0.0


class RetrainJob:
    """Retrain ``served`` on its own catalog in a daemon thread.

    Parameters
    ----------
    served : MovieSearch
        The model serving now; it is read, never changed.
    out : Path
        Directory the new model is written to (atomically) if it is better.
    config : TrainConfig, optional
        Training settings; the served head is the starting point and one of the candidates.
    """

    def __init__(self, served: MovieSearch, out: Path, config: TrainConfig | None = None):
        self.served, self.out, self.config = served, Path(out), config or TrainConfig()
        self.state = JobState()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="recsys-retrain", daemon=True)

    def start(self) -> RetrainJob:
        """Start training; returns at once."""
        self._thread.start()
        return self

    def wait(self, timeout: float | None = None) -> JobState:
        """Block until the job ends (or ``timeout`` seconds pass); return its state."""
        self._thread.join(timeout)
        return self.snapshot()

    def snapshot(self) -> JobState:
        """A copy of the state, consistent at one moment."""
        with self._lock:
            return JobState(**{**vars(self.state), "validation": list(self.state.validation)})

    def _report(self, stage: str, done: int, total: int, figures: dict) -> None:
        with self._lock:
            self.state.stage, self.state.done, self.state.total = stage, done, total
            if "validation" in figures:
                self.state.validation.append(float(figures["validation"]))

    def _run(self) -> None:
        started = time.perf_counter()
        try:
            model = train(self.served, self.config, progress=self._report, init=self.served)
            scores = model.metrics["validation"]
            better = model.metrics["chosen"] != "start" and scores[model.metrics["chosen"]] > scores["start"]
            if better:
                model.save(self.out)
            with self._lock:
                self.state.served_validation = scores["start"]
                self.state.new_validation = scores[model.metrics["chosen"]]
                self.state.result = self.out if better else None
                self.state.status = "better" if better else "not better"
        except (RecsysError, ValueError, RuntimeError, OSError) as err:
            with self._lock:
                self.state.status, self.state.error = "failed", f"{type(err).__name__}: {err}"
        finally:
            with self._lock:
                self.state.seconds = round(time.perf_counter() - started, 1)
