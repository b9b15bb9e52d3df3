"""The HTTP API: search, explain, recommend and live updates over FastAPI (``recsys serve``).

Every answer is the document ``recsys.documents`` makes for the CLI's ``--json`` too, plus the
``model_version`` that answered it (``recsys.serving``). Every error is JSON, ``{"error": "..."}`` naming
the parameter or field at fault, with a 4xx status for anything a client sent; requests are bounded
(query length, ``k``, ``offset``, batch size, body size). Writes — adding and removing titles, retraining —
need the bearer token of ``RECSYS_API_TOKEN`` (or ``--token-file``); without one configured they are off.
OpenAPI docs are served at ``/docs``.
"""

from __future__ import annotations

import fcntl
import hmac
import json
import os
import threading
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
from fastapi import Depends, FastAPI, Header, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException

from recsys import documents
from recsys.catalog import Catalog
from recsys.engine import MovieSearch
from recsys.errors import CatalogError, ModelError, QueryError, RecsysError, UnknownTitle
from recsys.jobs import RetrainJob
from recsys.serving import ServedModel, Version, api_token
from recsys.train import TrainConfig
from recsys.workers import serve_forked

MAX_QUERY_CHARS = 1000
MAX_K = 1000
MAX_OFFSET = 10_000
MAX_BATCH = 1000
MAX_IDS = 1000  # liked or disliked ids in one recommendation
MAX_BODY_BYTES = 2_000_000
MAX_TITLES_ADDED = 10_000
LANGUAGES = ("auto", "en", "es")


Repeated = Annotated[list[str] | None, Query()]  # a query parameter that may be given several times


