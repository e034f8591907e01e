"""`export`: a sentiment run as a SavedModel (and, on request, TensorFlow Lite models) for serving."""

import numpy as np

from apps.sentiment.commands import load_run_model


def export(run_dir, export_base, version=None, format="saved_model", quantize=False):
    """Writes `export_base/<version>/` for TensorFlow Serving; returns its path.

    With `format="tflite"`, `<version>/tflite/` also holds `model.tflite`
    (and `model.int8.tflite` with `quantize`) with the vocabularies its
    client needs (`apps.sentiment.tflite`), each checked against the Keras
    model, written in the same atomic step.
    """
    from apps.sentiment.model import INPUT_SIGNATURE, SAMPLE_TEXTS, serving_function
    from seqcore.export import export_classifier
    from seqcore.tflite import extra_writer

    model = load_run_model(run_dir)
    writer = None
    if format == "tflite":
        from apps.sentiment.tflite import tflite_models

        writer = extra_writer(lambda: tflite_models(model, SAMPLE_TEXTS), quantize=quantize)
    return export_classifier(export_base, model, serving_function(model), INPUT_SIGNATURE,
                             {"text": np.array(SAMPLE_TEXTS, dtype=object)}, version=version, extra_writer=writer)
