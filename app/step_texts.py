"""The per-step sentences of the step views that show a task (filled in by the browser at each step).

Each is a :class:`StepText`: markup with slots naming per-step arrays (T,) taken from the run, so the
sentence at step t says what the run recorded there, in every convention (nothing in it is a gate).
"""

from __future__ import annotations

import numpy as np

from gru_core.tasks import bit_addition as ba

from .step_payload import StepText


def addition(run: ba.AdditionRun, written: bool = True) -> StepText:
    """What happens at each step of a bit addition: the bits read, the true carry, and (``written``)
    the bit the network writes — left out while a lesson asks the reader to predict it."""
    says = {"bit_a": run.xs[:, 0], "bit_b": run.xs[:, 1], "carry_in": run.carry_in, "target": run.target,
            "carry_out": run.carries}
    template = ("<b>Step {t}</b> (bit 2<sup>{t}</sup>): reads <i>a</i><sub>t</sub> = {bit_a:i}, "
                "<i>b</i><sub>t</sub> = {bit_b:i} with carry in {carry_in:i} → true sum bit {target:i}, "
                "carry out {carry_out:i}.")
    if written:
        template += " The network writes <b>{output:i}</b> {right:mark} (readout {logit:s})."
        says.update(output=run.output, right=run.output == run.target, logit=run.logits)
    return StepText(template, says)


def adding_problem(xs: np.ndarray) -> StepText:
    """A step of the adding problem: the number read and whether it is marked."""
    return StepText("<b>Step {t}</b>: the number read is {value}, marked {mark:i} "
                    "(the output is the sum of the two marked numbers).",
                    {"value": xs[:, 0], "mark": xs[:, 1]})
