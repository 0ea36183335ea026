"""The growth-allocator app for marketers: ``streamlit run app.py``.

A thin UI over the planner and the engines (DESIGN.md): the pages in ``app_pages/`` read the data, the saved
posterior and the optimizer through ``app_pages.common`` and show what the engines return.
"""

from __future__ import annotations

import streamlit as st

PAGES = [
    ("app_pages/overview.py", "Overview"),
    ("app_pages/data_page.py", "Data"),
    ("app_pages/attribution_page.py", "Attribution"),
    ("app_pages/media_mix.py", "Media mix"),
    ("app_pages/budget_planner.py", "Budget planner"),
    ("app_pages/scenarios_page.py", "Scenarios"),
]

st.set_page_config(page_title="Growth allocator", layout="wide")  # no page_icon: a material icon is fetched online
# no page icons: Streamlit fetches a page's material icon online as the favicon (the app must work offline)
pages = [st.Page(path, title=title, default=i == 0) for i, (path, title) in enumerate(PAGES)]
st.navigation(pages).run()
