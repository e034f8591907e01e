"""`python -m seqcore` runs the `seqcore` command line."""

from seqcore.cli.main import main

main()
