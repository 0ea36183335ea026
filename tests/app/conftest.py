"""Fixtures for the app's tests: the app in ``streamlit.testing.v1.AppTest``, a throwaway run store per test, and
Streamlit's caches cleared around every test.

The bundled sample, the saved posterior and its ROI table and diagnostics are read once per test session into
``app_pages.common``'s process-wide memo (they are read-only files); the optimizer, built per (data, posterior) in
``st.cache_resource``, is rebuilt in every test.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "app.py"
if str(ROOT) not in sys.path:  # app_pages is the app's folder, not an installed package
    sys.path.insert(0, str(ROOT))


@pytest.fixture(scope="session")
def warm():
    """``app_pages.common`` with the sample data, the posterior and its summary read (once per session)."""
    from app_pages import common

    common.sample_data()
    post = common.load_posterior(Path(common.base_config().model.posterior))
    common.model_summary(post)
    return post


@pytest.fixture(autouse=True)
def isolated(warm, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A fresh run store and runs folder per test; no Streamlit cache carried between tests."""
    import streamlit as st

    from app_pages import common

    monkeypatch.setenv(common.STORE_ENV, f"sqlite:///{(tmp_path / 'runs.db').as_posix()}")
    monkeypatch.setenv(common.RUNS_ENV, str(tmp_path / "runs"))
    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.fixture
def open_app() -> Callable[..., object]:
    """Run the app (its first page), then switch to ``page`` (``"app_pages/<file>.py"``) when given."""
    from streamlit.testing.v1 import AppTest

    def start(page: str | None = None, state: dict | None = None):
        at = AppTest.from_file(str(APP), default_timeout=120)  # a hang guard, sized for a loaded slow machine
        for key, value in (state or {}).items():
            at.session_state[key] = value
        at.run()
        if page is not None:
            at.switch_page(page).run()
        return at

    return start
