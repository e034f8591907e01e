"""`python -m seqcore.compare.worker SPEC_JSON`: one run of a comparison, in its own process."""

import sys

from seqcore.compare.runner import child_main

if __name__ == "__main__":
    child_main(sys.argv[1])
