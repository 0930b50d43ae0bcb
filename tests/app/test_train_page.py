"""Live training through AppTest (the in-page curves are watched in the browser tests)."""

from __future__ import annotations

import numpy as np
from helpers import app, heatmap_arrays, step_heatmaps, texts

from gru_core import registry
from gru_core.tasks import bit_addition as ba
from gru_core.train import TrainConfig, train


def train_page():
    at = app()
    at.switch_page("views/train.py")
    at.run()
    return at


def test_training_in_the_page_is_the_core_training_and_reaches_other_pages():
    at = train_page()
    at.number_input(key="tr_hidden").set_value(6).run()
    at.number_input(key="tr_iters").set_value(30).run()
    at.number_input(key="tr_seed").set_value(5).run()
    at.button(key="tr_start").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(s.startswith("Done: 30 iterations") for s in texts(at.success))
    in_page = at.session_state["app_trained"]
    offline = train(ba.BitAddition(bits=8, harden=False),
                    TrainConfig(hidden_size=6, seed=5, stage_iterations={"learn": 30}))
    for a, b in zip(in_page.cell.layers[0].params().values(), offline.cell.layers[0].params().values()):
        np.testing.assert_array_equal(a, b)  # same seed, same result
    snap = ba.run_addition(offline, 173, 91).trace.last
    shown = [fig for key, fig in __import__("helpers").figures(at).items() if "heatmap" in str(fig["data"][0]["type"])]
    assert shown and np.array_equal(heatmap_arrays(shown[-1])[0], snap.z.T.astype(np.float32))
    assert [b for b in at.get("download_button")]  # and it can be exported as a torch.nn.GRU state_dict
    # the model is offered on the bit-addition page
    at.switch_page("views/bit_addition.py").run()
    at.radio(key="add_source").set_value("trained").run()
    assert any("A GRU with 6 hidden units" in m for m in texts(at.markdown))  # the model shown, not 16
    run = ba.run_addition(offline, 45, 27)
    np.testing.assert_array_equal(step_heatmaps(at, "add")[0], run.trace.last.z.T.astype(np.float32))


def test_stop_keeps_the_partial_model():
    at = train_page()
    history = [(k, 0.7, 0.0) for k in range(1, 6)]     # 5 iterations ran; the last snapshot was at 3
    at.session_state["tr_partial"] = {"history": history, "model": registry.shipped_adder(), "at": 3,
                                      "stage": "learn"}
    at.button(key="tr_stop").click().run()
    assert not at.exception
    assert any("Stopped after 5 iterations" in w and "after iteration 3 (learn)" in w for w in texts(at.warning))
    # the snapshot shown is the one kept, with its own iteration
    assert any("after 3 iterations (learn)" in m for m in texts(at.markdown))
    assert at.session_state["app_trained"] is not None


def test_a_training_waits_its_turn_and_is_told_its_place(monkeypatch):
    """With every slot taken, Train queues: the page is told its place, and trains once a slot frees."""
    import threading

    from app import services
    from app.training_slots import TrainingSlots

    places: list[int] = []
    told, release = threading.Event(), threading.Event()

    class Watched(TrainingSlots):
        def slot(self, on_wait=lambda place: None, **kwargs):
            def spy(place):
                places.append(place)
                on_wait(place)     # the page's own message
                told.set()
            return super().slot(on_wait=spy, **kwargs)

    slots = Watched(1)
    holder_in = threading.Event()

    def holder():
        with slots.slot():
            holder_in.set()
            release.wait(30)

    threading.Thread(target=holder, daemon=True).start()
    holder_in.wait(5)
    threading.Thread(target=lambda: told.wait(30) and release.set(), daemon=True).start()
    monkeypatch.setattr(services, "training_slots", lambda: slots)
    at = train_page()
    at.number_input(key="tr_iters").set_value(10).run()
    at.button(key="tr_start").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert places == [1]                                   # first in line behind the running one
    assert any(s.startswith("Done: 10 iterations") for s in texts(at.success))


def test_controls_read_the_limits_and_the_registry():
    from app import limits

    at = train_page()
    assert not at.exception
    hidden, iters = at.number_input(key="tr_hidden"), at.number_input(key="tr_iters")
    assert (hidden.min, hidden.max, hidden.value) == (*limits.TRAIN_HIDDEN_RANGE, limits.TRAIN_DEFAULT_HIDDEN)
    assert (iters.min, iters.max, iters.value) == (*limits.TRAIN_ITERATIONS_RANGE, limits.TRAIN_DEFAULT_ITERATIONS)
    assert at.number_input(key="tr_seed").max == limits.MAX_SEED
    conv = at.selectbox(key="tr_conv")
    assert tuple(conv.options) == registry.conventions_with_own_adder()
    for name in conv.options:   # the harden note quotes the adder trained in that convention, its own size
        conv.set_value(name).run()
        adder = registry.shipped_adder(name)
        note = at.checkbox(key="tr_harden").help
        assert f"The shipped {name} adder ({adder.cell.hidden_size} units) spent" in note
