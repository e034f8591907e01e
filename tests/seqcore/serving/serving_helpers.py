"""Tiny exports (no training), a JSON client and a server on an ephemeral 127.0.0.1 port."""

import json
import urllib.error
import urllib.request

import numpy as np

SENTENCES = ["a great film", "a dull film", "great acting", "dull and long", "loved it", "hated it"]


def export_sentiment(base, version=None, seed=0):
    """A tiny untrained sentiment export, made the way `seqcore sentiment export` makes one."""
    import keras

    from apps.sentiment.model import INPUT_SIGNATURE, SAMPLE_TEXTS, build_classifier, serving_function
    from seqcore.export import export_saved_model

    keras.utils.set_random_seed(seed)
    config = {"preprocessing": {"max_tokens": 50, "sequence_length": 12},
              "backbone": {"cell": "gru", "units": 4}, "head": {"dropout": 0.0}}
    model = build_classifier(config, SENTENCES, ["negative", "positive"])
    probabilities = model.predict(np.array(SAMPLE_TEXTS, dtype=object), verbose=0)
    labels = [model.class_names[i] for i in probabilities.argmax(axis=-1)]
    return export_saved_model(
        base, serving_function(model), INPUT_SIGNATURE,
        sample_inputs={"text": SAMPLE_TEXTS},
        expected_outputs={"probabilities": probabilities, "label": labels},
        track=[model, model.preprocessor], metadata={"class_names": model.class_names},
        version=version,
    )


def export_forecast(base):
    """A forecast-shaped export: `history` [batch, steps, 2] -> forecast / lower / upper / quantiles."""
    import keras
    import tensorflow as tf

    from seqcore.export import export_saved_model

    keras.utils.set_random_seed(1)
    dense = keras.layers.Dense(4 * 3)
    dense.build((None, 2))

    def serve(history):
        q = tf.reshape(dense(tf.reduce_mean(history, axis=1)), [-1, 4, 1, 3])
        q = tf.sort(q, axis=-1)
        return {"forecast": q[..., 1], "lower": q[..., 0], "upper": q[..., -1], "quantiles": q}

    sample = np.random.default_rng(0).normal(size=(2, 6, 2)).astype("float32")
    expected = serve(tf.constant(sample))
    return export_saved_model(
        base, serve, [tf.TensorSpec([None, None, 2], tf.float32, name="history")],
        sample_inputs={"history": sample},
        expected_outputs={k: v.numpy() for k, v in expected.items()},
        track=[dense], metadata={"horizon": 4, "lookback": 6},
    )


def export_speech(base, clip_samples=400):
    """A speech-shaped export: `audio` [batch, samples] -> label / probabilities, metadata clip_samples."""
    import keras
    import tensorflow as tf

    from seqcore.export import export_saved_model

    keras.utils.set_random_seed(2)
    dense = keras.layers.Dense(3, activation="softmax")
    dense.build((None, 2))
    names = tf.constant(["yes", "no", "up"])

    def serve(audio):
        features = tf.stack([tf.reduce_mean(audio, -1), tf.math.reduce_std(audio, -1)], axis=-1)
        probabilities = dense(features)
        return {"label": tf.gather(names, tf.argmax(probabilities, -1)), "probabilities": probabilities}

    sample = np.random.default_rng(0).uniform(-1, 1, size=(2, clip_samples)).astype("float32")
    expected = serve(tf.constant(sample))
    return export_saved_model(
        base, serve, [tf.TensorSpec([None, None], tf.float32, name="audio")],
        sample_inputs={"audio": sample},
        expected_outputs={k: v.numpy() for k, v in expected.items()},
        track=[dense], metadata={"class_names": ["yes", "no", "up"], "sample_rate": 8000,
                                 "clip_samples": clip_samples},
    )


class Client:
    """A minimal JSON client (what a user would write against TensorFlow Serving)."""

    def __init__(self, url):
        self.url = url

    def request(self, path, payload=None, raw=None, method=None, timeout=30):
        data = raw if raw is not None else (None if payload is None else json.dumps(payload).encode())
        request = urllib.request.Request(self.url + path, data=data, method=method)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())


def start_server(models, poll_interval=0.2, limits=None, timeout=30.0, **kwargs):
    from seqcore.serving.registry import ModelRegistry
    from seqcore.serving.server import ModelServer, ServingApp

    registry = ModelRegistry(models, poll_interval=poll_interval)
    registry.load_initial()
    app = ServingApp(registry, limits, timeout=timeout, **kwargs)
    server = ModelServer(app, host="127.0.0.1", port=0, threads=8).start()
    registry.start()
    return registry, server
