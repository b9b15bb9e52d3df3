"""The app's frame: page setup, the sidebar, and the page chosen in it."""

from __future__ import annotations

import streamlit as st

from recsys.app import pages
from recsys.app.state import current_model, default_path

PAGES = {
    "Search": pages.search_page,
    "Recommendations": pages.recommendations_page,
    "Catalog": pages.catalog_page,
    "Retrain": pages.retrain_page,
    "Evaluate": pages.evaluate_page,
}


def main() -> None:
    """Set up the page, draw the sidebar, and run the chosen page."""
    st.set_page_config(page_title="recsys — movie search with attention", page_icon="🎬", layout="wide")
    model = current_model()
    linked = st.query_params.get("q")  # a person's name on a card links here: ?q=Agnès+Varda
    if linked and st.session_state.get("linked") != linked:
        st.session_state.update(linked=linked, query=linked, page="Search", ignored=[])
    with st.sidebar:
        st.header("recsys")
        page = st.radio("Page", list(PAGES), key="page", label_visibility="collapsed")
        st.divider()
        st.caption(f"Catalog: {model.catalog.source} · {len(model.catalog):,} titles")
        st.caption(
            f"Head: {model.metrics.get('chosen', 'untrained')} · liked: {len(st.session_state.get('liked', []))}"
        )
        if st.session_state.get("model_dir") != default_path():
            st.button(
                "Back to the default catalog", on_click=st.session_state.update, args=({"model_dir": default_path()},)
            )
    PAGES[page](model)
