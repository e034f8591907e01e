"""`python -m apps.sentiment` runs the sentiment command line."""

from apps.sentiment.cli import main

main()
