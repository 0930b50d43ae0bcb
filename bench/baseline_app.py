"""The bare-Streamlit baseline for bench_app: the same number of figures, arrays of the same shapes,
a Next button in a fragment, a slider that changes the data — and nothing else. What the real pages
cost above this is our overhead.

Query: ?T=65&H=16&I=2 (I = rows of the small input/bits figure)."""

import numpy as np
import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

T = int(st.query_params.get("T", 65))
H = int(st.query_params.get("H", 16))
I = int(st.query_params.get("I", 4))
rng = np.random.default_rng(0)
shift = st.slider("Shift", -6.0, 6.0, 0.0, step=0.25)  # a tweak: new data, full rerun
maps = [rng.random((H, T), dtype=np.float32) + np.float32(shift) for _ in range(4)]
small = rng.random((I, T), dtype=np.float32)
if "t" not in st.session_state:
    st.session_state.t = 0


def marker(fig, t, y1, **kw):
    fig.add_shape(type="rect", name="step", x0=t - 0.5, x1=t + 0.5, y0=-0.5, y1=y1, **kw)


@st.fragment
def view():
    if st.button("Next", key="next"):
        st.session_state.t = (st.session_state.t + 1) % T
    t = st.session_state.t
    st.slider("Time step t", 0, T - 1, key="t")
    f1 = go.Figure(go.Heatmap(z=small))
    marker(f1, t, I - 0.5)
    st.plotly_chart(f1, key="small")
    f2 = make_subplots(rows=4, cols=1)
    for i, m in enumerate(maps):
        f2.add_trace(go.Heatmap(z=m), row=i + 1, col=1)
        marker(f2, t, H - 0.5, row=i + 1, col=1)
    st.plotly_chart(f2, key="maps")
    f3 = go.Figure([go.Scatter(x=maps[k][:, t], y=np.arange(H)) for k in range(3)])
    st.plotly_chart(f3, key="interp")


view()
