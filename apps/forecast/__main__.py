"""`python -m apps.forecast` runs the forecast command line."""

from apps.forecast.cli import main

main()
