"""Detection settings of `seqcore speech detect`, declared once (NumPy-free, so the CLI starts fast).

`benchmarks/streaming_kws.py` measures them on a long stream of held-out
speakers (the threshold is the lowest that kept the validation speaker's
stream at no more than 2 false accepts per hour).
"""

#: Moving-average window of the class probabilities, in ms.
AVERAGE_MS = 300.0
#: Averaged probability a keyword must reach.
THRESHOLD = 0.7
#: After a detection, no other for this long (ms).
SUPPRESSION_MS = 1000.0
#: Hops the averaging window must hold before anything is reported.
MINIMUM_COUNT = 3
#: Classes never reported.
BACKGROUND = ("_silence_", "_unknown_")
#: Audio per streaming step, in ms.
HOP_MS = 20.0
