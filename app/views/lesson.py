"""The lesson: eight chapters, each a short text, a live view of a real model and a question whose
answer the app computes from that model (the texts and questions: app/lesson.py).

Progress (which chapters were answered, and how) lives in the tab and in the link (?lesson=N&answers=…),
so a lesson can be resumed from a link and a teacher can open any chapter. While presenting, a chapter
shows one of its steps at a time (read, do, predict, reveal) and a clicker's Page Down / Page Up move
through them and on to the next chapter; ← → still step the live view.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

import streamlit as st

from app import cell_views, figures, labels, limits, presets, services, session, step_texts, step_view, ui
from app import gradient_figures as gf
from app import lesson as L
from app.sequences import parse_rows
from gru_core import CONVENTIONS, GRU, Convention, registry
from gru_core.tasks import bit_addition as ba

PAGE = "les"
EXAMPLE = (limits.DEFAULT_A, limits.DEFAULT_B)   # the bit page's default: a carry out of all six columns
CARRY_EXAMPLE = (44, 45)   # carries that come and go (out of steps 2, 3 and 5): rows that follow them stand out
LONG_CARRY = ((1 << 32) - 1, 1)   # all ones plus one: the carry travels through every column
UPDATE_PRESET, UPDATE_STEP, FLAG = "Remember the first input", 5, 1   # FLAG: the start flag's input column
WHY_LENGTH = 50


@dataclass
class Live:
    """One chapter set up: its text, its live view (drawn by ``draw``) and its question."""

    text: str
    draw: Callable[[], None]
    question: L.Question
    note: str = ""          # under the view: where the model comes from
    about: str = ""         # which model the question is about: an answer given about another is not judged


def show(n: int, key: tuple, view: cell_views.CellView, *parts: str, top=None, sentence=None) -> None:
    """Chapter ``n``'s step view: only ``parts`` of it, compact while presenting (it shares a projector's
    screen with the chapter's words), and Page Up / Page Down left to the lesson's own steps."""
    step_view.show(f"les{n}", key, view, parts=frozenset(parts), top=top, sentence=sentence, clicker=False,
                   compact=ui.presenting())


def bits(run: ba.AdditionRun, written: bool = True):
    """The bit rows above an adder's view (a function: built only when the view's message is); without
    the network's row while the reader is still to predict a bit of it."""
    return lambda: figures.bit_rows(run.xs, run.target, run.output if written else None, None,
                                    font_size=ui.font_size(), compact=ui.presenting())


def focus(n: int, question: L.Question, revealed: bool) -> None:
    """Open chapter ``n``'s live view where the answer shows, once it is revealed."""
    t, unit = question.focus if (revealed and question.focus) else (0, 0)
    session.put(f"les{n}_t", t)
    session.put(f"les{n}_unit", unit)


def only(view: cell_views.CellView, *keys: str) -> cell_views.CellView:
    """A view with only some of its heatmaps (a lesson's view fits a projector)."""
    return dataclasses.replace(view, panels=tuple(p for p in view.panels if p.key in keys))


# -- the chapters: each sets up its model, its view and its question ---------------------------------
def adds(n: int, convention: Convention, revealed: bool) -> Live:
    model = services.bit_adder(convention.name)
    run = services.addition(convention.name, *EXAMPLE)
    view = cell_views.gru_view(run.trace.last, convention)

    def draw() -> None:   # what the network writes stays hidden until the reader has predicted it
        show(n, step_view.fingerprint(model.cell, run.xs, "adds", revealed), view, "top", top=bits(run, revealed),
             sentence=lambda: step_texts.addition(run, written=revealed))
    answer = f": it answers {run.result:,} ({'right' if run.correct else 'wrong'})" if revealed else ""
    return Live(L.adds_text(model.cell.hidden_size), draw, L.bit_question(run),
                f"{run.a} + {run.b}, added by the shipped adder (the {convention.name} convention){answer}.",
                about=convention.name)


def update_gate(n: int, convention: Convention, revealed: bool) -> Live:
    preset = presets.PRESETS[UPDATE_PRESET]
    xs = parse_rows(preset.inputs, len(preset.features)).xs
    gru = GRU.from_arrays([preset.params(convention)], convention)
    lt = gru.run(xs).last
    view = only(cell_views.gru_view(lt, convention), "z")

    def draw() -> None:
        parts = ("blend",) if ui.presenting() else ("heatmaps", "blend")   # the blend alone fits beside the words
        show(n, step_view.fingerprint(gru, xs, "update"), view, *parts)
    flagged = xs.copy()
    flagged[UPDATE_STEP, FLAG] = 1.0    # the question's "what if": the same GRU, run on the changed inputs
    question = L.flag_question(lt, gru.run(flagged).last, convention, UPDATE_STEP)
    return Live(L.update_text(convention, float(lt.h[0, 0])), draw, question,
                f"The Parameter lab's preset “{preset.name}”: {labels.md(preset.describe(convention))}",
                about=convention.name)


