"""A process serves a bounded number of tabs, and its shared caches are bounded by bytes."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from app import capacity, limits

sys.path.insert(0, str(Path(__file__).parent / "app"))


def test_a_new_tab_beyond_the_bound_is_refused_a_tab_already_in_is_not():
    n = limits.MAX_SESSIONS_PER_PROCESS
    assert capacity.admits(n, already_in=False)
    assert not capacity.admits(n + 1, already_in=False)
    assert capacity.admits(n + 50, already_in=True)
    assert capacity.admits(None, already_in=False)      # no count to read: serve


def test_a_full_server_says_so_at_once(monkeypatch):
    from helpers import app

    monkeypatch.setattr(capacity, "active_sessions", lambda: limits.MAX_SESSIONS_PER_PROCESS + 1)
    at = app()
    at.run()
    assert not at.exception
    assert any("already serving" in e.value and "REPLICAS" in e.value for e in at.error)
    assert not at.get("bidi_component") or all(el.proto.bytes.startswith(b"GRUSTEP0")
                                               for el in at.get("bidi_component"))
    assert not at.title                                  # the page itself was not drawn


def test_byte_cache_keeps_to_its_budget_and_reuses_hits():
    cache = capacity.ByteCache(max_bytes=100, size=len)
    built = []
    for k in range(5):
        cache.get(k, lambda k=k: built.append(k) or bytes(40))
    assert cache.bytes <= 100 and list(cache.items) == [3, 4]
    cache.get(4, lambda: built.append("again") or bytes(40))
    assert "again" not in built


@pytest.mark.parametrize("weight", [10, 500])
def test_one_value_over_budget_is_still_served(weight):
    cache = capacity.ByteCache(max_bytes=100, size=len)
    assert len(cache.get("big", lambda: bytes(weight))) == weight


def test_release_drops_entries_only_closed_tabs_used(monkeypatch):
    cache = capacity.ByteCache(max_bytes=1_000, size=len)
    asking = {"id": None}
    monkeypatch.setattr(capacity, "_this_session_id", lambda: asking["id"])
    monkeypatch.setattr(capacity, "watch", lambda: None)     # no watcher thread in a test
    for tab, key in [("tab A", "shared link"), ("tab B", "shared link"), ("tab A", "A's upload"),
                     ("tab B", "B's upload")]:
        asking["id"] = tab
        cache.get(key, lambda: bytes(100))
    asking["id"] = None
    cache.get("built outside any tab", lambda: bytes(100))

    assert capacity.release(open_ids={"tab B"}) >= 100      # A closed: only A's own entry goes
    assert set(cache.items) == {"shared link", "B's upload", "built outside any tab"}
    assert cache.bytes == 300
    capacity.release(open_ids=set())                        # everyone closed
    assert set(cache.items) == {"built outside any tab"} and cache.bytes == 100
    assert cache.users == {}


def test_an_entry_asked_for_again_by_an_open_tab_stays(monkeypatch):
    cache = capacity.ByteCache(max_bytes=1_000, size=len)
    asking = {"id": "tab A"}
    monkeypatch.setattr(capacity, "_this_session_id", lambda: asking["id"])
    monkeypatch.setattr(capacity, "watch", lambda: None)
    cache.get("view", lambda: bytes(10))
    asking["id"] = "tab C"
    cache.get("view", lambda: bytes(10))                   # a hit: C uses it too
    assert cache.drop_unused({"tab C"}) == 0 and "view" in cache.items
    assert cache.drop_unused(set()) == 10 and not cache.items


def test_forget_drops_closed_tabs_from_streamlits_store_and_tolerates_gone_ones(monkeypatch):
    class Store(dict):
        def delete(self, session_id):
            del self[session_id]

    class Manager:
        _session_storage = Store({"closed long ago": object(), "closed just now": object()})

    monkeypatch.setattr(capacity, "_session_manager", lambda: Manager)
    capacity.forget(["closed long ago", "reconnected meanwhile"])
    assert set(Manager._session_storage) == {"closed just now"}
