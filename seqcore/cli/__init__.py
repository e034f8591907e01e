"""Command-line helpers shared by `seqcore` and every `seqcore-<task>` script.

Nothing here imports TensorFlow: commands import it when they run, so
`--help` answers at once.
"""
