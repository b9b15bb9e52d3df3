"""The models the app serves: loaded once per process, chosen per session."""

from __future__ import annotations

import streamlit as st

from recsys import MovieSearch
from recsys.app.messages import both_languages
from recsys.default import default_model, recsys_home

UPLOAD_LIMIT_MB = 50  # .streamlit/config.toml sets the same server.maxUploadSize


def models_dir():
    """Where the app writes the models it makes (indexed uploads, retrained heads): under the recsys home."""
    return recsys_home() / "models"


@st.cache_resource(show_spinner=False)
def default_path() -> str:
    """The default model's directory; the first start builds it, with a progress bar."""
    bar = st.progress(0.0, text=both_languages("First start: building the default model of recsys's own catalog "
                                               "(about a minute)"))  # fmt: skip

    def report(stage: str, done: int, total: int, figures: dict) -> None:
        text = both_languages("First start: {stage} ({done:,} of {total:,})", stage=stage, done=done, total=total)
        bar.progress(min(done / total, 1.0) if total else 0.0, text=text)

    path = default_model(progress=report)
    bar.empty()
    return str(path)


@st.cache_resource(show_spinner=both_languages("Loading the model…"), max_entries=4)
def load_model(path: str) -> MovieSearch:
    """A model directory, loaded once and shared by every session."""
    return MovieSearch.load(path)


def current_model() -> MovieSearch:
    """The model this session serves (the default one until a catalog is indexed or a retrain wins)."""
    if "model_dir" not in st.session_state:
        st.session_state.model_dir = default_path()
    return load_model(st.session_state.model_dir)
