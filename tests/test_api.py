"""The HTTP API (``recsys serve``): same answers as the CLI, JSON errors, writes only with the token."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest

from recsys.cli import main

httpx = pytest.importorskip("httpx", reason="the dev extra installs httpx, which TestClient needs")
from fastapi.testclient import TestClient  # noqa: E402

from recsys.api import MAX_BODY_BYTES, create_app  # noqa: E402

TOKEN = "test-token-0123456789"


@pytest.fixture
def model_dir(small_model, tmp_path):
    return small_model.save(tmp_path / "model")


@pytest.fixture
def client(model_dir):
    return TestClient(create_app(model_dir, TOKEN), raise_server_exceptions=False)


def test_search_matches_the_cli_and_carries_the_model_version(client, model_dir, capsys):
    answer = client.get("/search", params={"q": "alien creature on a ship", "k": 5})
    assert answer.status_code == 200
    document = answer.json()
    assert len(document.pop("model_version")) == 12
    assert main(["search", "alien creature on a ship", "--model", str(model_dir), "-k", "5", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert [r["id"] for r in document["results"]] == [r["id"] for r in printed["results"]]
    assert document["results"][0]["id"] == "m1"


def test_pages_continue_where_the_last_one_ended(client):
    first = client.get("/search", params={"q": "a family in danger", "k": 3}).json()["results"]
    second = client.get("/search", params={"q": "a family in danger", "k": 3, "offset": 3}).json()["results"]
    both = client.get("/search", params={"q": "a family in danger", "k": 6}).json()["results"]
    assert [r["id"] for r in first + second] == [r["id"] for r in both]


def test_explain_recommend_title_understand_batch(client):
    explained = client.get("/search", params={"q": "haunted farmhouse", "k": 2, "explain": "true"}).json()
    assert "query_words" in explained["results"][0]["explanation"]
    top = explained["results"][0]
    one = client.get("/explain", params={"q": "haunted farmhouse", "id": top["id"]}).json()
    assert one["score"] == pytest.approx(top["score"], abs=1e-4)  # the score the search reported, split
    found = client.post("/recommend", json={"liked": ["m1"], "disliked": ["m4"], "k": 3}).json()
    assert len(found["results"]) == 3 and {"m1", "m4"}.isdisjoint(r["id"] for r in found["results"])
    assert client.get("/titles/m2").json()["title"]["title"] == "The Quiet Orchard"
    understood = client.get("/understand", params={"q": "horror movies from the 80s"}).json()
    assert understood["language"] == "en" and "understood" in understood
    queries = [{"qid": 1, "query": "ghosts"}, {"qid": "b", "query": "love"}]
    batch = client.post("/search/batch", json={"queries": queries, "k": 4}).json()
    assert [line["qid"] for line in batch["results"]] == [1, "b"] and len(batch["results"][0]["ranked"]) == 4


@pytest.mark.parametrize(
    ("method", "path", "payload", "status", "names"),
    [
        ("get", "/search?q=ghosts&k=1000000000", None, 400, "k must be"),
        ("get", "/search?q=ghosts&k=abc", None, 400, "k"),
        ("get", "/search?q=", None, 400, "q is empty"),
        ("get", "/search?q=" + "x" * 5000, None, 400, "q must be at most"),
        ("get", "/search?q=ghosts&offset=-1", None, 400, "offset must be"),
        ("get", "/search?q=ghosts&lang=fr", None, 400, "lang must be"),
        ("get", "/search", None, 400, "q"),
        ("get", "/titles/..%2F..%2Fetc%2Fpasswd", None, 404, ""),  # no route matches a path with slashes
        ("get", "/titles/nope", None, 404, "no title"),
        ("get", "/explain?q=ghosts&id=nope", None, 404, "no title"),
        ("post", "/recommend", {"liked": []}, 400, "liked ids"),
        ("post", "/recommend", {"liked": ["nope"]}, 404, "no title"),
        ("post", "/recommend", {"liked": "m1"}, 400, "liked"),
        ("post", "/search/batch", {"queries": []}, 400, "number of queries"),
        ("get", "/search?q=%F0%9F%91%BD%E2%80%AE%00%C3%A9", None, 200, ""),
        ("get", "/nowhere", None, 404, "Not Found"),
        ("get", "/jobs/nope", None, 404, "no job"),
        ("get", "/jobs/0123456789ab", None, 404, "no job"),
    ],
)
def test_bad_input_gets_a_4xx_json_error_naming_the_field(client, method, path, payload, status, names):
    answer = getattr(client, method)(path, **({"json": payload} if payload is not None else {}))
    assert answer.status_code == status, answer.text
    if status >= 400:
        assert names in answer.json()["error"]


def test_malformed_and_oversized_bodies_are_refused(client):
    malformed = client.post("/recommend", content=b"{not json", headers={"Content-Type": "application/json"})
    assert malformed.status_code == 400 and "error" in malformed.json()
    huge = client.post("/recommend", content=b"x" * (MAX_BODY_BYTES + 1), headers={"Content-Type": "application/json"})
    assert huge.status_code == 413 and "at most" in huge.json()["error"]


def test_writes_need_the_token_and_change_nothing_without_it(model_dir):
    before = (model_dir / "config.json").read_bytes()
    for token in (None, TOKEN):
        client = TestClient(create_app(model_dir, token), raise_server_exceptions=False)
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
            answers = [
                client.post("/titles", json={"titles": [{"id": "n1", "title": "New", "description": "A new one."}]},
                            headers=headers),
                client.delete("/titles/m1", headers=headers),
                client.post("/retrain", json={}, headers=headers),
            ]  # fmt: skip
            assert {answer.status_code for answer in answers} <= {401, 403}
            assert all("error" in answer.json() for answer in answers)
    assert (model_dir / "config.json").read_bytes() == before


def test_live_add_and_remove_are_served_at_once_with_a_new_version(client):
    version = client.get("/health").json()["model_version"]
    auth = {"Authorization": f"Bearer {TOKEN}"}
    title = {"id": "n1", "title": "Orbit of Glass", "description": "Astronauts on a glass station meet an alien mind.",
             "genres": "Science Fiction", "year": 2001}  # fmt: skip
    added = client.post("/titles", json={"titles": [title]}, headers=auth)
    assert added.status_code == 200, added.text
    assert added.json()["model_version"] != version
    assert client.get("/titles/n1").json()["title"]["title"] == "Orbit of Glass"
    removed = client.delete("/titles/n1", headers=auth)
    assert removed.status_code == 200 and client.get("/titles/n1").status_code == 404


def test_a_model_replaced_on_disk_is_picked_up_without_a_restart(client, model_dir, small_model):
    version = client.get("/health").json()["model_version"]
    small_model.remove(["m2"]).save(model_dir)  # as `recsys remove` would, from another process
    client.app.state.served.current()  # the next request notices the change and loads in the background
    client.app.state.served.reload_now()
    assert client.get("/health").json()["model_version"] != version
    assert client.get("/titles/m2").status_code == 404


def test_metrics_count_requests_in_prometheus_text(client):
    client.get("/search", params={"q": "ghosts"})
    client.get("/titles/nope")
    text = client.get("/metrics").text
    assert 'recsys_requests_total{method="GET",path="/search",status="200"}' in text
    assert 'recsys_errors_total{path="/titles/{movie_id}",status="404"}' in text
    assert "recsys_request_seconds_bucket" in text and "recsys_model_version" in text


hypothesis = pytest.importorskip("hypothesis", reason="the dev extra installs hypothesis")


@pytest.fixture(scope="module")
def shared_client(small_model, tmp_path_factory):
    directory = small_model.save(tmp_path_factory.mktemp("api") / "model")
    return TestClient(create_app(directory, TOKEN), raise_server_exceptions=False)


@hypothesis.settings(max_examples=60, deadline=None, suppress_health_check=list(hypothesis.HealthCheck))
@hypothesis.given(text=hypothesis.strategies.text(max_size=2_000), k=hypothesis.strategies.integers())
def test_any_unicode_query_and_any_k_get_an_answer_or_a_4xx_never_a_500(shared_client, text, k):
    for answer in (
        shared_client.get("/search", params={"q": text, "k": k}),
        shared_client.get("/explain", params={"q": text, "id": text}),
        shared_client.get(f"/titles/{quote(text, safe='')}"),
        shared_client.post("/recommend", json={"liked": [text], "k": k}),
    ):
        assert answer.status_code < 500, answer.text
        assert answer.status_code == 200 or "error" in answer.json()


def test_recsys_serve_forks_workers_that_answer_and_stop(model_dir):
    from benchmarks.common import answers, free_port, server_processes

    port = free_port()
    command = [sys.executable, "-m", "recsys.cli", "serve", "--model", str(model_dir), "--port", str(port),
               "--workers", "2"]  # fmt: skip
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        assert answers(f"http://127.0.0.1:{port}/health", 180), server.stderr.read1().decode()
        workers = server_processes(server.pid)[1:]
        assert len(workers) == 2  # forked after the model was loaded
        for _ in range(6):  # fresh connections: both workers answer with the same model
            answer = httpx.get(f"http://127.0.0.1:{port}/search", params={"q": "alien creature on a ship", "k": 3})
            assert answer.status_code == 200 and answer.json()["results"][0]["id"] == "m1"
    finally:
        server.terminate()
        assert server.wait(timeout=60) == 0
    assert not any(Path(f"/proc/{pid}").exists() and b"serve" in Path(f"/proc/{pid}/cmdline").read_bytes()
                   for pid in workers)  # fmt: skip
