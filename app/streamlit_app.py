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

st.set_page_config(page_title="GRU Gate Lab", page_icon=":material/tune:", layout="wide")

VIEWS = Path(__file__).parent / "views"
pages = [
    st.Page(VIEWS / "bit_addition.py", title="Bit addition", icon=":material/add:", default=True),
    st.Page(VIEWS / "sequence.py", title="Your sequence", icon=":material/show_chart:", url_path="sequence"),
]
st.navigation(pages).run()
