"""GRU Gate Lab — entry point: `streamlit run app/streamlit_app.py` (or `make run`)."""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

# `streamlit run app/streamlit_app.py` puts app/ on sys.path, not the project root; the project is
# installed editable by `make`, but a bare checkout should work too.
ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from app import state, theme  # noqa: E402  (needs the path above)

# A link with ?present=1 opens with the sidebar folded away: the figures get the projector's width.
_present_link = state.parse_present(st.query_params)[0]
st.set_page_config(page_title="GRU Gate Lab", page_icon=":material/tune:", layout="wide",
                   initial_sidebar_state="collapsed" if _present_link else "auto")

VIEWS = Path(__file__).parent / "views"

ss = st.session_state
for key in state.PERSISTENT_KEYS:  # see state.PERSISTENT_KEYS: a value outlives its hidden widget
    if key in ss:
        ss[key] = ss[key]

# Presentation mode belongs to the whole app: read ?present= once per session, then the toggle rules.
if "present" not in ss:
    ss.present, ss.present_messages = state.parse_present(st.query_params)
with st.sidebar:
    st.toggle("Presentation mode", key="present",
              help="Larger type, full-width figures, only the stepping controls. Step with ← / →.")
    for m in ss.get("present_messages", []):
        st.warning(m)
if ss.present:
    st.html(theme.PRESENT_CSS)

pages = [
    st.Page(VIEWS / "bit_addition.py", title="Bit addition", icon=":material/add:", default=True),
    st.Page(VIEWS / "sequence.py", title="Your sequence", icon=":material/show_chart:", url_path="sequence"),
    st.Page(VIEWS / "lab.py", title="Parameter lab", icon=":material/tune:", url_path="lab"),
    st.Page(VIEWS / "train.py", title="Train it yourself", icon=":material/model_training:", url_path="train"),
]
if ss.present:
    st.query_params["present"] = "1"
elif "present" in st.query_params:
    del st.query_params["present"]
st.navigation(pages).run()
