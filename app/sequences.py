"""Turn what a user typed or uploaded into an input array (T, I) — or a clear message why not.

No streamlit here. Every failure is a ``SequenceError`` whose text the page shows as is.

Typed numbers and text are parsed in this process: they come from a text box the page has already
capped. A CSV is parsed in a sandboxed worker process (:mod:`gru_core.sandbox`), like an uploaded
checkpoint: the csv module's process-wide field limit can be set low there, a 2 MB file of
separators cannot balloon into millions of strings in the server, and the parsing time is not
spent holding the server's GIL. The worker returns the (T, I) array and the column names only.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

import numpy as np

from gru_core import sandbox

from .limits import MAX_ABS_VALUE, MAX_CSV_BYTES, MAX_FEATURES, MAX_STEPS

MAX_FIELD_CHARS = 1_000    # a number or a column name is far shorter; longer means broken quoting
SNIFF_CHARS = 8_192        # the sample csv.Sniffer looks at to choose the separator
SEPARATORS = ",;\t"
_SEPARATOR_NAMES = {",": "commas", ";": "semicolons", "\t": "tabs"}
CSV_LIMITS = sandbox.Limits(memory_mb=256, cpu_seconds=5, wall_seconds=15.0, output_mb=8)
_CSV_PARSER = f"{__name__}:read_csv_arrays"
_CSV_HINT = "Use plain CSV text: one row per step, one column of numbers per feature."

__all__ = ["MAX_ABS_VALUE", "MAX_CSV_BYTES", "Sequence", "SequenceError", "format_rows", "parse_csv",
           "parse_numbers", "parse_rows", "parse_text", "read_csv_arrays"]


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
        raise SequenceError(f"The sequence has {I:,} features per step; the page runs at most {MAX_FEATURES}.")


def _check_values(values: np.ndarray, where: str) -> None:
    """Finite, and small enough that the gates still mean something (tanh/σ saturate long before)."""
    bad = np.argwhere(~np.isfinite(values))
    if bad.size:
        raise SequenceError(f"{where} holds a value that is not a finite number (NaN or infinity) "
                            f"at step {int(bad[0][0])}.")
    if values.size and np.abs(values).max() > MAX_ABS_VALUE:
        raise SequenceError(f"{where} holds a number larger than {MAX_ABS_VALUE:,.0f} in size; scale it down.")


_SEPARATORS = re.compile(r"[,\s;]+")   # between typed numbers: commas, spaces, tabs, semicolons, new lines
_NUMBER_HINT = "Separate numbers with commas or spaces, e.g. 0.5, -1, 2"


def _tokens(text: str) -> list[str]:
    return [tok for tok in _SEPARATORS.split(text.strip()) if tok]


def _number_token(tok: str, where: str) -> float:
    try:
        return float(tok)
    except ValueError:
        shown = tok if len(tok) <= 20 else tok[:17] + "…"
        raise SequenceError(f"{where} is '{shown}', which is not a number. {_NUMBER_HINT}") from None


def parse_numbers(text: str) -> Sequence:
    """One feature per step: numbers separated by commas, spaces, semicolons or new lines."""
    tokens = _tokens(text)
    _check_size(len(tokens), 1)
    xs = np.array([_number_token(tok, f"Step {i}") for i, tok in enumerate(tokens)], dtype=np.float64)[:, None]
    _check_values(xs, "The sequence")
    return Sequence(xs=xs, feature_labels=["x"], step_labels=None)


def parse_rows(text: str, width: int, source: str = "The input box") -> Sequence:
    """Typed steps, one per line, ``width`` numbers each (the lab's small input box), read by the same
    rules as :func:`parse_numbers`. Read here, not in the sandbox: a few short lines, every one data."""
    lines = [line for line in text.splitlines() if line.strip()]
    _check_size(len(lines), width)
    rows = []
    for k, line in enumerate(lines):
        tokens = _tokens(line)
        if len(tokens) != width:
            raise SequenceError(f"{source}: line {k + 1} has {len(tokens)} number(s); each line needs {width}, "
                                "one per input.")
        rows.append([_number_token(tok, f"{source}: line {k + 1}, number {j + 1}") for j, tok in enumerate(tokens)])
    xs = np.array(rows, dtype=np.float64)
    _check_values(xs, source)
    return Sequence(xs=xs, feature_labels=[f"x[{i}]" for i in range(width)], step_labels=None)


def format_rows(xs: np.ndarray) -> str:
    """(T, I) numbers as :func:`parse_rows` reads them back: one line per step, exactly."""
    return "\n".join(", ".join(str(int(v)) if float(v).is_integer() else repr(float(v)) for v in row)
                     for row in xs)


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
    return f"{n:,} column" + ("" if n == 1 else "s")


def parse_csv(data: bytes, source: str = "The file") -> Sequence:
    """T rows × I numeric columns; an optional header row names the features.

    The separator is a comma, semicolon or tab, whichever the rows use (csv.Sniffer decides when
    several appear). ``source`` names the input in messages, e.g. "The file" for an upload or
    "The inputs box" for text typed on a page. Parsing runs in a sandboxed worker; a worker that
    fails or hits a limit is a SequenceError like any other refusal.
    """
    if len(data) > MAX_CSV_BYTES:
        raise SequenceError(f"{source} is {len(data) / 1e6:.1f} MB; the limit is {MAX_CSV_BYTES / 1e6:.0f} MB.")
    try:
        parsed = sandbox.parse_untrusted(_CSV_PARSER, data, options={"source": source}, limits=CSV_LIMITS,
                                         preload=(__name__,), subject=source, hint=_CSV_HINT)
    except sandbox.SandboxError as err:
        raise SequenceError(str(err)) from None
    xs = parsed.arrays.get("xs")
    labels = parsed.meta.get("labels") if isinstance(parsed.meta, dict) else None
    if xs is None or xs.ndim != 2 or xs.dtype != np.float64:
        raise SequenceError(f"{source} could not be read safely: the reader's reply was malformed. {_CSV_HINT}")
    # the worker already checked these; checking again here costs microseconds at (2048, 64)
    _check_size(*xs.shape)
    _check_values(xs, source)
    if not (isinstance(labels, list) and len(labels) == xs.shape[1] and all(isinstance(x, str) for x in labels)):
        labels = [f"x[{i}]" for i in range(xs.shape[1])]
    return Sequence(xs=xs, feature_labels=labels, step_labels=None)


def read_csv_arrays(data: bytes, *, source: str = "The file") -> tuple[dict[str, np.ndarray], dict]:
    """The sandbox parser: ``{"xs": (T, I) float64}`` and ``{"labels": I names}``.

    Meant for a one-shot sandbox worker: it lowers the csv module's process-wide field limit.
    """
    csv.field_size_limit(MAX_FIELD_CHARS)  # the worker exits after this file; the server keeps its own
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SequenceError(f"{source} is not UTF-8 text: use a plain .csv file.") from None
    if "\x00" in text:
        raise SequenceError(f"{source} contains NUL characters, so it is not a text file: use a plain .csv file.")
    separator = _separator(text, source)
    header, body = _header_and_body(_rows(text, separator, source), source)
    width = len(body[0]) if body else len(header or ())
    if header is not None and len(header) != width:
        raise SequenceError(f"The header names {len(header)} columns but the rows have {width}.")
    xs = np.array([[_number(c, i + 1 + (header is not None), j + 1, separator) for j, c in enumerate(row)]
                   for i, row in enumerate(body)], dtype=np.float64).reshape(len(body), width)
    _check_size(*xs.shape)
    _check_values(xs, source)
    labels = header or [f"x[{i}]" for i in range(width)]
    return {"xs": xs}, {"labels": labels}


def _separator(text: str, source: str) -> str:
    """Comma, semicolon or tab: the only one present, or the one csv.Sniffer finds consistent."""
    sample = text[:SNIFF_CHARS]
    if len(text) > SNIFF_CHARS and "\n" in sample:
        sample = sample[: sample.rindex("\n")]  # whole lines only: a cut row would look inconsistent
    present = [s for s in SEPARATORS if s in sample]
    if len(present) <= 1:
        return present[0] if present else ","
    try:
        return csv.Sniffer().sniff(sample, delimiters=SEPARATORS).delimiter
    except csv.Error:
        names = " and ".join(_SEPARATOR_NAMES[s] for s in present)
        raise SequenceError(
            f"{source} uses both {names} between values, so it is unclear which separates the columns. "
            "Separate columns with commas (or with semicolons, or tabs, throughout), one row per line.") from None


def _rows(text: str, separator: str, source: str) -> tuple[list[list[str]], int]:
    """The non-blank rows, up to one more than a header plus MAX_STEPS, and how many there are."""
    rows, count = [], 0
    reader = csv.reader(io.StringIO(text), delimiter=separator)
    try:
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            count += 1
            if len(row) > MAX_FEATURES:
                raise SequenceError(f"Row {count} has {_columns(len(row))}; the page runs at most "
                                    f"{MAX_FEATURES} features per step (one column each).")
            if len(rows) <= MAX_STEPS:  # beyond that, count the rows only: the message states the total
                rows.append(row)
    except csv.Error as err:
        if "field larger than field limit" in str(err):
            raise SequenceError(
                f"{source} has a value longer than {MAX_FIELD_CHARS:,} characters (line {reader.line_num:,}); "
                "a number or a column name is far shorter. Check that every quote (\") is closed.") from None
        raise SequenceError(f"{source} is not valid CSV (line {reader.line_num:,}: {err}).") from None
    if not rows:
        raise SequenceError(f"{source} has no rows.")
    return rows, count


def _header_and_body(rows_and_count: tuple[list[list[str]], int],
                     source: str) -> tuple[list[str] | None, list[list[str]]]:
    """A header is a first row with no number in it; a row with some numbers is data (with a typo)."""
    rows, count = rows_and_count
    header = None if any(_is_number(c) for c in rows[0]) else [c.strip() or f"x[{i}]" for i, c in enumerate(rows[0])]
    body = rows if header is None else rows[1:]
    if header is not None and count == 1:
        raise SequenceError(f"{source} has a header row ({', '.join(header)[:60]}) but no rows of numbers "
                            "under it: add one row per step.")
    _check_size(count - (header is not None), len(rows[0]))
    width = len(body[0])
    for i, row in enumerate(body):
        if len(row) != width:
            raise SequenceError(f"Row {i + 1 + (header is not None)} has {_columns(len(row))} but the "
                                f"first has {width}: every row needs the same number of columns.")
    return header, body


def _is_number(cell: str) -> bool:
    try:
        float(cell)
        return True
    except ValueError:
        return False


def _number(cell: str, row: int, column: int, separator: str) -> float:
    try:
        return float(cell)
    except ValueError:
        pass
    why = ""
    if re.fullmatch(r"\s*-?\d+,\d+\s*", cell):
        why = " Write decimals with a dot (0.5, not 0,5)."
    elif other := [_SEPARATOR_NAMES[s] for s in SEPARATORS if s != separator and s in cell]:
        why = (f" The columns were read as separated by {_SEPARATOR_NAMES[separator]}, and this cell contains "
               f"{' and '.join(other)}: use one separator throughout.")
    raise SequenceError(f"Row {row}, column {column} is '{cell[:20]}', which is not a number.{why}") from None
