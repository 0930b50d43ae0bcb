"""Session state is declared once (app/session.py's TABLE): no page invents a key or reads around it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from app import query, session

APP = Path(__file__).resolve().parents[1] / "app"
SOURCES = sorted(p for p in APP.rglob("*.py") if p.name != "session.py")
ACCESSORS = {"get", "put", "drop", "widget", "element"}


def calls(tree: ast.AST):
    return (n for n in ast.walk(tree) if isinstance(n, ast.Call))


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(APP)))
def test_no_page_touches_session_state_directly(path):
    source = path.read_text()
    assert "session_state" not in source, f"{path.name}: use app.session, not st.session_state"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(APP)))
def test_every_literal_key_is_declared_and_every_widget_key_comes_from_the_table(path):
    tree = ast.parse(path.read_text())
    for call in calls(tree):
        f = call.func
        if (isinstance(f, ast.Attribute) and f.attr in ACCESSORS and isinstance(f.value, ast.Name)
                and f.value.id == "session" and call.args and isinstance(call.args[0], ast.Constant)):
            assert call.args[0].value in session.KEYS, f"{path.name}:{call.lineno}: {call.args[0].value!r} undeclared"
        for kw in call.keywords:
            if kw.arg == "key":
                ok = (isinstance(kw.value, ast.Call) and isinstance(kw.value.func, ast.Attribute)
                      and kw.value.func.attr in ("widget", "element"))
                # a helper may pass its own ``key`` parameter through (it got it from the table)
                ok = ok or isinstance(kw.value, ast.Name)
                assert ok, f"{path.name}:{call.lineno}: key= must be session.widget(...) or session.element(...)"


def test_step_view_keys_exist_for_every_page_that_steps():
    for prefix in ("add", "seq", "lab", "abl"):
        for name in ("t", "unit", "steps"):
            assert f"{prefix}_{name}" in session.KEYS
        # the browser owns the step: the server keeps only where a view opens
        assert session.KEYS[f"{prefix}_t"].kind == session.VALUE


def test_every_link_key_has_a_parser_and_a_unique_parameter_per_page():
    for page in ("app", "add", "seq"):
        keys = session.link_keys(page)
        assert keys and all(k.parse is not None for k in keys)
        assert len({k.url for k in keys}) == len(keys)


def test_undeclared_names_are_refused():
    with pytest.raises(KeyError, match="not declared"):
        session._key("add_banana")


def test_a_link_round_trips_through_the_table():
    params = {"a": str(2**200 + 5), "b": "3", "t": "7", "unit": "11", "conv": "chung2014"}
    values, messages = session.parse_link("add", params, {"hidden_size": 16})
    assert messages == []
    assert values == {"add_a_text": str(2**200 + 5), "add_b_text": "3", "add_t": 7, "add_unit": 11,
                      "add_conv": "chung2014"}
    written = {k.url: query.format_value(values[k.name]) for k in session.link_keys("add")}
    assert written == params