def reset_gate(n: int, convention: Convention, revealed: bool) -> Live:
    del convention, revealed   # the trained model computes its own convention; nothing to hide
    model = services.shipped_model(registry.LAST_PART.name)
    ex = services.last_part_example()
    view = only(cell_views.gru_view(ex.trace.last, model.cell.convention), "r", "z")

    def draw() -> None:
        show(n, step_view.fingerprint(model.cell, ex.xs, "reset"), view, "top", "heatmaps",
             top=lambda: figures.inputs(ex.xs, None, feature_labels=["value", "marker"], font_size=ui.font_size(),
                                        compact=ui.presenting()))
    return Live(L.reset_text(model.cell.convention), draw, L.reset_question(ex),
                f"A GRU of {model.cell.hidden_size} units trained on this task "
                f"(`{registry.LAST_PART.command}`). "
                f"On the sequence shown the last part sums to {ex.truth:.2f}; it answers {ex.answer:.2f}.")


def carry(n: int, convention: Convention, revealed: bool) -> Live:
    del revealed
    model = services.bit_adder(convention.name)
    run = services.addition(convention.name, *CARRY_EXAMPLE)
    finding = services.carry_finding(convention.name)
    view = only(cell_views.gru_view(run.trace.last, convention), "h")

    def draw() -> None:
        show(n, step_view.fingerprint(model.cell, run.xs, "carry"), view, "top", "heatmaps", top=bits(run),
             sentence=lambda: step_texts.addition(run))
    return Live(L.carry_text(finding), draw, L.carry_question(finding, model.cell.hidden_size),
                f"The shipped adder in the {convention.name} convention, on {run.a} + {run.b}.", about=convention.name)


def why_gates(n: int, convention: Convention, revealed: bool) -> Live:
    del convention, revealed   # the shipped networks compute their own
    trained = {c: services.adding_reach(c, WHY_LENGTH, True) for c in registry.ADDING_CELLS}
    distance = gf.first_mark_distance(services.adding_example(WHY_LENGTH))

    def draw() -> None:
        step_view.figure("les_gradients", gf.reach_figure(gf.cell_curves(trained, None, "gru"), marker=distance,
                                                          font_size=ui.font_size()))
    models = [services.adding_model(c, WHY_LENGTH) for c in registry.ADDING_CELLS]
    parameters = [m.cell.parameter_count + m.readout.weight.size + m.readout.bias.size for m in models]
    return Live(L.gradient_text(parameters), draw, L.gradient_question(trained, gf.NAMES, distance),
                f"The shipped networks for sequences of {WHY_LENGTH} numbers; the “Why gates?” page has the rest.")


def stacking(n: int, convention: Convention, revealed: bool) -> Live:
    del convention, revealed
    model = services.shipped_model(registry.FORECAST.name)
    xs, window = services.held_out_window()
    trace = services.run_sequence(model.cell, xs)
    view = cell_views.layers_view(trace, model.cell.convention)

    def draw() -> None:
        show(n, step_view.fingerprint(model.cell, xs, "stack"), view, "heatmaps")
    forecast = float(model.readout.outputs(trace, last_step=True)[0])
    text = (labels.stacking_text(model.cell, 0, per_step_readout=False) + " Below, each layer's state on one "
            "window of weekly prices: one row per unit, one column per week.")
    return Live(text, draw, L.stacking_question(trace),
                f"The stock forecaster (seed 001; the “Your sequence” page has it too) on {window}: it "
                f"forecasts {forecast:+.2%} for the next week.")


def conventions(n: int, convention: Convention, revealed: bool) -> Live:
    del revealed
    source, flipped = CONVENTIONS["cho2014"], CONVENTIONS["chung2014"]   # one network, its z read both ways
    run_from, run_to = (services.addition(c.name, *EXAMPLE) for c in (source, flipped))
    shown = services.addition(convention.name, *EXAMPLE)
    model = services.bit_adder(convention.name)
    step, unit = L.telling(run_from.trace.last.z)
    view = only(cell_views.gru_view(shown.trace.last, convention), "z", "h")

    def draw() -> None:
        show(n, step_view.fingerprint(model.cell, shown.xs, "flip"), view, "heatmaps")
    return Live(L.conventions_text(), draw,
                L.flip_question(run_from.trace.last, run_to.trace.last, step, unit, source.name, flipped.name),
                f"The shipped cho2014 adder on {EXAMPLE[0]} + {EXAMPLE[1]}, written in {convention.name}.")


