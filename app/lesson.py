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
from .gradient_figures import num as gf_num

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
    Chapter(4, "Where is the carry?", "Find the row of h that is high (or low) exactly where the carry out of "
            "the step is 1 (the sentence under the bits says it).", tuple(CONVENTIONS)),
    Chapter(5, "Why gates: what reaches the past", "Hover over the curves to read how much gradient is left "
               "at each distance."),
    Chapter(6, "Stacking layers", "Step through the weeks and compare how the two layers' states move."),
    Chapter(7, "One GRU, three ways of writing it", "Switch between cho2014 and chung2014: every z becomes "
               "1 − z (dark ↔ light), and the heatmap of h does not change.", ("cho2014", "chung2014")),
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
        "a carry can live is the state, handed from one step to the next. The rows below are a, b and the "
        "true sum, one column per step; what the network writes is shown once you have predicted it.")


def bit_question(run) -> Question:
    """Which bit the network writes at the first step where 1 + 1 and a carry meet (or else the first
    step a carry comes in, or the middle step): read from the run's recorded output."""
    a, b, c = run.xs[:, 0].astype(int), run.xs[:, 1].astype(int), run.carry_in.astype(int)
    candidates = [np.flatnonzero((a == 1) & (b == 1) & (c == 1)), np.flatnonzero(c == 1), [len(c) // 2]]
    k = next(int(x[0]) for x in candidates if len(x))
    total = a[k] + b[k] + c[k]
    wrote, truth = int(run.output[k]), int(run.target[k])
    verdict = ("That is the true sum bit: the network got this column right." if wrote == truth else
               f"The true sum bit is {truth}: the network gets this column wrong.")
    return Question(
        prompt=f"At step {k} the network reads a = {a[k]} and b = {b[k]}, and a carry of {c[k]} comes in from "
               f"step {k - 1 if k else 0}. Which bit will it write?",
        options=("0", "1"), right=frozenset({wrote}),
        why=f"It writes **{wrote}** (its readout is {_num(float(run.logits[k]), 2)}: above 0 means 1). "
            f"{a[k]} + {b[k]} + {c[k]} = {total}: write {total % 2}, carry {total // 2}. {verdict}",
        focus=(k, 0))


# -- chapter 2: the update gate ------------------------------------------------------------------------
def update_text(convention: Convention, kept: float) -> str:
    """``kept``: the state the one-unit GRU holds after the first step (read from its run)."""
    keep = "1" if convention.z_keeps_old else "0"
    return (
        "At every step a GRU makes a candidate h̃_t, a proposal for the new state, and an update gate z_t "
        "decides how much of it to take. The new state is a blend, unit by unit: each unit of h_t lies "
        "between its old value in h_{t-1} and its candidate's value in h̃_t, and in the "
        f"{convention.name} convention {labels.blend_sentence(convention)}, so z near {keep} keeps the old "
        "state. This one-unit GRU was set by hand to remember the first number it reads: a start flag on the "
        "first step opens the gate, and after that the gate shuts and the state keeps what it took in at "
        f"the first step ({_num(kept)} here), whatever arrives next.")


def flag_question(lt, flagged, convention: Convention, step: int) -> Question:
    """A prediction the view cannot answer: if the start flag came again at ``step``, where would h be?
    ``lt`` is the run shown, ``flagged`` the same GRU's run with the flag set at ``step`` too (both
    recorded by gru_core); whether h stays near h_{t-1} or moves to h̃_t is read from ``flagged``."""
    t, j = step, 0
    old, cand = float(lt.h_prev[t, j]), float(lt.h_tilde[t, j])
    new, z = float(flagged.h[t, j]), float(flagged.z[t, j])
    stays = abs(new - float(flagged.h_prev[t, j])) <= abs(new - float(flagged.h_tilde[t, j]))
    w = z if convention.z_keeps_old else 1 - z     # the weight on h_{t-1}, per labels.old_state_weight_symbol
    sym = labels.old_state_weight_symbol(convention)
    return Question(
        prompt=f"At step {t} the old state is h_{{{t - 1}}} = {_num(old)} and the candidate is h̃_{{{t}}} = "
               f"{_num(cand)}; the gate keeps the old state. If step {t} carried the start flag too, where "
               f"would h_{{{t}}} be?",
        options=(f"near the old state, {_num(old)}", f"near the candidate, {_num(cand)}"),
        right=frozenset({0 if stays else 1}),
        why=f"Run again with the flag at step {t} as well: z = {_num(z)} there, so h_{{{t}}} = {_num(w)} × "
            f"h_{{{t - 1}}} + {_num(1 - w)} × h̃_{{{t}}} = **{_num(new)}** (the weight on the old state is {sym} in "
            f"the {convention.name} convention): "
            + ("the gate still keeps the old state." if stays else
               "the flag opens the gate again, and the state takes the candidate.") +
            " At step 0 you can see the same thing happen.",
        focus=(0, j))


# -- chapter 3: the reset gate -------------------------------------------------------------------------
def reset_text(convention: Convention) -> str:
    return (
        "The reset gate r_t works inside the candidate. The candidate h̃_t is tanh of a part from this step's "
        "input plus a part from the old state, and in the "
        f"{convention.name} convention r {labels.reset_effect(convention)}. Think of a book review that opens "
        "with a plot summary and ends with a verdict: to judge the verdict, the summary must be forgotten. "
        "This small GRU was trained on a task like that. It reads numbers; a marker starts a new part; its "
        "answer, read from its last state, is the sum of the last part alone. Nobody told it how to forget: "
        "watch r at each marker, and the update gate above it.")


RESET_OPTIONS = ("lower than at the step before", "about the same", "higher than at the step before")


def reset_question(example) -> Question:
    """How the found unit's r changes at the example's last marker, read from its recorded pass; the
    reveal adds the finding's means over the sequence (gru_core.tasks.last_part.reset_finding)."""
    f, lt, m = example.finding, example.trace.last, example.last_marker
    u = f.unit
    before, at = float(lt.r[m - 1, u]), float(lt.r[m, u])
    change = 0 if at < 0.8 * before else 2 if at > 1.25 * before else 1
    past = f.past_at_markers[u] / f.past_elsewhere[u] if f.past_elsewhere[u] > 0 else float("nan")
    return Question(
        prompt=f"A marker comes at step {m}. What will unit {u}'s reset gate r do there?",
        options=RESET_OPTIONS, right=frozenset({change}),
        why=f"Unit {u}'s r is {_num(before)} at step {m - 1} and **{_num(at)}** at the marker. Over this "
            f"sequence it averages {_num(f.r_at_markers[u])} at the markers and {_num(f.r_elsewhere[u])} "
            f"elsewhere, and what reaches its candidate from the old state is {past:.2f} times as large at "
            f"the markers as elsewhere. Its update gate weighs the old state {_num(f.old_weight_at_markers[u])} "
            f"at the markers ({_num(f.old_weight_elsewhere[u])} elsewhere).",
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


CARRY_CLOSE = 0.05   # a unit within this of the best |correlation| follows the carry as visibly as the best


def carry_question(finding, hidden_size: int) -> Question:
    """Which unit follows the carry: every unit whose |correlation| with the carry is within CARRY_CLOSE
    of the best one's counts (by eye they cannot be told apart); the reveal names them with their numbers."""
    corr = np.asarray(finding.correlation)
    close = np.flatnonzero(np.abs(corr) >= np.abs(corr).max() - CARRY_CLOSE)
    close = close[np.argsort(-np.abs(corr[close]))]
    best = int(close[0])
    said = ", ".join(f"unit {j} ({_num(float(corr[j]))})" for j in close)
    return Question(
        prompt="Which unit holds the carry? Name one whose h follows the carry out of each step.",
        options=tuple(str(j) for j in range(hidden_size)), right=frozenset(int(j) for j in close),
        why=f"Over {finding.sample.describe()}, each unit's h_t was compared with the true carry out of step t. "
            f"The closest: {said} (correlations; a negative one follows the carry upside down). Any unit "
            f"within {CARRY_CLOSE} of the best counts: by eye they cannot be told apart.",
        focus=(0, best))


# -- chapter 5: why gates -------------------------------------------------------------------------------
def gradient_text(parameters: list[int]) -> str:
    """``parameters``: each network's count, cell and readout (read from the models shown)."""
    return (
        "A gradient says how much the answer would change if a weight, or a state many steps back, "
        "changed a little; training follows the loss's gradient through it. By the chain rule the "
        "gradient that reaches a state d steps back is a product with one factor per step in between. In "
        "a plain RNN every factor goes through tanh and the same matrix, and such a product can shrink "
        "towards zero: what lies far back then barely moves the weights. A GRU has another path: its "
        "update gate can copy h_{t-1} into h_t, and the gradient flows back along that copy; an LSTM's "
        "forget gate does the same for its cell state. The curves are measured exactly on three networks "
        f"of {min(parameters):,} to {max(parameters):,} parameters"
        " trained on the adding problem: the answer is the sum of two marked numbers, the first near the "
        "start.")


def gradient_question(reach: dict, names: dict[str, str], distance: int) -> Question:
    """Which trained cell keeps the least gradient at ``distance`` steps back (the first marked number)."""
    cells = list(reach)
    left = {c: float(reach[c].state[distance]) for c in cells}
    least = cells[int(np.argmin([left[c] for c in cells]))]
    return Question(
        prompt=f"The first marked number is read {distance} steps before the answer. For which network does the "
               "least gradient of the answer reach its state at that step?",
        options=tuple(names[c] for c in cells), right=frozenset({cells.index(least)}),
        why="The gradient of the answer y reaching the state at that step, ‖∂y/∂s‖: " + "; ".join(
            f"{names[c]} {gf_num(left[c])}" for c in cells) + f". The least is the **{names[least]}**'s.")


# -- chapter 6: stacking layers ---------------------------------------------------------------------------
def movement(trace) -> list[float]:
    """Per layer: the mean size of a unit's change from one week to the next, |h_t − h_{t-1}| for t ≥ 1
    (step 0's jump from the zero initial state is not a week's move)."""
    return [float(np.mean(np.abs(lt.h[1:] - lt.h[:-1]))) for lt in trace.layers]


SAME_WITHIN = 0.8   # two layers whose mean moves are within this ratio of each other move "about the same"
STACK_OPTIONS = ("layer 1 moves clearly less", "about the same", "layer 1 moves clearly more")


def stacking_question(trace) -> Question:
    """Layer 1 (reading layer 0's states) against layer 0: how much each moves from week to week."""
    moved = movement(trace)
    ratio = moved[1] / moved[0]
    answer = 0 if ratio < SAME_WITHIN else 2 if ratio > 1 / SAME_WITHIN else 1
    return Question(
        prompt="Layer 1 reads layer 0's states. From one week to the next, does its state move less than "
               "layer 0's, about the same, or more?",
        options=STACK_OPTIONS, right=frozenset({answer}),
        why="Mean |h_t − h_{t-1}| over the window's weeks and units: " + "; ".join(
            f"layer {k} {_num(m, 4)}" for k, m in enumerate(moved)) + f" — layer 1 moves {ratio:.2f} times as "
            f"much as layer 0 (within {SAME_WITHIN} and {1 / SAME_WITHIN:.2f} counts as about the same).")


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
        "shipped cho2014 adder, written either way.")


def telling(z: np.ndarray, lo: float = 0.05, hi: float = 0.2) -> tuple[int, int]:
    """(step, unit) of a gate value (T, H) that clearly keeps or clearly takes but is not saturated:
    the one nearest ½ among those within [lo, hi] of 0 or 1 (else the one furthest from ½), so its flip
    reads as keep ↔ take and is visible in the heatmap."""
    edge = np.minimum(z, 1 - z)
    ok = (edge >= lo) & (edge <= hi)
    score = np.where(ok, edge, -np.inf) if ok.any() else np.abs(z - 0.5)
    t, u = np.unravel_index(int(np.argmax(score)), z.shape)
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
    "Every network so far was made before you came (trained, or in chapter 2 set by hand). On the Train "
    "page you train a bit adder yourself, in this browser tab: choose how many units it has, how fast it "
    "learns and for how long, and watch the loss fall and the exact sums rise as it learns. Then come "
    "back to this chapter: its question is asked of the model you trained (until then, of the shipped "
    "adder). A long carry is the hard case: adding 1 to a number whose bits are all 1 carries through "
    "every column.")


def long_carry_question(run, whose: str) -> Question:
    k = len(run.target) - 1
    wrong = np.flatnonzero(run.output != run.target)
    first_wrong = int(wrong[0]) if wrong.size else None
    return Question(
        prompt=f"Will {whose} add {run.a:,} + {run.b:,} correctly? The carry has to travel through all {k} "
               "columns.",
        options=("yes", "no"), right=frozenset({0 if run.correct else 1}),
        why=f"It answers **{run.result:,}**; the true sum is {run.a + run.b:,}. " + (
            f"All {len(run.target)} bits it writes are right." if first_wrong is None else
            f"It first writes a wrong bit at step {first_wrong}: {int(run.output[first_wrong])} where the sum bit is "
            f"{int(run.target[first_wrong])} (carry in {int(run.carry_in[first_wrong])})."),
        focus=(k if first_wrong is None else first_wrong, 0))
