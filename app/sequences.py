"""Turn what a user typed or uploaded into an input array (T, I) — or a clear message why not.

Pure functions: no streamlit. Every failure is a ``SequenceError`` whose text the page shows as is.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

import numpy as np

from .state import MAX_FEATURES, MAX_STEPS

MAX_UPLOAD_BYTES = 2_000_000


class SequenceError(ValueError):
    """Input the page cannot run, with a message written for the person who typed it."""


@dataclass(frozen=True)
class Sequence:
    xs: np.ndarray                   # (T, I) float64
    feature_labels: list[str]        # (I,)
    step_labels: list[str] | None    # (T,) e.g. the characters of a text, else None


def _check_size(T: int, I: int) -> None:
    if T == 0:
        raise SequenceError("The sequence is empty: enter at least one step.")
    if T > MAX_STEPS:
        raise SequenceError(f"The sequence has {T:,} steps; the page runs at most {MAX_STEPS:,}.")
    if I > MAX_FEATURES:
        raise SequenceError(f"The sequence has {I} features per step; the page runs at most {MAX_FEATURES}.")


MAX_ABS_VALUE = 1e6


def _check_values(values: np.ndarray, where: str) -> None:
    """Finite, and small enough that the gates still mean something (tanh/σ saturate long before)."""
    bad = np.argwhere(~np.isfinite(values))
    if bad.size:
        raise SequenceError(f"{where} holds a value that is not a finite number (NaN or infinity) "
                            f"at step {int(bad[0][0])}.")
    if values.size and np.abs(values).max() > MAX_ABS_VALUE:
        raise SequenceError(f"{where} holds a number larger than {MAX_ABS_VALUE:,.0f} in size; scale it down.")


def parse_numbers(text: str) -> Sequence:
    """One feature per step: numbers separated by commas, spaces, semicolons or new lines."""
    tokens = [tok for tok in re.split(r"[,\s;]+", text.strip()) if tok]
    _check_size(len(tokens), 1)
    values = []
    for i, tok in enumerate(tokens):
        try:
            values.append(float(tok))
        except ValueError:
            shown = tok if len(tok) <= 20 else tok[:17] + "…"
            raise SequenceError(f"Step {i} is '{shown}', which is not a number. Separate numbers "
                                "with commas or spaces, e.g. 0.5, -1, 2") from None
    xs = np.array(values, dtype=np.float64)[:, None]
    _check_values(xs, "The sequence")
    return Sequence(xs=xs, feature_labels=["x"], step_labels=None)


def parse_text(text: str) -> Sequence:
    """Characters one-hot: one step per character, one feature per distinct character (sorted)."""
    _check_size(len(text), 0)
    vocab = sorted(set(text))
    _check_size(len(text), len(vocab))
    index = {c: i for i, c in enumerate(vocab)}
    xs = np.zeros((len(text), len(vocab)), np.float64)
    xs[np.arange(len(text)), [index[c] for c in text]] = 1.0
    shown = ["␣" if c == " " else repr(c)[1:-1] for c in vocab]  # a space, or the character escaped
    return Sequence(xs=xs, feature_labels=[f"'{c}'" for c in shown],
                    step_labels=[("␣" if c == " " else c) for c in text])


def _columns(n: int) -> str:
    return f"{n} column" + ("" if n == 1 else "s")


def parse_csv(data: bytes) -> Sequence:
    """T rows × I numeric columns; an optional header row names the features."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise SequenceError(f"The file is {len(data) / 1e6:.1f} MB; the limit is {MAX_UPLOAD_BYTES / 1e6:.0f} MB.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SequenceError("The file is not UTF-8 text: upload a plain .csv file.") from None
    rows = [r for r in csv.reader(io.StringIO(text)) if any(cell.strip() for cell in r)]
    if not rows:
        raise SequenceError("The file has no rows.")

    def is_number(cell: str) -> bool:
        try:
            float(cell)
            return True
        except ValueError:
            return False

    # a header is a first row with no number in it; a row with some numbers is data (with a typo)
    header = None if any(is_number(c) for c in rows[0]) else [c.strip() or f"x[{i}]" for i, c in enumerate(rows[0])]
    body = rows if header is None else rows[1:]
    _check_size(len(body), len(rows[0]))
    width = len(body[0])
    for i, row in enumerate(body):
        if len(row) != width:
            raise SequenceError(f"Row {i + 1 + (header is not None)} has {_columns(len(row))} but the "
                                f"first has {width}: every row needs the same number of columns.")
    if header is not None and len(header) != width:
        raise SequenceError(f"The header names {len(header)} columns but the rows have {width}.")
    try:
        xs = np.array([[float(c) for c in row] for row in body], dtype=np.float64)
    except ValueError:
        for i, row in enumerate(body):
            for j, c in enumerate(row):
                try:
                    float(c)
                except ValueError:
                    raise SequenceError(f"Row {i + 1 + (header is not None)}, column {j + 1} is "
                                        f"'{c[:20]}', which is not a number.") from None
        raise
    _check_size(*xs.shape)
    _check_values(xs, "The file")
    return Sequence(xs=xs, feature_labels=header or [f"x[{i}]" for i in range(width)], step_labels=None)