def train_your_own(n: int, convention: Convention, revealed: bool) -> Live:
    del convention
    trained = session.get("app_trained")
    model, whose = (trained, "the model you trained") if trained is not None else (
        services.bit_adder("pytorch"), "the shipped adder")
    run = ba.run_addition(model, *LONG_CARRY)

    def draw() -> None:
        st.page_link("views/train.py", label="Open the Train page", icon=":material/model_training:")
        key = step_view.fingerprint(model.cell, run.xs, "long", model.readout.weight.tobytes(),   # the bits written
                                    model.readout.bias.tobytes())
        show(n, (*key, revealed), cell_views.gru_view(run.trace.last, model.cell.convention), "top",
             top=bits(run, revealed), sentence=lambda: step_texts.addition(run, written=revealed))
    return Live(L.TRAIN_TEXT, draw, L.long_carry_question(run, whose),
                f"Asked of {whose} ({model.cell.hidden_size} units, the {model.cell.convention.name} convention).",
                about=f"{whose} {model.cell.fingerprint()}")


SETUP = {1: adds, 2: update_gate, 3: reset_gate, 4: carry, 5: why_gates, 6: stacking, 7: conventions,
         8: train_your_own}




# -- progress, navigation, the question -----------------------------------------------------------------
def answers() -> dict[int, int]:
    return dict(session.get("les_answers"))


def go(chapter: int, stage: int = 0) -> None:
    chapter = min(max(chapter, 1), len(L.CHAPTERS))
    session.put("les_chapter", chapter)
    session.put("les_stage", stage)


def step(delta: int) -> None:
    """One clicker press: the chapter's next (previous) step, past its last into the next chapter."""
    n, s = int(session.get("les_chapter")), int(session.get("les_stage"))
    s += delta
    if s >= len(L.STAGES):
        if n < len(L.CHAPTERS):
            go(n + 1)
    elif s < 0:
        if n > 1:
            go(n - 1, len(L.STAGES) - 1)
    else:
        session.put("les_stage", s)


def check(n: int, about: tuple[str, str]) -> None:
    """Keep the reader's answer to chapter ``n``, and which model it was about: (convention, model)."""
    choice = session.get(f"les_q{n}")
    if choice is not None:
        session.put("les_answers", {**answers(), n: int(choice)})
        session.put("les_about", {**session.get("les_about"), n: about})


def retry(n: int) -> None:
    rest, about = answers(), dict(session.get("les_about"))
    rest.pop(n, None)
    about.pop(n, None)
    session.put("les_answers", rest)
    session.put("les_about", about)
    session.put(f"les_q{n}", None)


def progress_line(results: dict[int, bool]) -> str:
    right = sum(results.values())
    return (f"{len(results)} of {len(L.CHAPTERS)} chapters answered, {right} right" if results
            else f"{len(L.CHAPTERS)} chapters; none answered yet")


def ask(n: int, q: L.Question, about: tuple[str, str]) -> None:
    """The question, and the reader's answer checked against the model's."""
    st.markdown(f"**Predict:** {labels.md(q.prompt)}")
    st.radio("Your answer", range(len(q.options)), format_func=lambda k: q.options[k], index=None, horizontal=True,
             key=session.widget(f"les_q{n}"), label_visibility="collapsed")
    st.button("Check my answer", key=session.element("les_check"), on_click=check, args=(n, about),
              icon=":material/check:")


def reveal(n: int, q: L.Question, chosen: int | None) -> None:
    why = q.reveal(short=ui.presenting())
    if chosen is None:
        st.info(labels.md(f"**The answer:** {' or '.join(q.options[k] for k in sorted(q.right))}. {why}"),
                icon=":material/visibility:")
        return
    right = q.check(chosen)
    head = "Right." if right else f"Not quite: you said {q.options[chosen] if chosen < len(q.options) else '?'}."
    (st.success if right else st.warning)(labels.md(f"**{head}** {why}"),
                                         icon=":material/check_circle:" if right else ":material/lightbulb:")
    if not ui.presenting():
        st.button("Answer again", key=session.element("les_retry"), on_click=retry, args=(n,),
                  icon=":material/replay:")


def navigation(n: int) -> None:
    presenting = ui.presenting()
    c1, c2, c3 = st.columns([1.4, 3.2, 1.4], vertical_alignment="bottom")
    if presenting:   # a clicker: Page Up / Page Down move through the chapter's steps, then on
        c1.button("Back", key=session.element("les_back"), on_click=step, args=(-1,), shortcut="PageUp",
                  icon=":material/arrow_back:", width="stretch", disabled=n == 1 and session.get("les_stage") == 0)
        c3.button("Next", key=session.element("les_next"), on_click=step, args=(1,), shortcut="PageDown",
                  icon=":material/arrow_forward:", width="stretch",
                  disabled=n == len(L.CHAPTERS) and session.get("les_stage") == len(L.STAGES) - 1)
        c2.caption(f"Chapter {n} of {len(L.CHAPTERS)} · {L.STAGES[int(session.get('les_stage'))]} "
                   "(Page Down / Page Up)")
    else:
        c1.button("Previous chapter", key=session.element("les_back"), on_click=go, args=(n - 1,),
                  icon=":material/arrow_back:", width="stretch", disabled=n == 1)
        c3.button("Next chapter", key=session.element("les_next"), on_click=go, args=(n + 1,),
                  icon=":material/arrow_forward:", width="stretch", disabled=n == len(L.CHAPTERS))


