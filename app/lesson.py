"""The lesson: eight chapters from "a network that adds" to "train your own" (pure: no streamlit).

A chapter is a short text, one thing to do on a live view of a real model, and one question whose
answer the app computes from that model. Texts that depend on the GRU convention are built from the
convention's own flags (gru_core.conventions, app/labels.py), so they stay true in every convention a
chapter allows; a question is a :class:`Question` built from recorded numbers, never written as a fact.
The page (app/views/lesson.py) draws the chapters; the tests recompute every answer from the models.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from gru_core import CONVENTIONS, Convention

from . import labels

WORDS_PER_MINUTE = 150          # reading aloud, for the lesson's reading check
MAX_CHAPTER_WORDS = 150         # a chapter's own text
STAGES = ("read", "do", "predict", "reveal")   # a chapter's steps, one per clicker press while presenting


@dataclass(frozen=True)
class Chapter:
    number: int          # 1-based: ?lesson=N opens it
    title: str
    todo: str            # the one thing to do on the live view
    conventions: tuple[str, ...] | None = None   # the conventions it lets a reader pick (None: no picker)


CHAPTERS = (
    Chapter(1, "A network that adds", "Step to a column where a carry comes in (← →, or the buttons) and "
               "read what the network writes there.", tuple(CONVENTIONS)),
    Chapter(2, "The update gate: keep the old state, or take the candidate",
            "Step through and watch the blend: where does h_t sit between h_{t-1} and h̃_t?", tuple(CONVENTIONS)),
    Chapter(3, "The reset gate: how much of the past the candidate sees",
            "Step to each marker and compare r there with the step before it; z, the update gate, is drawn "
            "above it."),
    Chapter(4, "Where is the carry?", "Find the row of h that is high (or low) exactly where the carry is 1.",
            tuple(CONVENTIONS)),
    Chapter(5, "Why gates: what reaches the past", "Hover over the curves to read how much gradient is left "
               "at each distance."),
    Chapter(6, "Stacking layers", "Step through the weeks and compare how the two layers' states move."),
    Chapter(7, "One GRU, three ways of writing it", "Step through: the z row is the cho2014 one read upside "
               "down, and h does not change."),
    Chapter(8, "Train your own", "Train an adder on the Train page, then come back and ask it the question."),
)
BY_NUMBER = {c.number: c for c in CHAPTERS}


@dataclass(frozen=True)
class Question:
    """A prediction the reader makes before the app reveals it. ``right`` holds every option that is
    correct (a carry can be spread over more than one unit); ``why`` is the reveal, with the numbers
    that decide it (``brief``: the same, shorter, for a projector, where the teacher says the rest);
    ``focus`` is the (step, unit) the live view turns to when the answer is revealed."""

    prompt: str
    options: tuple[str, ...]
    right: frozenset[int]
    why: str
    focus: tuple[int, int] | None = None
    brief: str | None = None

    def reveal(self, short: bool) -> str:
        return self.brief if short and self.brief else self.why

    def check(self, choice: int) -> bool:
        return choice in self.right


def words(text: str) -> int:
    """Words read aloud: what stands between spaces once markup is gone, if it holds a letter or digit
    (a number or a symbol such as h_{t-1} is one word; "=" or "→" is none)."""
    text = re.sub(r"<[^>]+>", " ", text)
    return len(re.findall(r"\S*\w\S*", text))


def reading_minutes(texts: list[str]) -> float:
    return sum(words(t) for t in texts) / WORDS_PER_MINUTE


def _num(v: float, digits: int = 3) -> str:
    return f"{v:.{digits}f}".replace("-", "−")


# -- chapter 1: a network that adds ------------------------------------------------------------------
def adds_text(hidden_size: int) -> str:
    return (
        "Adding two binary numbers on paper, you start at the right: add the two bits and the carry, write "
        "one bit, and carry the rest to the next column. This GRU does the same, one column per step. At step "
        "t it reads bit t of a and bit t of b, **least significant bit first**, and a readout turns its new "
        f"state h_t ({hidden_size} numbers) into the bit it writes. Nothing tells it the carry: the only place "
        "a carry can live is the state, handed from one step to the next. The rows below are a, b, the true "
        "sum and what the network wrote, one column per step.")


def carry_in(run) -> np.ndarray:
    """(T,) the true carry into each step of an addition run (0 into step 0)."""
    return np.concatenate([[0], run.carries[:-1]]).astype(int)


def bit_question(run) -> Question:
    """Which bit the network writes at the first step where 1 + 1 and a carry meet (or else the first
    step a carry comes in, or the middle step): read from the run's recorded output."""
    a, b, c = run.xs[:, 0].astype(int), run.xs[:, 1].astype(int), carry_in(run)
    candidates = [np.flatnonzero((a == 1) & (b == 1) & (c == 1)), np.flatnonzero(c == 1), [len(c) // 2]]
    k = int(next(iter(x for x in candidates if len(x))).__getitem__(0))
    total = a[k] + b[k] + c[k]
    wrote, truth = int(run.output[k]), int(run.target[k])
    verdict = ("That is the true sum bit: the network got this column right." if wrote == truth else
               f"The true sum bit is {truth}: the network gets this column wrong.")
    return Question(
        prompt=f"At step {k} the network reads a = {a[k]} and b = {b[k]}, and a carry of {c[k]} comes in from "
               f"step {k - 1 if k else 0}. Which bit will it write?",
        options=("0", "1"), right=frozenset({wrote}),
        why=f"It writes **{wrote}** (its readout is {_num(float(run.logits[k]), 2)}: above 0 means 1). "
            f"{a[k]} + {b[k]} + {c[k]} = {total}, which is {total % 2} carry {total // 2}. {verdict}",
        focus=(k, 0))


# -- chapter 2: the update gate ------------------------------------------------------------------------
def update_text(convention: Convention) -> str:
    keep = "1" if convention.z_keeps_old else "0"
    return (
        "At every step a GRU makes a candidate h̃_t, a proposal for the new state, and an update gate z_t "
        "decides how much of it to take. The new state is a blend: h_t lies on the line from the old state "
        f"h_{{t-1}} to the candidate h̃_t, and in the {convention.name} convention {labels.blend_sentence(convention)}, "
        f"so z near {keep} keeps the old state. This one-unit GRU was set by hand to remember the first number "
        "it reads: a start flag on the first step opens the gate, and after that the gate shuts and the state "
        "holds whatever arrives.")


def update_question(lt, convention: Convention, step: int) -> Question:
    """Whether h at ``step`` of unit 0 stays near h_{t-1} or moves to h̃_t, from the recorded numbers."""
    t, j = step, 0
    old, cand, new, z = (float(a[t, j]) for a in (lt.h_prev, lt.h_tilde, lt.h, lt.z))
    stays = abs(new - old) <= abs(new - cand)
    w = z if convention.z_keeps_old else 1 - z     # the weight on h_{t-1}, per labels.old_state_weight_symbol
    sym = labels.old_state_weight_symbol(convention)
    return Question(
        prompt=f"At step {t} the input is {_num(float(lt.x[t, 0]), 2)}, the candidate is h̃_{{{t}}} = {_num(cand)} "
               f"and the old state is h_{{{t - 1}}} = {_num(old)}. Where will h_{{{t}}} be?",
        options=(f"near the old state, {_num(old)}", f"near the candidate, {_num(cand)}"),
        right=frozenset({0 if stays else 1}),
        why=f"z = {_num(z)} here, so h_{{{t}}} = {_num(w)} × h_{{{t - 1}}} + {_num(1 - w)} × h̃_{{{t}}} "
            f"= **{_num(new)}** "
            f"(the weight on h_{{t-1}} is {sym} in the {convention.name} convention): "
            + ("the gate keeps the old state." if stays else "the gate takes the candidate."),
        focus=(t, j))


# -- chapter 3: the reset gate -------------------------------------------------------------------------
def reset_text(convention: Convention) -> str:
    return (
        "The reset gate r_t works inside the candidate. The candidate h̃_t is tanh of a part from this step's "
        "input plus a part from the old state, and in the "
        f"{convention.name} convention r {labels.reset_effect(convention)}. Think of a book review that opens "
        "with a plot summary and ends with a verdict: to judge the verdict, the summary must be forgotten. "
        "This small GRU was trained on a task like that. It reads numbers; a marker starts a new part; its "
        "answer, read from its last state, is the sum of the last part alone. Nobody told it how to forget: "
        "watch r at each marker, and the update gate beside it.")


RESET_OPTIONS = ("lower than at the step before", "about the same", "higher than at the step before")


def reset_question(example) -> Question:
    """How the found unit's r changes at the example's last marker, read from its recorded pass; the
    reveal adds the finding's means over the sequence (gru_core.tasks.last_part.reset_finding)."""
    f, lt, m = example.finding, example.trace.last, example.last_marker
    u = f.unit
    before, at = float(lt.r[m - 1, u]), float(lt.r[m, u])
    change = 0 if at < 0.8 * before else 2 if at > 1.25 * before else 1
    takes = f.old_weight_at_markers[u] < 0.5
    past = f.past_at_markers[u] / f.past_elsewhere[u] if f.past_elsewhere[u] > 0 else float("nan")
    return Question(
        prompt=f"A marker comes at step {m}. What will unit {u}'s reset gate r do there?",
        options=RESET_OPTIONS, right=frozenset({change}),
        why=f"Unit {u}'s r is {_num(before)} at step {m - 1} and **{_num(at)}** at the marker. Over this "
            f"sequence it averages {_num(f.r_at_markers[u])} at the markers and {_num(f.r_elsewhere[u])} "
            f"elsewhere, and what reaches its candidate from the old state is {past:.2f} times as large at "
            f"the markers as elsewhere. Its update gate weighs the old state {_num(f.old_weight_at_markers[u])} "
            f"at the markers ({_num(f.old_weight_elsewhere[u])} elsewhere)"
            + (": there the new state is mostly the candidate, and the candidate barely sees the past."
               if takes and past < 0.5 else "."),
        focus=(m, u))


# -- chapter 4: where is the carry? --------------------------------------------------------------------
def carry_text(finding) -> str:
    return (
        "Back to the adder. Its bit at each step depends on the carry from the step before, and the state "
        "is the only way for the carry to get there. So the state of some unit should rise and fall with "
        "the carry. The heatmap of h below has one row per unit and one column per step; the sentence under "
        "the bit rows gives the carry into and out of each step. Look for a row that follows the carry, then "
        f"name your unit: the app compares every unit's h_t with the true carry over {finding.sample.describe()} "
        "and says which follow it most closely.")


def carry_question(finding, hidden_size: int, convention: Convention) -> Question:
    units = [u.unit for u in finding.units]
    corr = ", ".join(f"{u.correlation:+.3f}" for u in finding.units)
    return Question(
        prompt="Which unit holds the carry?",
        options=tuple(str(j) for j in range(hidden_size)), right=frozenset(units),
        why=labels.carry_finding_text(finding, convention),
        brief=f"Unit{'s' if len(units) > 1 else ''} {' and '.join(map(str, units))}: the h_t that follow the "
              f"true carry most closely over {finding.sample.describe()} (correlation {corr}).",
        focus=(0, units[0]))


# -- chapter 5: why gates -------------------------------------------------------------------------------
GRADIENT_TEXT = (
    "Training moves every weight along a gradient: how the answer would change if that weight, or a state "
    "many steps back, changed a little. By the chain rule the gradient that reaches a state d steps back "
    "is a product of d factors, one per step. In a plain RNN every factor goes through tanh and the same "
    "matrix, and such a product can shrink towards zero: what lies far back then barely moves the weights. "
    "A GRU has another path: its update gate can copy h_{t-1} into h_t, and the gradient flows back "
    "along that copy; an LSTM's forget gate does the same for its cell state. The curves are measured "
    "exactly on three networks of about 1,000 parameters trained on the adding problem: the answer is the "
    "sum of two marked numbers, the first near the start.")


def gradient_question(reach: dict, names: dict[str, str], distance: int) -> Question:
    """Which trained cell keeps the least gradient at ``distance`` steps back (the first marked number)."""
    cells = list(reach)
    left = {c: float(reach[c].state[distance]) for c in cells}
    least = cells[int(np.argmin([left[c] for c in cells]))]
    return Question(
        prompt=f"The first marked number is {distance} steps before the answer. Which network's answer is "
               "least sensitive to it (the least gradient reaches it)?",
        options=tuple(names[c] for c in cells), right=frozenset({cells.index(least)}),
        why="Gradient reaching the first marked number, ‖∂y/∂s‖: " + "; ".join(
            f"{names[c]} {left[c]:.2e}" for c in cells) + f". The least is the **{names[least]}**'s.")


# -- chapter 6: stacking layers ---------------------------------------------------------------------------
def movement(trace) -> list[float]:
    """Per layer: the mean size of the change of a unit's state from one step to the next, |h_t − h_{t-1}|."""
    return [float(np.mean(np.abs(lt.h - lt.h_prev))) for lt in trace.layers]


def stacking_question(trace) -> Question:
    moved = movement(trace)
    calmer = int(np.argmin(moved))
    return Question(
        prompt="Which layer's state moves less from one week to the next, on average?",
        options=tuple(f"layer {k}" for k in range(len(moved))), right=frozenset({calmer}),
        why="Mean |h_t − h_{t-1}| over the window's steps and units: " + "; ".join(
            f"layer {k} {_num(m, 4)}" for k, m in enumerate(moved)) + f". Layer {calmer} moves less.")


# -- chapter 7: the conventions -------------------------------------------------------------------------
def conventions_text() -> str:
    keeps = [c.name for c in CONVENTIONS.values() if c.z_keeps_old]
    takes = [c.name for c in CONVENTIONS.values() if not c.z_keeps_old]
    after = [c.name for c in CONVENTIONS.values() if c.reset_after_matmul]
    before = [c.name for c in CONVENTIONS.values() if not c.reset_after_matmul]
    return (
        f"Papers and libraries write the GRU in three ways. In {' and '.join(keeps)}, z near 1 keeps the old "
        f"state; in {' and '.join(takes)}, z near 1 takes the candidate. In {' and '.join(after)} the reset "
        f"gate acts after the old state is multiplied by its weights, in {' and '.join(before)} before: that "
        "changes what the network computes, so a network trained one way is a different network when its "
        "numbers are read the other way. The z flip is not like that: negate the update gate's weights and "
        "biases and σ(−a) = 1 − σ(a), so z becomes 1 − z and h stays the same at every step. Below, the "
        "shipped cho2014 adder, written in chung2014.")


def undecided(z: np.ndarray) -> tuple[int, int]:
    """(step, unit) where a gate (T, H) is furthest from both 0 and 1: the least obvious value to flip."""
    t, u = np.unravel_index(int(np.argmax(np.minimum(z, 1 - z))), z.shape)
    return int(t), int(u)


def flip_question(lt_from, lt_to, step: int, unit: int, from_name: str, to_name: str) -> Question:
    """What the same network's z reads after the flip, from the two recorded runs."""
    z_from, z_to = float(lt_from.z[step, unit]), float(lt_to.z[step, unit])
    options = (_num(z_from), _num(1 - z_from), "something else: it is a different network now")
    close = [k for k, v in enumerate((z_from, 1 - z_from)) if abs(v - z_to) < 1e-9]
    h_gap = float(np.max(np.abs(lt_from.h - lt_to.h)))
    return Question(
        prompt=f"In {from_name}, unit {unit}'s z at step {step} is {_num(z_from)}. Written in {to_name}, what "
               "is that z?",
        options=options, right=frozenset(close or [2]),
        why=f"In {to_name} it is **{_num(z_to)}**. Over the whole run the largest difference between the two "
            f"networks' h is {h_gap:.1e}: the same computation, the gate read the other way round.",
        focus=(step, unit))


# -- chapter 8: train your own ---------------------------------------------------------------------------
TRAIN_TEXT = (
    "Every network so far was trained before you came. On the Train page you train a bit adder yourself, "
    "in this browser tab: choose how many units it has, how fast it learns and for how long, and watch the "
    "loss fall and the exact sums rise as it learns. Then come back to this chapter: its question is asked "
    "of the model you trained (until then, of the shipped adder). A long carry is the hard case: adding 1 "
    "to a number whose bits are all 1 carries through every column.")


def long_carry_question(run, whose: str) -> Question:
    k = len(run.target) - 1
    return Question(
        prompt=f"Will {whose} add {run.a:,} + {run.b:,} correctly? The carry has to travel through all {k} "
               "columns.",
        options=("yes", "no"), right=frozenset({0 if run.correct else 1}),
        why=f"It answers **{run.result:,}**; the true sum is {run.a + run.b:,}. "
            + ("The carry survived every step." if run.correct else
               "Somewhere along the way the carry was lost."),
        focus=(int(np.flatnonzero(run.output != run.target)[0]) if not run.correct else k, 0))
