"""`python -m apps.speech` runs the speech command line."""

from apps.speech.cli import main

main()
