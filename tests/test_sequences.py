"""Parsing what people type or upload: clear messages for everything that cannot run."""

from __future__ import annotations

import numpy as np
import pytest

from app.limits import MAX_STEPS
from app.sequences import SequenceError, format_rows, parse_csv, parse_numbers, parse_rows, parse_text


def test_numbers_commas_spaces_newlines():
    s = parse_numbers("1, 2 3\n-4.5;5e-1")
    np.testing.assert_array_equal(s.xs[:, 0], [1, 2, 3, -4.5, 0.5])


@pytest.mark.parametrize("text, fragment", [
    ("", "empty"), ("   ", "empty"), ("1, 2, banana", "Step 2 is 'banana'"),
    ("1, nan", "not a finite number"), ("1, inf", "not a finite number"),
    ("1e300", "larger than 1,000,000"), (",".join(["1"] * (MAX_STEPS + 1)), f"at most {MAX_STEPS:,}"),
])
def test_bad_numbers(text, fragment):
    with pytest.raises(SequenceError, match=fragment):
        parse_numbers(text)


def test_typed_rows_read_like_typed_numbers_and_round_trip():
    s = parse_rows("1, 2\n\n-4.5;5e-1\n0.1\t7", 2)
    np.testing.assert_array_equal(s.xs, [[1, 2], [-4.5, 0.5], [0.1, 7]])
    np.testing.assert_array_equal(parse_rows(format_rows(s.xs), 2).xs, s.xs)   # exactly, not rounded
    assert format_rows(s.xs) == "1, 2\n-4.5, 0.5\n0.1, 7"


@pytest.mark.parametrize("text, fragment", [
    ("", "empty"), ("x, y\n1, 2", "line 1, number 1 is 'x'"), ("1, 2\n3", "line 2 has 1 number"),
    ("1, nan", "not a finite number"), ("1, 2e7", "larger than 1,000,000"),
])
def test_bad_typed_rows(text, fragment):
    with pytest.raises(SequenceError, match=fragment):
        parse_rows(text, 2)


def test_text_is_one_hot():
    s = parse_text("abca")
    assert s.xs.shape == (4, 3) and s.feature_labels == ["'a'", "'b'", "'c'"]
    np.testing.assert_array_equal(s.xs.sum(axis=1), 1)
    assert s.step_labels == list("abca")


def test_csv_with_and_without_header():
    s = parse_csv(b"price,volume\n1,2\n3,4\n")
    assert s.feature_labels == ["price", "volume"] and s.xs.tolist() == [[1, 2], [3, 4]]
    assert parse_csv(b"1;2\n".replace(b";", b",")).xs.shape == (1, 2)


@pytest.mark.parametrize("data, fragment", [
    (b"", "no rows"), (b"1,2\n3\n", "Row 2 has 1 column but the first has 2"),
    (b"a,b\n1,x\n", "Row 2, column 2 is 'x'"),
    (b"\xff\xfe\x00bad", "not UTF-8"), (b"1,nan\n", "not a finite number"), (b"1,1e308\n", "larger than"),
    (b"x\n" + b"1\n" * (MAX_STEPS + 1), "at most"), (b"a,b,c\n1,2\n", "header names 3 columns but the rows have 2"),
    (b"1,2o\n3,4\n", "Row 1, column 2 is '2o'"),
])
def test_bad_csv(data, fragment):
    with pytest.raises(SequenceError, match=fragment):
        parse_csv(data)


def test_semicolons_and_tabs_separate_columns_rather_than_making_a_header():
    s = parse_csv(b"price;volume\n1;2\n3;4\n")
    assert s.feature_labels == ["price", "volume"] and s.xs.tolist() == [[1, 2], [3, 4]]
    assert parse_csv(b"1\t2\n3\t4\n").xs.tolist() == [[1, 2], [3, 4]]


@pytest.mark.parametrize("data, message", [
    (b"1;2\n3,4\n", "The file uses both commas and semicolons between values"),
    (b"a;b\n1,5;2\n", "Row 2, column 1 is '1,5', which is not a number. Write decimals with a dot"),
    (b'"' + b"9" * 200_000 + b'"\n', "The file has a value longer than 1,000 characters (line 1)"),
    (b"a;b\n", "The file has a header row (a, b) but no rows of numbers under it"),
])
def test_csv_messages_say_what_is_wrong(data, message):
    with pytest.raises(SequenceError) as info:
        parse_csv(data)
    assert str(info.value).startswith(message), str(info.value)


def test_csv_messages_name_their_source():
    with pytest.raises(SequenceError, match=r"^The inputs box has no rows\.$"):
        parse_csv(b"\n\n", source="The inputs box")
