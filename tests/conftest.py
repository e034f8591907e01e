"""Settings for the whole test suite."""

import os

# Tests train tiny models many times: they run seqcore's loop rather than
# timing both loops for each (tests/seqcore/test_loop_tuning.py covers "auto").
os.environ.setdefault("SEQCORE_TRAINING_LOOP", "seqcore")
