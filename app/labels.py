"""Every label that depends on the convention, in one place (see gru_core.conventions).

Labels are written once with a tiny markup — ``h_{t-1}``, ``h̃_t`` — and rendered for each medium:
:func:`plotly` (HTML subscripts in figure titles) and :func:`md` (inline LaTeX in page text).
"""

from __future__ import annotations

import re

from gru_core import Convention

_SUB = re.compile(r"(?<![A-Za-z])(h̃|[hxzrWab])_(\{[^}]*\}|t|[hi][rzn])")
SYMBOLS = {"z": "z", "r": "r", "h_tilde": "h̃", "h": "h"}   # each recorded GRU array's symbol


def plotly(text: str) -> str:
    """``h_{t-1}`` → ``h<sub>t-1</sub>`` for plotly titles and hovers."""
    return _SUB.sub(lambda m: f"{m.group(1)}<sub>{m.group(2).strip('{}')}</sub>", text)


def md(text: str) -> str:
    """``h_{t-1}`` → ``$h_{t-1}$``, ``h̃_t`` → ``$\\tilde h_t$`` for st.markdown / st.caption."""
    def repl(m: re.Match) -> str:
        base = r"\tilde h" if m.group(1) == "h̃" else m.group(1)
        return f"${base}_{{{m.group(2).strip('{}')}}}$"
    return _SUB.sub(repl, text)


def gate_title(name: str, convention: Convention) -> str:
    """Heatmap titles that say what the ends of the colour scale mean in this convention."""
    if name == "z":
        return f"z · update gate — 1 = {convention.z_one_means}, 0 = {convention.z_zero_means}"
    if name == "r":
        return f"r · reset gate — {reset_effect(convention)}"
    if name == "h_tilde":
        return "h̃ · candidate state, from −1 to 1"
    if name == "h":
        return "h · new state, from −1 to 1"
    raise ValueError(name)


def reset_effect(convention: Convention) -> str:
    """What r = 0 and r = 1 do to the candidate, exactly, in this convention."""
    if convention.reset_after_matmul:  # r ⊙ (W_hn h_{t-1} + b_hn): the bias is scaled too
        return "scales W_hn h_{t-1} + b_hn in the candidate: 0 = drops it, bias included; 1 = keeps it"
    return "scales h_{t-1} before W_hn in the candidate: 0 = the candidate ignores h_{t-1}; 1 = sees all of it"


def short_title(name: str) -> str:
    return {"z": "z · update gate", "r": "r · reset gate", "h_tilde": "h̃ · candidate",
            "h": "h · new state"}[name]


def explain(convention: Convention) -> str:
    """One short explanation of what z means, for the convention picker."""
    reset = ("r scales the recurrent term after the matrix, r ⊙ (W_hn h + b_hn)"
             if convention.reset_after_matmul else
             "r scales the old state before the matrix, W_hn (r ⊙ h)")
    return (f"**{convention.name}** ({convention.source}): z ≈ 1 means *{convention.z_one_means}*, "
            f"z ≈ 0 means *{convention.z_zero_means}*; {reset}.")


def blend_sentence(convention: Convention) -> str:
    return ("h_t sits a fraction (1 − z) of the way from h_{t-1} to h̃_t"
            if convention.z_keeps_old else
            "h_t sits a fraction z of the way from h_{t-1} to h̃_t")


def candidate_caption(convention: Convention) -> str:
    """Plain text (it goes in a LaTeX \\text{}): where the reset gate acts in this convention."""
    return ("candidate state (reset applied after the matrix)" if convention.reset_after_matmul
            else "candidate state (reset applied before the matrix)")


def blend_caption(convention: Convention) -> str:
    return ("new state (z weighs the old state)" if convention.z_keeps_old
            else "new state (z weighs the candidate)")


TRAIN_CONVENTIONS = "pytorch trains torch.nn.GRU; cho2014 the reset-before-the-matrix GRU."


