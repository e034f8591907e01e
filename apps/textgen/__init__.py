"""Text generation: a character- or word-level recurrent language model over any corpus."""
