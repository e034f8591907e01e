"""`SequenceClassifier`: a backbone with a softmax classification head."""

import keras

from seqcore.task import Task


@keras.saving.register_keras_serializable(package="seqcore")
class SequenceClassifier(Task, keras.Model):
    """Classifies a whole sequence from the backbone's `pooled_output`.

    Args:
        backbone: a `RecurrentBackbone` (or any model with the same outputs).
        class_names: the label of each class, in output order.
        preprocessor: optional layer mapping raw inputs to the backbone's
            input; saved with the model and applied by `fit` / `predict`.
        dropout: dropout before the output layer.

    Returns:
        Class probabilities `(batch, len(class_names))`, float32.

    Example:

    >>> import numpy as np
    >>> from seqcore.backbone import RecurrentBackbone
    >>> backbone = RecurrentBackbone(cell="lstm", units=8, vocabulary_size=50)
    >>> model = SequenceClassifier(backbone, class_names=["neg", "pos"])
    >>> model.predict(np.array([[3, 4, 0]]), verbose=0).shape
    (1, 2)
    """

    def __init__(self, backbone, class_names, preprocessor=None, dropout=0.2, **kwargs):
        class_names = [str(name) for name in class_names]
        if len(class_names) < 2:
            raise ValueError(
                f"A classifier needs at least 2 classes; received: {class_names}"
            )

        # === Layers ===
        head_dropout = keras.layers.Dropout(dropout, name="head_dropout")
        output_dense = keras.layers.Dense(
            len(class_names), activation="softmax", dtype="float32", name="probabilities"
        )

        # === Functional Model ===
        inputs = backbone.input
        pooled = backbone(inputs)["pooled_output"]
        outputs = output_dense(head_dropout(pooled))
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)

        # === Config ===
        self.backbone = backbone
        self.preprocessor = preprocessor
        self.class_names = class_names
        self.dropout = float(dropout)

    def compile(self, optimizer="auto", loss="auto", metrics="auto", **kwargs):
        """Compiles with Adam (gradients clipped), cross-entropy and accuracy."""
        if optimizer == "auto":
            optimizer = keras.optimizers.Adam(1e-3, clipnorm=1.0)
        if loss == "auto":
            loss = keras.losses.SparseCategoricalCrossentropy()
        if metrics == "auto":
            metrics = [keras.metrics.SparseCategoricalAccuracy(name="accuracy")]
        super().compile(optimizer=optimizer, loss=loss, metrics=metrics, **kwargs)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "backbone": keras.layers.serialize(self.backbone),
                "class_names": self.class_names,
                "dropout": self.dropout,
            }
        )
        return config
