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

from app import capacity, limits, session, step_view, theme, ui  # noqa: E402  (needs the path above)

VIEWS = Path(__file__).parent / "views"
ICON = ROOT / "assets" / "icon.png"   # shipped: a classroom may have no internet

# Presentation mode belongs to the whole app: ?present=1 is read once per session (a link a teacher
# puts on a slide opens with the sidebar folded away), then the toggle rules.
messages = session.read_link("app")
st.set_page_config(page_title="GRU Gate Lab", page_icon=str(ICON), layout="wide",
                   initial_sidebar_state="collapsed" if session.get("app_present") else "auto")
with st.sidebar:
    st.toggle("Presentation mode", key=session.widget("app_present"),
              help="Larger type, full-width figures, only the stepping controls. Step with ← / →.")
    ui.show_messages(messages)
    step_view.preload()   # plotly.js for the step views, fetched while the page computes
# A tab beyond what this process serves is told so at once (and what to do), instead of queueing
# behind everyone else's; a tab already in keeps its place.
if not capacity.admits(capacity.active_sessions(), already_in=session.get("app_admitted")):
    st.error(f"This server is already serving {limits.MAX_SESSIONS_PER_PROCESS} browser tabs, as many as it "
             "can keep quick. Try again in a few minutes, or ask whoever runs it to start more copies "
             "(`make serve REPLICAS=…`, README: Serving a class).", icon=":material/groups:")
    st.stop()
session.put("app_admitted", True)
if ui.presenting():
    st.html(theme.PRESENT_CSS)
session.write_link({"present": "1"} if ui.presenting() else {},
                   drop_params=() if ui.presenting() else ("present",))

pages = [
    st.Page(VIEWS / "bit_addition.py", title="Bit addition", icon=":material/add:", default=True),
    st.Page(VIEWS / "lesson.py", title="The lesson", icon=":material/school:", url_path="lesson"),
    st.Page(VIEWS / "sequence.py", title="Your sequence", icon=":material/show_chart:", url_path="sequence"),
    st.Page(VIEWS / "why_gates.py", title="Why gates?", icon=":material/timeline:", url_path="why_gates"),
    st.Page(VIEWS / "lab.py", title="Parameter lab", icon=":material/tune:", url_path="lab"),
    st.Page(VIEWS / "train.py", title="Train it yourself", icon=":material/model_training:", url_path="train"),
]
with ui.guarded("drawing this page"):  # a fault shows a message, never a traceback
    st.navigation(pages).run()
