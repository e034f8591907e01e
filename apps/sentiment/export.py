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
    from seqcore.export import export_saved_model
    from seqcore.tflite import extra_writer

    model = load_run_model(run_dir)
    writer = None
    if format == "tflite":
        from apps.sentiment.tflite import tflite_models

        writer = extra_writer(lambda: tflite_models(model, SAMPLE_TEXTS), quantize=quantize)
    probabilities = model.predict(np.array(SAMPLE_TEXTS, dtype=object), verbose=0)
    labels = [model.class_names[i] for i in probabilities.argmax(axis=-1)]
    return export_saved_model(
        export_base,
        serving_function(model),
        INPUT_SIGNATURE,
        sample_inputs={"text": SAMPLE_TEXTS},
        expected_outputs={"probabilities": probabilities, "label": labels},
        track=[model, model.preprocessor],
        metadata={"class_names": model.class_names},
        version=version,
        extra_writer=writer,
    )
