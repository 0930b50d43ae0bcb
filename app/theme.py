"""Every visual constant of the app in one place: colour scales, fixed ranges, marker colours, sizes.

Colour scales have a fixed, clamped domain — a gate heatmap is never autoscaled, so the same colour
means the same value on every step, every page and every example.
"""

from __future__ import annotations

# Gates live in [0, 1]: a sequential, colour-blind-safe scale (perceptually uniform, CVD-friendly).
GATE_RANGE = (0.0, 1.0)
GATE_SCALE = "Viridis"
# States live in [-1, 1]: a diverging scale centred on 0 (blue negative, white 0, red positive),
# readable with the common forms of colour blindness.
STATE_RANGE = (-1.0, 1.0)
STATE_SCALE = "RdBu_r"
# The heatmap colour scales by kind (app/cell_views.py: GATE, STATE), each with its colour-bar title.
SCALES = {"gate": {"colours": GATE_SCALE, "range": GATE_RANGE, "title": "gate"},
          "state": {"colours": STATE_SCALE, "range": STATE_RANGE, "title": "state"}}

# The input sequence: a plain grey ramp, so it never reads as a gate or a state.
INPUT_SCALE = "Greys"
BIT_ZERO_COLOUR = "#f2f2f2"   # a 0 bit; a 1 bit is H_PREV_COLOUR
GRID_COLOUR = "#eeeeee"
ZERO_LINE_COLOUR = "#cccccc"

# Okabe–Ito colours: distinguishable with every common colour-vision deficiency.
H_PREV_COLOUR = "#0072B2"   # blue:   the old state h_{t-1}
H_TILDE_COLOUR = "#E69F00"  # orange: the candidate h̃_t
H_NEW_COLOUR = "#000000"    # black:  the new state h_t
RIGHT_COLOUR = "#009E73"    # green
WRONG_COLOUR = "#D55E00"    # vermillion
HIGHLIGHT_COLOUR = "#CC79A7"  # reddish purple: the chosen unit / strongest carry unit
NEUTRAL_COLOUR = "#999999"
# The three cells on the "Why gates?" page, one colour each wherever they appear
CELL_COLOURS = {"rnn": "#D55E00", "gru": "#0072B2", "lstm": "#009E73"}
# The GRU's ∂h_t/∂h_{t-1} split by path (gru_core.gradients.GRUStepParts), each in the colour of what
# it carries: the keep path copies h_{t-1}, the candidate path goes through h̃_t; their sum is black like h_t.
PATH_COLOURS = {"all": H_NEW_COLOUR, "keep": H_PREV_COLOUR, "candidate": H_TILDE_COLOUR, "gate": HIGHLIGHT_COLOUR}

# The current-step marker is drawn twice — a dark outline and a light one inside it — so it stands
# out on every colour of both scales.
STEP_MARKER_OUTER = "#000000"
STEP_MARKER_INNER = "#FFFFFF"

FONT_SIZE = 14
PRESENT_FONT_SIZE = 20
ROW_HEIGHT_PX = 22          # interpolation plot: pixels per hidden unit
MAX_FIGURE_HEIGHT = 1400
# Write 0/1 in the bit cells only while they are wide enough to read (and cheap to draw: plotly.js
# lays out every cell's text on each step, which doubled the repaint time at 64-bit operands).
BIT_TEXT_MAX_STEPS = 40

PLOTLY_CONFIG = {"displaylogo": False, "scrollZoom": False,
                 "modeBarButtonsToRemove": ["select2d", "lasso2d"]}

# Presentation mode: larger type everywhere, for a projector at the back of a room.
PRESENT_CSS = """
<style>
[data-testid="stMain"] .stMarkdown p, [data-testid="stMain"] li { font-size: 1.3rem; line-height: 1.5; }
[data-testid="stMain"] h1 { font-size: 2.6rem; }
[data-testid="stMain"] .katex { font-size: 1.45em; }
[data-testid="stMain"] button p { font-size: 1.15rem; }
[data-testid="stMainBlockContainer"] { padding-top: 2rem; padding-bottom: 1rem; max-width: 100%; }
</style>
"""
