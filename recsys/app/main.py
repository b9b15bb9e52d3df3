"""The app's frame: page setup, the sidebar, and the page chosen in it."""

from __future__ import annotations

import streamlit as st

from recsys.app import pages
from recsys.app.messages import UI_LANGUAGES, t, ui_language
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
        st.radio("Language / Idioma", list(UI_LANGUAGES), key="ui_language", horizontal=True)
        page = _page_choice()
        st.divider()
        st.caption(t("Catalog: {source} · {count:,} titles", source=model.catalog.source, count=len(model.catalog)))
        head = t(model.metrics.get("chosen", "untrained"))
        st.caption(t("Head: {head} · liked: {liked}", head=head, liked=len(st.session_state.get("liked", []))))
        if st.session_state.get("model_dir") != default_path():
            st.button(
                t("Back to the default catalog"), on_click=st.session_state.update,
                args=({"model_dir": default_path()},),
            )  # fmt: skip
    PAGES[page](model)


def _page_choice() -> str:
    """The sidebar's page list, in the app's language; returns the chosen page's English name."""
    shown = {t(name): name for name in PAGES}
    current = st.session_state.setdefault("page", "Search")
    chosen = st.radio(t("Page"), list(shown), index=list(PAGES).index(current), key=f"page-{ui_language()}",
                      label_visibility="collapsed")  # fmt: skip
    st.session_state.page = shown[chosen]
    return st.session_state.page
