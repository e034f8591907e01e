"""Builds the text generation model: tokenizer + recurrent backbone + next-token head."""

from apps.textgen.preprocessing import TextTokenizer
from seqcore.backbone import RecurrentBackbone
from seqcore.language_model import CausalLM


def build_language_model(config, vocabulary):
    """Makes an untrained `CausalLM` over `vocabulary` (built on the training part only).

    Args:
        config: the run configuration (`tokenizer`, `backbone`, `head`).
        vocabulary: the known tokens, most frequent first.

    Returns:
        A `CausalLM` whose preprocessor is a `TextTokenizer`.

    Example:

    >>> config = {"tokenizer": {"level": "char"}, "backbone": {"cell": "gru", "units": 8},
    ...           "head": {"dropout": 0.0, "learning_rate": 0.002}}
    >>> model = build_language_model(config, list("ab "))
    >>> model.vocabulary_size
    5
    """
    tokenizer = TextTokenizer(config["tokenizer"]["level"], vocabulary=vocabulary)
    backbone = RecurrentBackbone(vocabulary_size=tokenizer.vocabulary_size, **config["backbone"])
    return CausalLM(backbone, preprocessor=tokenizer, **config["head"])
