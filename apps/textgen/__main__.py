"""`python -m apps.textgen` runs the text generation command line."""

from apps.textgen.cli import main

main()