def stacking_text(gru, shown: int, per_step_readout: bool | None = None) -> str:
    """What stacking means, said of the model on screen (its sizes, the layer shown, and whether its
    readout reads every step, None: it has no readout)."""
    L, H, I = gru.num_layers, gru.hidden_size, gru.input_size
    if per_step_readout:
        keras = ("In Keras this is return_sequences=True on every GRU layer, the last one included: the "
                 "readout reads the last layer's h_t at every step.")
    elif per_step_readout is False:
        keras = ("In Keras this is return_sequences=True on every GRU layer but the last, whose final state "
                 "alone goes to the readout.")
    else:
        keras = "In Keras every GRU layer but the last needs return_sequences=True for this."
    text = (f"This GRU stacks {L} layers of {H} units. Layer 0 reads the sequence ({I} feature"
            f"{'' if I == 1 else 's'} per step); every layer above reads, at every step, the new state h_t of "
            f"the layer below, so its input has {H} features. {keras}")
    if shown > 0:
        text += (f" The input rows shown for layer {shown} are layer {shown - 1}'s h_t, the numbers the two "
                 "layers share.")
    return text


def readout_text(readout, values) -> str:
    """The model's linear readout, with its value on the sequence shown."""
    shown = ", ".join(f"{v:+.4f}" for v in values)
    where = ("the last layer's last state h_T (one output per sequence)" if not readout.per_step
             else "the last layer's h_t at every step (one output per step); at the last step")
    return f"The model's linear readout reads {where}: **{shown}** on this sequence."


def old_state_weight_symbol(convention: Convention) -> str:
    """What weighs the old state h_{t-1} in h_t: z where z keeps the old state, else 1 − z."""
    return "z" if convention.z_keeps_old else "1 − z"


def _units(numbers: list[int]) -> str:
    names = [str(n) for n in numbers]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def carry_finding_text(finding, convention: Convention) -> str:
    """The carry finding in words; every number in it is one gru_core computed for this model."""
    units = finding.units
    corr = ", ".join(f"{u.correlation:+.3f}" for u in units)
    if len(units) == 1:
        who = f"**Unit {units[0].unit}** follows it most closely (correlation {corr})."
    else:
        who = (f"**Units {_units([u.unit for u in units])}** follow it almost equally closely "
               f"(correlations {corr}): the carry is spread over more than one unit.")
    text = [f"Over {finding.sample.describe()}, each unit's h_t was compared with the true carry out "
            f"of step t. {who}"]
    w = old_state_weight_symbol(convention)
    for u in units:
        if not u.holding_steps:
            continue
        share = f"{100 * u.keep_fraction:.0f} %"
        how = (f"at {share} of them the update gate keeps the old state (weight above ½): the carry is "
               "held by the update gate."
               if u.keep_fraction >= 0.5 else
               f"the update gate keeps the old state (weight above ½) at only {share} of them; at the rest "
               "h_t is mostly the candidate h̃_t, which reads h_{t-1} through W_hn. The carry travels "
               "through the candidate, not through the update gate's keep path.")
        text.append(f"While the carry holds (carry in = carry out = 1: {u.holding_steps:,} steps), unit "
                    f"{u.unit}'s new state gives its old state h_{{t-1}} an average weight of "
                    f"{u.old_state_weight:.3f} (that weight is {w} in the {convention.name} convention); "
                    f"{how}")
    return " ".join(text)


# -- "Why gates?" (app/views/why_gates.py): the GRU's keep path, in the convention of the GRU shown ----
def keep_path_text(convention: Convention) -> str:
    """The GRU's keep path in words: h_{t-1} copied into h_t with the weight the update gate sets."""
    w = old_state_weight_symbol(convention)
    keeps = "1" if convention.z_keeps_old else "0"
    return (f"the keep path copies h_{{t-1}} into h_t with the weight {w} (in the {convention.name} "
            f"convention z near {keeps} keeps the old state)")


def path_names(convention: Convention) -> dict[str, str]:
    """Legend names of the three parts of the GRU's ∂h_t/∂h_{t-1} (gru_core.gradients.GRUStepParts)."""
    w = old_state_weight_symbol(convention)
    return {"keep": f"keep path (h_{{t-1}} copied, weight {w})",
            "candidate": "through the candidate h̃_t",
            "gate": "through the update gate's value"}
