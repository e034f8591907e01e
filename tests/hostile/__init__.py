"""Hostile inputs and interrupted writes (issue 7): every reader fails cleanly or succeeds."""
