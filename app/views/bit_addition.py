"""Default page: a trained GRU adds two binary numbers, one bit per step, and learns to carry."""

from __future__ import annotations

import numpy as np
import streamlit as st

from app import components, figures, services, state
from app.state import AdditionView
from gru_core import bit_addition as ba

st.title("Watch a GRU add two numbers")
ss = st.session_state
model_pt = services.bit_adder("pytorch")
components.intro(
    f"A GRU with {model_pt.gru.hidden_size} hidden units reads two numbers one bit at a time, **least significant bit "
    "first** — the way you add on paper, right to left. At step *t* it sees the pair of bits "
    "($a_t$, $b_t$) and must write bit *t* of the sum. To do that it has to remember the **carry** from "
    "the step before: watch which units hold it and how the update gate decides when to change it.")

# -- the link a page was opened with is read once per session; widgets own the state after that --
if "add_view" not in ss:
    view, messages = AdditionView.from_query(st.query_params, model_pt.gru.hidden_size)
    ss.add_view = view
    ss.add_messages = messages
    ss.add_a_text, ss.add_b_text = str(view.a), str(view.b)
    ss.add_conv = view.conv
view: AdditionView = ss.add_view
for m in ss.get("add_messages", []):
    st.warning(m, icon=":material/warning:")


def clear_messages() -> None:
    ss.add_messages = []


def random_example() -> None:
    bits = int(ss.add_random_bits)
    rng = np.random.default_rng()
    a, b = (int.from_bytes(rng.bytes((bits + 7) // 8), "little") % (1 << bits) for _ in range(2))
    ss.add_a_text, ss.add_b_text = str(a), str(b)
    clear_messages()


controls = components.controls_container()
with controls:
    c1, c2, c3, c4 = st.columns([2, 2, 1, 1.2], vertical_alignment="bottom")
    c1.text_input("a", key="add_a_text", on_change=clear_messages,
                  help=f"A non-negative whole number, up to {state.MAX_OPERAND_BITS} bits (0b… and 0x… work too).")
    c2.text_input("b", key="add_b_text", on_change=clear_messages)
    ss.setdefault("add_random_bits", 16)
    c3.selectbox("bits", [8, 16, 64, 256, 1024], key="add_random_bits",
                 help="Size of the random example")
    c4.button("Random example", icon=":material/casino:", on_click=random_example, width="stretch")

# -- operands: a bad entry is explained and the last good addition stays on screen --------------
errors: list[str] = []
a = state.parse_operand(ss.add_a_text, "a", view.a, errors)
b = state.parse_operand(ss.add_b_text, "b", view.b, errors)
for e in errors:
    st.error(e.replace("showing", "still showing"), icon=":material/error:")
if (a, b) != (view.a, view.b):
    view = ss.add_view = view.with_operands(a, b)

trained = ss.get("trained_adder")
with controls:
    source = "shipped"
    if trained is not None:
        source = st.radio("Model", ["shipped", "trained"], horizontal=True, key="add_source",
                          format_func={"shipped": "shipped with the app",
                                       "trained": f"trained in this tab ({trained.gru.hidden_size} units)"}.get)
    if source == "trained":
        convention = trained.gru.convention
        st.caption(f"This model was trained in the {convention.name} convention, so that is how it is shown.")
    else:
        convention = components.convention_controls("add_conv", view.conv)
run = (services.addition(convention.name, view.a, view.b) if source == "shipped"
       else ba.run_addition(trained, view.a, view.b))
if source == "shipped" and convention.name != "pytorch":
    st.caption("The pytorch and cho2014 adders are two networks, each trained with its own equations. "
               "chung2014 shows the cho2014 network with its update gate flipped: the same numbers "
               "for h at every step, with z read as 1 − z.")

# -- the answer -----------------------------------------------------------------------------------
T = len(run.target)
verdict = "right ✓" if run.correct else "wrong ✗"
msg = f"**{run.a:,} + {run.b:,} = {run.result:,}** — the network's answer is {verdict}"
(st.success if run.correct else st.error)(msg if run.correct else msg + f" (true sum {run.a + run.b:,})")


def as_written(n: int) -> str:
    return format(n, "b").zfill(T)


with st.expander("The bits, both ways round", expanded=T <= 40 and not components.presenting()):
    lsb = lambda arr: "".join(str(int(v)) for v in arr)  # noqa: E731
    st.markdown("As written (most significant bit first):")
    st.code(f"a   = {as_written(run.a)}\nb   = {as_written(run.b)}\nsum = {as_written(run.a + run.b)}",
            language=None)
    st.markdown("As the network reads them (least significant bit first, step 0 on the left):")
    st.code(f"a_t    = {lsb(run.xs[:, 0])}\nb_t    = {lsb(run.xs[:, 1])}\n"
            f"target = {lsb(run.target)}\noutput = {lsb(run.output)}", language=None)


def bits_at_step(t: int) -> None:
    components.chart(figures.bit_rows(run.xs, run.target, run.output, t, font_size=components.font_size()),
                     key="add_bits")
    a_t, b_t, c_out = int(run.xs[t, 0]), int(run.xs[t, 1]), int(run.carries[t])
    c_in = int(run.carries[t - 1]) if t > 0 else 0
    ok = "✓" if run.output[t] == run.target[t] else "✗"
    st.markdown(f"**Step {t}** (bit $2^{{{t}}}$): reads $a_t$ = {a_t}, $b_t$ = {b_t} with carry in {c_in} → "
                f"true sum bit {int(run.target[t])}, carry out {c_out}. "
                f"The network writes **{int(run.output[t])}** {ok} (readout {run.logits[t]:+.3f}).")


if not components.presenting():
    st.subheader("Step through time")
components.render_step_view(
    run.trace.last, convention, prefix="add", initial_t=view.t, initial_unit=view.unit,
    query=lambda t, unit: AdditionView(view.a, view.b, t, unit, convention.name).to_query(),
    above=bits_at_step)

if not components.presenting():
    st.subheader("Which unit carries the carry?")
    if source == "shipped":
        corr = services.carry_correlation(convention.name)
    else:  # computed once per trained model, kept with it in this tab
        if ss.get("trained_corr", (None,))[0] is not trained:
            ss.trained_corr = (trained, ba.carry_correlation(trained, additions=300, bits=16, seed=0))
        corr = ss.trained_corr[1]
    best = int(np.argmax(np.abs(corr)))
    st.markdown(f"Over 300 random 16-bit additions, each unit's $h_t$ is correlated with the true carry "
                f"out of step t. **Unit {best}** follows the carry most closely "
                f"(correlation {corr[best]:+.3f}); open its equations above to see how its update gate "
                f"holds the carry while the bits stream past.")
    components.chart(figures.carry_units(corr, font_size=components.font_size()), key="add_carry")
