"""Transfer between tasks: start a model's backbone from another run's trained backbone.

`init_backbone(backbone, run_dir, vocabulary)` copies the embedding and
recurrent weights of the run's model (any task whose model keeps a
`backbone`: a classifier, a language model) into `backbone`, once it has
checked that the two fit: same cell, units, layers, direction, embedding
width and the same token vocabulary, in the same order. A backbone that
does not fit stops with one line naming what differs.

A word-level language model (a textgen run) has no classifier vocabulary to
match: a task started from one adopts its vocabulary instead
(`language_model_vocabulary`), so its token ids are the ones the language
model's embedding was trained on.
"""

import json
from pathlib import Path

from seqcore.errors import SeqcoreError

#: Ids 0 and 1 of every token vocabulary here: padding and the unknown token.
SPECIAL_TOKENS = ("", "[UNK]")


def language_model_vocabulary(run_dir):
    """The token vocabulary (specials excluded) of a word-level language-model run, else None.

    Reads the run's `config.json` and `vocabulary.json` (written by
    `seqcore textgen train --level word`); any other run gives None.

    Example:

    >>> language_model_vocabulary("no/such/run") is None
    True
    """
    config_path, vocabulary_path = Path(run_dir) / "config.json", Path(run_dir) / "vocabulary.json"
    if not (config_path.is_file() and vocabulary_path.is_file()):
        return None
    config = json.loads(config_path.read_text(encoding="utf-8"))
    if config.get("tokenizer", {}).get("level") != "word":
        return None
    return _tokens(json.loads(vocabulary_path.read_text(encoding="utf-8")))

#: Backbone settings that must agree for the weights to carry over.
FITTING_KEYS = ("cell", "units", "num_layers", "bidirectional", "embedding_dim", "vocabulary_size")


def _vocabulary(model):
    """The source model's token vocabulary, or None when its preprocessor keeps none."""
    preprocessor = getattr(model, "preprocessor", None)
    tokens = getattr(preprocessor, "tokens", preprocessor)  # a wide & deep model's token path
    vectorizer = getattr(tokens, "vectorizer", None)
    if vectorizer is not None and hasattr(vectorizer, "get_vocabulary"):
        return list(vectorizer.get_vocabulary())
    vocabulary = getattr(tokens, "vocabulary", None)
    return None if vocabulary is None else list(vocabulary)


def _tokens(vocabulary):
    """A vocabulary without its leading padding and unknown tokens (kept by some layers, not others).

    A language model's separator tokens (a space, a newline) become
    placeholders that no whitespace-split word can equal, so ids stay in
    place and the vocabulary can be saved one token per line.

    Example:

    >>> _tokens(["", "[UNK]", "the", " ", "film"])
    ['the', '[whitespace 1]', 'film']
    """
    vocabulary = list(vocabulary)
    while vocabulary and vocabulary[0] in SPECIAL_TOKENS:
        vocabulary = vocabulary[1:]
    return [f"[whitespace {i}]" if not token.strip() else token for i, token in enumerate(vocabulary)]


def _settings(backbone):
    settings = {key: getattr(backbone, key, None) for key in FITTING_KEYS}
    settings["embedding_dim"] = settings["embedding_dim"] or settings["units"]
    return settings


def init_backbone(backbone, run_dir, vocabulary=None):
    """Copies a finished run's backbone weights into `backbone`.

    Args:
        backbone: the new model's `RecurrentBackbone` (built, untrained).
        run_dir: a finished run directory holding `model.keras`.
        vocabulary: the new model's token vocabulary, checked against the
            source's when both are known.

    Raises:
        SeqcoreError: no model there, or the backbones do not fit.
    """
    from seqcore.saving import load_model

    path = Path(run_dir) / "model.keras"
    if not path.is_file():
        raise SeqcoreError(f"--init-from {run_dir} holds no model.keras; expected a finished run directory")
    source_model = load_model(path)
    source = getattr(source_model, "backbone", None)
    if source is None:
        raise SeqcoreError(f"--init-from {run_dir}: its model has no recurrent backbone; "
                           "expected a run of a task built on RecurrentBackbone")
    ours, theirs = _settings(backbone), _settings(source)
    differing = [f"{key} {theirs[key]} (expected {ours[key]})" for key in FITTING_KEYS if ours[key] != theirs[key]]
    if not differing and vocabulary is not None:
        source_vocabulary = _vocabulary(source_model)
        if source_vocabulary is not None and _tokens(source_vocabulary) != _tokens(vocabulary):
            differing.append("vocabulary (other tokens or another order)")
    if differing:
        raise SeqcoreError(f"--init-from {run_dir}: its backbone does not fit; it differs in "
                           + ", ".join(differing))
    backbone.set_weights(source.get_weights())