def results_of(done: dict[int, int]) -> dict[int, bool]:
    """Whether each answer is right, computed from the chapter's model (a link only says what was chosen;
    the page judges it), in the convention it was given in; an answer about a model the tab no longer
    shows (a newer training) is not counted."""
    out, about = {}, session.get("les_about")
    for c, choice in done.items():
        given = about.get(c)
        convention = CONVENTIONS[given[0]] if given else chapter_convention(L.BY_NUMBER[c])
        try:
            live = SETUP[c](c, convention, True)
        except Exception:  # noqa: BLE001 — a chapter that cannot be set up just is not counted
            ui.log.exception("lesson: could not judge chapter %s", c)
            continue
        if given is None or given[1] == live.about:
            out[c] = live.question.check(choice)
    return out


def chapter_convention(chapter: L.Chapter) -> Convention:
    """The convention the chapter shows: the picked one, if the chapter offers it, else its first."""
    name = session.get("les_conv")
    if chapter.conventions:
        return CONVENTIONS[name if name in chapter.conventions else chapter.conventions[0]]
    return CONVENTIONS["pytorch"]


# -- the page -----------------------------------------------------------------------------------------
ui.show_messages(session.read_link(PAGE))
session.put("app_welcomed", True)   # the first page need not offer the lesson again
n = min(max(int(session.get("les_chapter") or 1), 1), len(L.CHAPTERS))
chapter = L.BY_NUMBER[n]
done = answers()
presenting = ui.presenting()
stage = int(session.get("les_stage")) if presenting else len(L.STAGES) - 1

if not presenting:
    st.title("The lesson")
    results = results_of(done)
    st.progress(len(results) / len(L.CHAPTERS), text=progress_line(results))
    st.selectbox("Chapter", [c.number for c in L.CHAPTERS], key=session.widget("les_chapter"),
                 format_func=lambda k: f"{k} · {L.BY_NUMBER[k].title}"
                 + {True: "  ✓", False: "  ✗", None: ""}[results.get(k)],
                 on_change=session.put, args=("les_stage", 0))
st.header(f"{n} · {chapter.title}", anchor=False)
chosen = done.get(n)
given = session.get("les_about").get(n)
if chosen is not None and given is not None and given[0] in (chapter.conventions or ()):
    session.put("les_conv", given[0])   # an answered chapter comes back in the convention it was answered in
convention = chapter_convention(chapter)
if chapter.conventions and not presenting:   # another convention is another network: a new question
    convention = ui.convention_picker("les_conv", chapter.conventions, on_change=retry, args=(n,))
revealed = chosen is not None or (presenting and stage == L.STAGES.index("reveal"))
live = SETUP[n](n, convention, revealed)
if chosen is not None and given is not None and given[1] != live.about:
    retry(n)
    chosen = None
    revealed = presenting and stage == L.STAGES.index("reveal")
    live = SETUP[n](n, convention, revealed)
about = (convention.name, live.about)
focus(n, live.question, revealed)


def draw(live: Live) -> None:
    with ui.guarded("drawing this chapter's view"):
        live.draw()


if presenting:   # one step of the chapter at a time, each fitting a projector's screen
    now = L.STAGES[stage]
    if now == "read":
        st.markdown(labels.md(live.text))
        st.markdown(labels.md(f"**Do:** {chapter.todo}"))
    elif now == "do":
        draw(live)
    elif now == "predict":
        if chosen is None:
            ask(n, live.question, about)
        else:
            st.markdown(f"**Predict:** {labels.md(live.question.prompt)}")
    else:
        words, view = st.columns([1, 2.3])   # wide enough for the view's controls on one row
        with words:
            st.markdown(f"**Predict:** {labels.md(live.question.prompt)}")
            reveal(n, live.question, chosen)
        with view:
            draw(live)
else:
    st.markdown(labels.md(live.text))
    st.markdown(labels.md(f"**Do:** {chapter.todo}"))
    draw(live)
    st.caption(labels.md(live.note))
    if chosen is None:
        ask(n, live.question, about)
    else:
        st.markdown(f"**Predict:** {labels.md(live.question.prompt)}")
        reveal(n, live.question, chosen)
navigation(n)
link = session.link_values(PAGE, les_chapter=n, les_answers=done)
if not done:
    del link["answers"]
session.write_link(link, drop_params=() if done else ("answers",))
