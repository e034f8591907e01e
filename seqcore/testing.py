"""Reusable test batteries for backbones and tasks (like keras-hub's TestCase).

One call runs the checks every backbone or task must pass, so a new
backbone gets the whole battery by calling `run_backbone_test`.
"""

import numpy as np
import tensorflow as tf

from seqcore.saving import load_model


def _right_padded(sequence, total_steps, other):
    """Puts `sequence` (steps, ...) first in a batch with `other`, padded to `total_steps`."""
    padded = np.zeros((2, total_steps, *sequence.shape[1:]), dtype=sequence.dtype)
    padded[0, : len(sequence)] = sequence
    padded[1] = other
    return padded


def run_backbone_test(backbone, sequence, other, tmp_path=None, atol=1e-5, masked=True):
    """Checks shapes, masking invariance, gradients and serialization of a backbone.

    Args:
        backbone: a built backbone returning `sequence_output` / `pooled_output`.
        sequence: one unpadded example `(steps, ...)` (token ids or features).
        other: a longer example `(steps + k, ...)` to batch it with.
        tmp_path: a folder for the `.keras` round trip; skipped when None.
        atol: tolerance of the masking and round-trip comparisons.
        masked: whether the backbone masks padding. Without a mask (e.g.
            `ConvRecurrentBackbone`, whose inputs are fixed-length frames,
            pooled over time) `other` has the length of `sequence`, and the
            check is that batching leaves each example's output unchanged.

    Usage, in a test (`tmp_path` is pytest's)::

        run_backbone_test(RecurrentBackbone(cell="gru", units=4, num_features=3),
                          np.ones((3, 3), "float32"), np.ones((6, 3), "float32"))
    """
    alone = backbone(sequence[None])
    width = backbone.output_width
    steps = alone["sequence_output"].shape[1]
    assert tuple(alone["sequence_output"].shape) == (1, steps, width)
    assert tuple(alone["pooled_output"].shape) == (1, width)
    if masked:
        assert steps == len(sequence), f"expected one output step per input step; received {steps}"

    # A sequence alone and in a batch (right-padded to a longer one, where the backbone masks) agree.
    batch = _right_padded(sequence, len(other), other) if masked else np.stack([sequence, other])
    padded = backbone(batch)
    np.testing.assert_allclose(
        alone["pooled_output"][0], padded["pooled_output"][0], atol=atol,
        err_msg="pooled_output changed when the sequence was batched (and padded)",
    )
    np.testing.assert_allclose(
        alone["sequence_output"][0],
        padded["sequence_output"][0, :steps],
        atol=atol,
        err_msg="sequence_output at real steps changed when the sequence was batched (and padded)",
    )

    # Every trainable weight receives a gradient.
    projection = tf.random.stateless_normal((width,), seed=(1, 2))
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(backbone(batch, training=True)["pooled_output"] * projection)
    gradients = tape.gradient(loss, backbone.trainable_weights)
    for weight, gradient in zip(backbone.trainable_weights, gradients):
        assert gradient is not None, f"no gradient reaches {weight.path}"
        assert np.any(tf.convert_to_tensor(gradient).numpy() != 0), f"zero gradient for {weight.path}"

    # Config round trip, and a `.keras` round trip with no custom_objects.
    restored = type(backbone).from_config(backbone.get_config())
    assert restored.get_config() == backbone.get_config()
    if tmp_path is not None:
        path = f"{tmp_path}/backbone.keras"
        backbone.save(path)
        reloaded = load_model(path)
        np.testing.assert_allclose(
            # After the training-mode call above: batch normalization's moving statistics moved.
            reloaded(batch)["pooled_output"], backbone(batch)["pooled_output"], atol=atol
        )


def run_task_test(task, raw_inputs, targets, tmp_path, atol=1e-5):
    """Fits a task for one step, predicts on raw inputs, and round-trips it through `.keras`.

    Usage, in a test (`tmp_path` is pytest's)::

        run_task_test(classifier, np.array(["good", "bad"]), np.array([1, 0]), tmp_path)
    """
    task.compile()
    history = task.fit(raw_inputs, targets, batch_size=len(targets), epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    before = task.predict(raw_inputs, verbose=0)
    path = f"{tmp_path}/task.keras"
    task.save(path)
    reloaded = load_model(path)
    np.testing.assert_allclose(reloaded.predict(raw_inputs, verbose=0), before, atol=atol)
    return reloaded
