"""`Task`: a model that owns its preprocessor and runs it on raw inputs."""

import keras
import tensorflow as tf


class Task:
    """Mixin of task models (classifier, forecaster, language model).

    A task is a Keras model over preprocessed inputs (token ids, features)
    that also holds the `preprocessor` turning raw inputs (text, audio) into
    them. `fit`, `evaluate` and `predict` accept raw inputs and run the
    preprocessor inside `tf.data`, so the model itself stays a pure numeric
    graph. The preprocessor is saved with the model.

    Subclass it together with `keras.Model`: `class MyTask(Task,
    keras.Model)`. It is a mixin, not a `keras.Model` subclass, because
    Keras rewrites the base classes of a model built functionally
    (`inputs=`, `outputs=`) in place, which would turn every other task
    sharing that base into a functional model too.

    Example:

    >>> class Regressor(Task, keras.Model):
    ...     pass
    """

    preprocessor = None

    def preprocess_dataset(self, dataset):
        """Maps the preprocessor over the features of a batched dataset."""
        if self.preprocessor is None:
            return dataset

        def apply(*example):
            features = self.preprocessor(example[0])
            return (features, *example[1:])

        return dataset.map(apply, num_parallel_calls=tf.data.AUTOTUNE).prefetch(
            tf.data.AUTOTUNE
        )

    def _as_dataset(self, x, y=None, batch_size=None, shuffle=False):
        if isinstance(x, tf.data.Dataset):
            return self.preprocess_dataset(x)
        if isinstance(x, tuple) and y is None:
            x, y = x
        tensors = x if y is None else (x, y)
        dataset = tf.data.Dataset.from_tensor_slices(tensors)
        if y is None:
            dataset = dataset.map(lambda features: (features,))
        if shuffle:
            dataset = dataset.shuffle(len(x), reshuffle_each_iteration=True)
        return self.preprocess_dataset(dataset.batch(batch_size or 32))

    def fit(self, x=None, y=None, batch_size=None, validation_data=None, shuffle=True, **kwargs):
        if validation_data is not None:
            validation_data = self._as_dataset(validation_data, batch_size=batch_size)
        return super().fit(
            self._as_dataset(x, y, batch_size, shuffle=shuffle),
            validation_data=validation_data,
            shuffle=False,  # `_as_dataset` shuffled already, where asked
            **kwargs,
        )

    def evaluate(self, x=None, y=None, batch_size=None, **kwargs):
        if not kwargs.get("_use_cached_eval_dataset"):
            # `fit` passes its already preprocessed validation data this way.
            x, y = self._as_dataset(x, y, batch_size), None
        return super().evaluate(x, y, batch_size=batch_size, **kwargs)

    def predict(self, x, batch_size=None, **kwargs):
        return super().predict(self._as_dataset(x, batch_size=batch_size), **kwargs)

    def get_compile_config(self):
        return {"defaults": True} if self.compiled else None

    def compile_from_config(self, config):
        """Loaded tasks compile with their own defaults (`compile()`)."""
        self.compile()

    def get_config(self):
        config = {"name": self.name, "trainable": self.trainable}
        if self.preprocessor is not None:
            config["preprocessor"] = keras.layers.serialize(self.preprocessor)
        return config

    @classmethod
    def from_config(cls, config):
        """Rebuilds the task from `get_config()`, its backbone and preprocessor deserialized."""
        config = dict(config)
        for key in ("backbone", "preprocessor"):
            if config.get(key) is not None:
                config[key] = keras.layers.deserialize(config[key])
        return cls(**config)
