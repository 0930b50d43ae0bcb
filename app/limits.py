"""Every limit and default the pages state, in one place (the pages quote these; nothing else does).

The caps keep one person's input from taking the server's time or memory from everyone else's.
"""

from __future__ import annotations

# The caps on any GRU a page runs are the upload reader's (uploads are where they bite first).
from gru_core.checkpoints import MAX_CHECKPOINT_BYTES, MAX_FEATURES, MAX_HIDDEN  # noqa: F401 (re-exported)

# -- bit addition ----------------------------------------------------------------------------------
MAX_OPERAND_BITS = 1024    # operands up to this many bits
MAX_OPERAND_CHARS = 1100   # a 1024-bit number written as 0b…; anything longer is refused unparsed
DEFAULT_A, DEFAULT_B = 45, 27   # 101101 + 011011: a carry out of all six columns (72 needs 7 bits)
RANDOM_BITS = (8, 16, 64, 256, 1024)   # sizes offered for a random example

# -- your sequence -----------------------------------------------------------------------------------
MAX_STEPS = 2048
MAX_ABS_VALUE = 1e6        # inputs beyond this saturate every gate long before: refused
MAX_CSV_BYTES = 2_000_000
MAX_LINK_SEQUENCE_CHARS = 20_000   # a typed sequence read from a link
LINK_SEQUENCE_CHARS = 1_500        # a longer typed sequence stays out of the link it writes
MAX_INIT_SCALE = 10.0
DEFAULT_HIDDEN = 8         # the seeded random GRU's hidden units, until a person picks others
MAX_SEED = 2**32 - 1       # the largest seed a page takes (numpy's and torch's seeds both reach it)
DEFAULT_NUMBERS = "0, 1, 1, 0, 1, 0, 0, 0, 1, 1, 1, 1, 0, 1"
DEFAULT_TEXT = "this is a fantasy book ... i didn't quite enjoy it"

# -- train it yourself -------------------------------------------------------------------------------
MAX_LIVE_TRAININGS = 2     # at once per server (one per core); others queue (app/training_slots.py)
TRAIN_HIDDEN_RANGE, TRAIN_DEFAULT_HIDDEN = (2, 32), 16              # hidden units
TRAIN_BITS_RANGE, TRAIN_DEFAULT_BITS = (2, 16), 8                   # operand bits of the training sums
TRAIN_ITERATIONS_RANGE, TRAIN_DEFAULT_ITERATIONS = (10, 5_000), 600   # iterations of the learn stage
TRAIN_ITERATION_STEP = 50
TRAIN_LEARNING_RATES, TRAIN_DEFAULT_LR = (1e-3, 3e-3, 1e-2, 3e-2), 1e-2   # the rates offered

# -- parameter lab -----------------------------------------------------------------------------------
LAB_MAX_HIDDEN = 4
LAB_MAX_INPUTS = 2

# -- one server process (app/capacity.py) ------------------------------------------------------------
MAX_SESSIONS_PER_PROCESS = 100           # tabs served at once; a tab beyond it is told so at once
MESSAGE_CACHE_BYTES = 256 * 2**20        # step-view messages kept for all tabs together
TRACE_CACHE_BYTES = 512 * 2**20          # recorded runs of people's own sequences, for all tabs together
UPLOAD_CACHE_BYTES = 256 * 2**20         # models read from uploaded files, for all tabs together