class ApiError(Exception):
    """A request the API refuses: its status and the message naming what is wrong."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


class BatchQuery(BaseModel):
    """One query of a batch, with the id its results are returned under."""

    qid: str | int
    query: str


class BatchRequest(BaseModel):
    """``POST /search/batch``: queries ranked in one pass, with the filters they share."""

    queries: list[BatchQuery]
    k: int = 100
    genres: list[str] | None = None
    year_min: int | None = None
    year_max: int | None = None
    kind: str | None = None
    lang: str = "auto"


class RecommendRequest(BaseModel):
    """``POST /recommend``."""

    liked: list[str] = Field(description="ids of liked titles, oldest first")
    disliked: list[str] = Field(default_factory=list, description="less like these titles")
    k: int = 10


class TitlesRequest(BaseModel):
    """``POST /titles``: titles to add, as rows of a catalog file."""

    titles: list[dict[str, Any]] = Field(description="catalog rows: id, title, description, genres, year, …")


class RetrainRequest(BaseModel):
    """``POST /retrain``: training settings other than the defaults."""

    epochs: int | None = None
    seed: int | None = None


def serve(model_dir: Path, host: str = "127.0.0.1", port: int = 8000, workers: int = 1,
          token_file: Path | None = None) -> None:  # fmt: skip
    """Serve the API with uvicorn until interrupted; ``workers`` processes forked after the model is loaded.

    Raises
    ------
    ModelError
        If ``model_dir`` holds no loadable model.
    RecsysError
        If the token file cannot be read.
    """
    import uvicorn

    app = create_app(Path(model_dir), api_token(token_file))
    if workers == 1:
        uvicorn.run(app, host=host, port=port, log_level="warning")
        return
    serve_forked(app, host, port, workers, ready=lambda: _ready(app.state.served.current().model))


def _ready(model: MovieSearch) -> None:
    """Build what every request needs and the model makes on first use, so that forked workers share it."""
    model.understand("a film to warm up the query readers")
    if model.taste is not None:
        model.taste.bound(model.catalog, model.store, model.scorer)


def create_app(model_dir: Path, token: str | None = None) -> FastAPI:
    """The API over the model in ``model_dir``; ``token`` allows writes (None: writes are refused)."""
    served = ServedModel(Path(model_dir))
    app = FastAPI(title="recsys", summary="Movie search with attention: search, explain, recommend.")
    metrics = _Metrics()
    jobs = _Jobs(served.directory.parent / f".{served.directory.name}.jobs")
    writing = threading.Lock()
    app.state.served = served

    @app.middleware("http")
    async def measure(request: Request, call_next):
        started = time.perf_counter()
        too_large = _body_too_large(request)
        response = too_large or await call_next(request)
        route = request.scope.get("route")
        path = getattr(route, "path", "unmatched")
        metrics.observe(request.method, path, response.status_code, time.perf_counter() - started)
        return response

    def version() -> Version:
        current = served.current()
        metrics.version.labels(current.name).set(1)
        return current

    def may_write(authorization: str | None = Header(default=None)) -> None:
        if token is None:
            raise ApiError(403, "writes are off: set RECSYS_API_TOKEN (or --token-file) to allow them")
        given = (authorization or "").removeprefix("Bearer ").strip()
        if not authorization or not authorization.startswith("Bearer ") or not hmac.compare_digest(given, token):
            raise ApiError(401, "a write needs the header 'Authorization: Bearer <token>'")

    @app.get("/health")
    def health() -> dict:
        current = version()
        return {"status": "ok", "model_version": current.name, "titles": len(current.model.catalog),
                "reload_error": served.last_error}  # fmt: skip

    @app.get("/metrics", response_class=PlainTextResponse)
    def prometheus() -> PlainTextResponse:
        return PlainTextResponse(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @app.get("/search")
    def search(
        q: str, k: int = 10, offset: int = 0, explain: bool = False, genre: Repeated = None,
        year_min: int | None = None, year_max: int | None = None, kind: str | None = None,
        country: Repeated = None, rating: Repeated = None,
        max_runtime: int | None = None, exclude_genre: Repeated = None,
        ignore: Repeated = None, lang: str = "auto",
    ) -> dict:  # fmt: skip
        _query(q, "q")
        _bounded("k", k, 1, MAX_K if not explain else 100)
        _bounded("offset", offset, 0, MAX_OFFSET)
        filters = {"genres": genre or None, "years": (year_min, year_max), "kind": kind, "countries": country or None,
                   "ratings": rating or None, "max_runtime": max_runtime, "exclude_genres": exclude_genre or None,
                   "ignore": tuple(ignore or ()), "language": _language(lang)}  # fmt: skip
        current = version()
        document = documents.search_document(current.model, q, k, offset, explain, **filters)
        return {"model_version": current.name, **document}

    @app.post("/search/batch")
    def search_batch(request: BatchRequest) -> dict:
        _bounded("k", request.k, 1, MAX_K)
        _bounded("the number of queries", len(request.queries), 1, MAX_BATCH)
        for number, item in enumerate(request.queries):
            _query(item.query, f"queries[{number}].query")
        filters = {"genres": request.genres, "years": (request.year_min, request.year_max), "kind": request.kind,
                   "language": _language(request.lang)}  # fmt: skip
        current = version()
        qids = [item.qid for item in request.queries]
        found = documents.batch_documents(current.model, qids, [item.query for item in request.queries], request.k,
                                          **filters)  # fmt: skip
        return {"model_version": current.name, "results": found}

    @app.get("/explain")
    def explain(q: str, id: str, ignore: Repeated = None, lang: str = "auto") -> dict:
        _query(q, "q")
        current = version()
        options = {"ignore": tuple(ignore or ()), "language": _language(lang)}
        document = documents.explain_document(current.model, q, id, **options)
        return {"model_version": current.name, **document}

    @app.get("/understand")
    def understand(q: str, ignore: Repeated = None, lang: str = "auto") -> dict:
        _query(q, "q")
        current = version()
        options = {"ignore": tuple(ignore or ()), "language": _language(lang)}
        document = documents.understand_document(current.model, q, **options)
        return {"model_version": current.name, **document}

    @app.post("/recommend")
    def recommend(request: RecommendRequest) -> dict:
        _bounded("k", request.k, 1, MAX_K)
        _bounded("the number of liked ids", len(request.liked), 1, MAX_IDS)
        _bounded("the number of disliked ids", len(request.disliked), 0, MAX_IDS)
        current = version()
        document = documents.recommend_document(current.model, request.liked, request.disliked, request.k)
        return {"model_version": current.name, **document}

    @app.get("/titles/{movie_id}")
    def title(movie_id: str) -> dict:
        current = version()
        return {"model_version": current.name, "title": documents.title_document(current.model, movie_id)}

    @app.post("/titles", dependencies=[Depends(may_write)])
    def add_titles(request: TitlesRequest) -> dict:
        _bounded("the number of titles", len(request.titles), 1, MAX_TITLES_ADDED)
        titles = _catalog_of(request.titles)
        with _one_writer(served.directory, writing):
            jobs.refuse_while_running()
            model = served.reload_now().model.add(titles)
            model.save(served.directory)
            current = served.reload_now()
        return {"model_version": current.name, "added": len(titles), "titles": len(current.model.catalog)}

    @app.delete("/titles/{movie_id}", dependencies=[Depends(may_write)])
    def remove_title(movie_id: str) -> dict:
        with _one_writer(served.directory, writing):
            jobs.refuse_while_running()
            served.reload_now().model.remove([movie_id]).save(served.directory)
            current = served.reload_now()
        return {"model_version": current.name, "removed": movie_id, "titles": len(current.model.catalog)}

    @app.post("/retrain", dependencies=[Depends(may_write)], status_code=202)
    def retrain(request: RetrainRequest) -> dict:
        config = TrainConfig(**{k: v for k, v in request.model_dump().items() if v is not None})
        _bounded("epochs", config.epochs, 1, 100)
        with _one_writer(served.directory, writing):
            jobs.refuse_while_running()
            job_id = jobs.start(RetrainJob(version().model, served.directory, config))
        return {"job": job_id, "follow": f"/jobs/{job_id}"}

    @app.get("/jobs/{job_id}")
    def job(job_id: str) -> dict:
        state = jobs.state(job_id)
        if state is None:
            raise ApiError(404, f"no job {job_id!r}")
        return {"job": job_id, **state}

    _add_error_handlers(app, metrics)
    return app


class _Jobs:
    """Background jobs, their state written to a folder beside the model so that every worker can report it."""

    def __init__(self, folder: Path):
        self.folder = folder

    def start(self, job: RetrainJob) -> str:
        """Start a job and a thread that writes its state each second until it ends; return its id."""
        job_id = uuid.uuid4().hex[:12]
        self.folder.mkdir(parents=True, exist_ok=True)
        self._write(job_id, job)
        job.start()
        threading.Thread(target=self._follow, args=(job_id, job), name="recsys-job-state", daemon=True).start()
        return job_id

    def state(self, job_id: str) -> dict | None:
        """A job's last written state, or None for an id no job has (ids are 12 hex digits)."""
        if len(job_id) != 12 or not all(c in "0123456789abcdef" for c in job_id):
            return None
        try:
            return json.loads((self.folder / f"{job_id}.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def refuse_while_running(self) -> None:
        """Refuse a write while a retrain runs: its model, written when it ends, would undo the write."""
        for path in self.folder.glob("*.json"):
            state = self.state(path.stem)
            alive = time.time() - state.get("written", 0) < 30 if state else False  # its worker still writes it
            if state is not None and state["status"] == "running" and alive:
                raise ApiError(409, f"a retrain is running (GET /jobs/{path.stem}); write when it has ended")

    def _follow(self, job_id: str, job: RetrainJob) -> None:
        while job.snapshot().status == "running":
            self._write(job_id, job)
            time.sleep(1.0)
        self._write(job_id, job)

    def _write(self, job_id: str, job: RetrainJob) -> None:
        state = job.snapshot()
        document = documents.jsonable({**vars(state), "result": state.result and str(state.result),
                                        "written": time.time()})  # fmt: skip
        staging = self.folder / f".{job_id}.json.tmp"
        staging.write_text(json.dumps(document), encoding="utf-8")
        os.replace(staging, self.folder / f"{job_id}.json")  # a reader sees the old state or the new one


class _Metrics:
    """Prometheus metrics of one app: requests, latency, errors, the model version serving."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("recsys_requests", "Requests answered", ["method", "path", "status"],
                                registry=self.registry)  # fmt: skip
        buckets = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
        self.latency = Histogram("recsys_request_seconds", "Time to answer a request", ["path"], buckets=buckets,
                                 registry=self.registry)  # fmt: skip
        self.errors = Counter("recsys_errors", "Requests answered with an error", ["path", "status"],
                              registry=self.registry)  # fmt: skip
        self.version = Gauge("recsys_model_version", "1 for the model version last served", ["version"],
                             registry=self.registry)  # fmt: skip

    def observe(self, method: str, path: str, status: int, seconds: float) -> None:
        self.requests.labels(method, path, str(status)).inc()
        self.latency.labels(path).observe(seconds)
        if status >= 400:
            self.errors.labels(path, str(status)).inc()


def _add_error_handlers(app: FastAPI, metrics: _Metrics) -> None:
    @app.exception_handler(ApiError)
    async def refused(request: Request, err: ApiError) -> JSONResponse:
        return JSONResponse({"error": str(err)}, status_code=err.status)

    @app.exception_handler(UnknownTitle)
    async def unknown_title(request: Request, err: UnknownTitle) -> JSONResponse:
        return JSONResponse({"error": str(err)}, status_code=404)

    @app.exception_handler(QueryError)
    @app.exception_handler(CatalogError)
    async def bad_input(request: Request, err: RecsysError) -> JSONResponse:
        return JSONResponse({"error": str(err)}, status_code=400)

    @app.exception_handler(ModelError)
    async def no_model(request: Request, err: ModelError) -> JSONResponse:
        return JSONResponse({"error": str(err)}, status_code=503)

    @app.exception_handler(RecsysError)
    async def refused_write(request: Request, err: RecsysError) -> JSONResponse:
        return JSONResponse({"error": str(err)}, status_code=400)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, err: RequestValidationError) -> JSONResponse:
        first = err.errors()[0] if err.errors() else {}
        where = ".".join(str(part) for part in first.get("loc", ()) if part not in ("query", "body", "path"))
        message = first.get("msg", "invalid request")
        return JSONResponse({"error": f"{where or 'the request'}: {message}"}, status_code=400)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, err: HTTPException) -> JSONResponse:
        return JSONResponse({"error": str(err.detail)}, status_code=err.status_code)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, err: Exception) -> JSONResponse:
        return JSONResponse({"error": f"internal error ({type(err).__name__}); the server log has the details"},
                            status_code=500)  # fmt: skip


def _body_too_large(request: Request) -> JSONResponse | None:
    """A 413 answer for a body declared larger than ``MAX_BODY_BYTES`` (or of no declared length)."""
    if request.method not in ("POST", "PUT", "PATCH"):
        return None
    declared = request.headers.get("content-length")
    if declared is None:
        return JSONResponse({"error": "a request body needs a Content-Length header"}, status_code=411)
    if not declared.isdigit() or int(declared) > MAX_BODY_BYTES:
        return JSONResponse({"error": f"the body must be at most {MAX_BODY_BYTES:,} bytes"}, status_code=413)
    return None


def _catalog_of(records: list[dict[str, Any]]) -> Catalog:
    """The titles of a request as a catalog, read as a catalog file's rows are."""
    try:
        return Catalog.from_frame(pd.DataFrame.from_records(records), source="titles")
    except (TypeError, ValueError) as err:  # a cell of a type no catalog file has (an object, say)
        raise ApiError(400, f"titles: cannot be read as catalog rows ({err})") from None


def _query(text: str, name: str) -> None:
    if not text.strip():
        raise ApiError(400, f"{name} is empty")
    if len(text) > MAX_QUERY_CHARS:
        raise ApiError(400, f"{name} must be at most {MAX_QUERY_CHARS} characters")


def _bounded(name: str, value: int, low: int, high: int) -> None:
    if not low <= value <= high:
        raise ApiError(400, f"{name} must be {low}..{high}")


def _language(value: str) -> str | None:
    if value not in LANGUAGES:
        raise ApiError(400, f"lang must be one of {', '.join(LANGUAGES)}")
    return None if value == "auto" else value


@contextmanager
def _one_writer(directory: Path, lock: threading.Lock):
    """One write at a time: a thread lock in this worker, a file lock beside the model across workers."""
    with lock, open(directory.parent / f".{directory.name}.write-lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
