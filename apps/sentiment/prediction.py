"""`predict`: texts from arguments, a file or stdin, labelled by a run or an export, in bounded memory."""

import itertools
import json
import re
from pathlib import Path

from apps.sentiment import data as sentiment_data
from apps.sentiment.commands import load_run_model
from seqcore.errors import SeqcoreError
from seqcore.text import decode_utf8


#: Texts per model call in `predict`: memory stays bounded whatever the input size.
PREDICT_BATCH = 256


def gather_texts(texts=(), file=None, stdin=None):
    """Inputs for `predict`: arguments, then a file (or `-` for stdin), else piped stdin.

    Arguments and stdin are read and checked at once; a file is streamed
    line by line (non-empty lines, stripped) and checked as it is read, so
    a file of any size takes bounded memory.

    Returns:
        An iterator of texts.
    """
    texts = list(texts)
    for position, text in enumerate(texts, start=1):
        _check_text(position, text)
    if file is not None and str(file) != "-":
        lines = _file_texts(file)
        first = next(lines)  # raises the file's own errors (missing, no text) before any output
        return itertools.chain(texts, [first], lines)
    if file is not None:
        texts += sentiment_data.read_texts(file)
    elif not texts and stdin is not None and not stdin.isatty():
        texts = sentiment_data.read_texts("-", required=False)
    if not texts:
        raise SeqcoreError(
            "no input text; expected TEXT arguments, --file PATH, or lines on stdin"
        )
    for position, text in enumerate(texts, start=1):
        _check_text(position, text)
    return iter(texts)


def _check_text(position, text):
    if not text.strip():
        raise SeqcoreError(f"input {position} is empty; expected non-empty text")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise SeqcoreError(
            f"input {position} is not valid UTF-8; expected UTF-8 text; received: {text!r}"
        ) from None


def _file_texts(path):
    """Non-empty stripped lines of a UTF-8 file, read one line at a time (generator).

    Lines end at \\n, \\r\\n or \\r, as in `sentiment_data.read_texts`, whose
    errors it repeats.
    """
    file = Path(path)
    if file.is_dir():
        raise SeqcoreError(f"expected a text file with one text per line; received a directory: {path}")
    if not file.is_file():
        raise SeqcoreError(f"text file not found: {path}; expected a file with one text per line")
    found, offset = False, 0
    with open(file, "rb") as stream:
        for raw in stream:
            line = decode_utf8(raw, path, offset=offset)
            offset += len(raw)
            for text in re.split(r"\r\n?|\n", line):
                if text.strip():
                    found = True
                    yield text.strip()
    if not found:
        raise SeqcoreError(f"{path} has no text; expected one text per non-empty line")


def predict_batches(model_path, texts, batch_size=None):
    """Like `predict`, lazily: one list of results per `batch_size` texts.

    The model is loaded once; `texts` may be any iterable (a streamed file),
    and at most one batch of texts and results is held at a time.
    """
    model_path = Path(model_path)
    if not model_path.is_dir():
        problem = "a file" if model_path.exists() else "nothing there"
        raise SeqcoreError(
            f"not a model: {model_path}; expected a run or export directory, found {problem}"
        )
    from seqcore.export import is_export

    if not is_export(model_path):
        import tensorflow as tf

        from apps.sentiment.model import INPUT_SIGNATURE, serving_function

        model = load_run_model(model_path)
        class_names = model.class_names
        serve = tf.function(serving_function(model), input_signature=INPUT_SIGNATURE)

        def label(batch):
            probabilities = serve(tf.constant(batch))["probabilities"].numpy()
            return [class_names[i] for i in probabilities.argmax(axis=-1)], probabilities
    else:
        loaded, class_names = _load_export(model_path)

        def label(batch):
            import tensorflow as tf

            outputs = loaded.signatures["serving_default"](text=tf.constant(batch))
            labels = [name.decode("utf-8") for name in outputs["label"].numpy()]
            return labels, outputs["probabilities"].numpy()

    texts, batch_size = iter(texts), batch_size or PREDICT_BATCH
    while batch := list(itertools.islice(texts, batch_size)):
        labels, probabilities = label(batch)
        names = class_names or [str(i) for i in range(probabilities.shape[-1])]
        yield [
            {
                "text": text,
                "label": name,
                "probabilities": {n: float(p) for n, p in zip(names, row)},
            }
            for text, name, row in zip(batch, labels, probabilities)
        ]


def predict(model_path, texts):
    """Labels and class probabilities from a run directory or an export.

    Returns:
        A list of dicts: `text`, `label`, `probabilities` (name -> float).
    """
    return [result for batch in predict_batches(model_path, texts) for result in batch]


def _load_export(path):
    """The loaded export (checked to be a sentiment one) and its class names (None without metadata)."""
    from seqcore.export import open_export

    loaded, metadata = open_export(path)
    signature = loaded.signatures.get("serving_default")
    if signature is None or "text" not in signature.structured_input_signature[1]:
        raise SeqcoreError(
            f"not a sentiment export: {path}; expected a serving_default signature "
            "with a `text` input"
        )
    names = metadata.get("class_names")
    class_names = None if names is None else [name.decode("utf-8") for name in names]
    return loaded, class_names


def format_predictions(predictions, as_json=False):
    """One line per input: label, its probability and the (shortened) text."""
    if as_json:
        return "\n".join(json.dumps(p) for p in predictions)
    lines = []
    for p in predictions:
        text = " ".join(p["text"].split())  # one line per input, whatever the text holds
        text = text if len(text) <= 60 else text[:57] + "..."
        lines.append(f"{p['label']}\t{p['probabilities'][p['label']]:.3f}\t{text}")
    return "\n".join(lines)
