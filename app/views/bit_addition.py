"""Default page: a trained GRU adds two binary numbers, one bit per step, and learns to carry."""

from __future__ import annotations

import numpy as np
import streamlit as st

from app import cell_views, figures, labels, limits, query, services, session, step_texts, step_view, ui
from gru_core.models import RecurrentModel
from gru_core.tasks import bit_addition as ba

PAGE = "add"


def choose_model() -> tuple[RecurrentModel, str]:
    """The shipped adder in the chosen convention, or the one trained in this tab; and a note on
    where it comes from (shown under the picker)."""
    trained = session.get("app_trained")
    source = "shipped"
    if trained is not None:
        source = st.radio("Model", ["shipped", "trained"], horizontal=True, key=session.widget("add_source"),
                          format_func={"shipped": "shipped with the app",
                                       "trained": f"trained in this tab ({trained.cell.hidden_size} units)"}.get)
    if source == "trained":
        st.caption(f"This model was trained in the {trained.cell.convention.name} convention, "
                   "so that is how it is shown.")
        return trained, "trained"
    convention = ui.convention_picker("add_conv")
    if convention.name != "pytorch":
        st.caption("The pytorch and cho2014 adders are two networks, each trained with its own equations. "
                   "chung2014 shows the cho2014 network with its update gate flipped: the same numbers "
                   "for h at every step, with z read as 1 − z.")
    return services.bit_adder(convention.name), "shipped"


def operand_controls() -> tuple[int, int]:
    """Two operand boxes and a random example; returns the operands (the last good ones while a
    box holds something that is not a number, with a message saying so)."""
    def random_example() -> None:
        bits = int(session.get("add_random_bits"))
        rng = np.random.default_rng()
        a, b = (int.from_bytes(rng.bytes((bits + 7) // 8), "little") % (1 << bits) for _ in range(2))
        session.put("add_a_text", str(a))
        session.put("add_b_text", str(b))
        session.clear_link_messages(PAGE)

    c1, c2, c3, c4 = st.columns([2, 2, 1, 1.2], vertical_alignment="bottom")
    c1.text_input("a", key=session.widget("add_a_text"), on_change=session.clear_link_messages, args=(PAGE,),
                  help=f"A non-negative whole number, up to {limits.MAX_OPERAND_BITS} bits (0b… and 0x… work too).")
    c2.text_input("b", key=session.widget("add_b_text"), on_change=session.clear_link_messages, args=(PAGE,))
    c3.selectbox("bits", limits.RANDOM_BITS, key=session.widget("add_random_bits"), help="Size of the random example")
    c4.button("Random example", key=session.element("add_random"), icon=":material/casino:",
              on_click=random_example, width="stretch")
    last_a, last_b = session.get("add_operands")
    errors: list[str] = []
    a = query.parse_operand(session.get("add_a_text"), "a", last_a, errors)
    b = query.parse_operand(session.get("add_b_text"), "b", last_b, errors)
    for e in errors:
        ui.error(e.replace("showing", "still showing"))
    session.put("add_operands", (a, b))
    return a, b


def render_answer(run: ba.AdditionRun) -> None:
    verdict = "right ✓" if run.correct else "wrong ✗"
    msg = f"**{run.a:,} + {run.b:,} = {run.result:,}** — the network's answer is {verdict}"
    (st.success if run.correct else st.error)(msg if run.correct else msg + f" (true sum {run.a + run.b:,})")
    T = len(run.target)

    def bits(arr) -> str:
        return "".join(str(int(v)) for v in arr)

    with st.expander("The bits, both ways round", expanded=T <= 40 and not ui.presenting()):
        st.markdown("As written (most significant bit first):")
        st.code("\n".join(f"{name:<4}= {format(v, 'b').zfill(T)}"
                          for name, v in (("a", run.a), ("b", run.b), ("sum", run.a + run.b))), language=None)
        st.markdown("As the network reads them (least significant bit first, step 0 on the left):")
        st.code(f"a_t    = {bits(run.xs[:, 0])}\nb_t    = {bits(run.xs[:, 1])}\n"
                f"target = {bits(run.target)}\noutput = {bits(run.output)}", language=None)


def render_carry_finding(finding: ba.CarryFinding, convention) -> None:
    """Which units follow the carry, and how the carry gets from one step to the next — computed
    from the model on screen, so it holds for every model the page can show."""
    st.markdown(labels.md(labels.carry_finding_text(finding, convention)))
    # drawn by the step view's plotly.js: st.plotly_chart would load a second copy (step_view.figure)
    step_view.figure("add_carry", figures.carry_units(finding.correlation, [u.unit for u in finding.units],
                                                      font_size=ui.font_size()))


# -- the page: controls → core → renderers ---------------------------------------------------------
st.title("Watch a GRU add two numbers")
ui.welcome()
link_messages = session.read_link(PAGE, {"hidden_size": services.bit_adder("pytorch").cell.hidden_size})
ui.show_messages(link_messages)
with ui.controls_container():
    a, b = operand_controls()
    model, source = choose_model()
convention = model.cell.convention
ui.intro(
    f"A GRU with {model.cell.hidden_size} hidden units reads two numbers one bit at a time, **least "
    "significant bit first**: the way you add on paper, right to left. At step *t* it sees the pair of "
    "bits ($a_t$, $b_t$) and must write bit *t* of the sum. To do that it has to carry: below, find the "
    "units that follow the carry and watch what the gates do while it is held.")

run = services.addition(convention.name, a, b) if source == "shipped" else ba.run_addition(model, a, b)
render_answer(run)
view = cell_views.gru_view(run.trace.last, convention)

if not ui.presenting():
    st.subheader("Step through time")


step_view.show(PAGE, step_view.fingerprint(model.cell, run.xs, model.readout.weight.tobytes(),  # the bits written
                                          model.readout.bias.tobytes()), view, link=True,
               top=lambda: figures.bit_rows(run.xs, run.target, run.output, None, font_size=ui.font_size()),
               sentence=lambda: step_texts.addition(run))
session.write_link(session.link_values(PAGE, add_a_text=str(a), add_b_text=str(b), add_conv=convention.name))

if not ui.presenting():
    st.subheader("Which units carry the carry?")
    finding = (services.carry_finding(convention.name) if source == "shipped"
               else services.trained_carry_finding(model))
    render_carry_finding(finding, convention)
