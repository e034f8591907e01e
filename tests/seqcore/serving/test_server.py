"""The REST API against tiny exports: status, metadata, predict, malformed requests, limits."""

import numpy as np
import pytest
import tensorflow as tf

pytest.importorskip("waitress", reason="`seqcore serve` needs the `serve` extra: pip install -e '.[serve]'")

TEXTS = ["a great film", "dull and long, hated it"]


def direct(exports, name, **inputs):
    loaded = tf.saved_model.load(str(exports / name / "1"))
    outputs = loaded.signatures["serving_default"](**{k: tf.constant(v) for k, v in inputs.items()})
    return {k: v.numpy() for k, v in outputs.items()}


def test_status(served):
    client, _ = served
    status, body = client.request("/v1/models/sentiment")
    assert status == 200
    assert body == {"model_version_status": [
        {"version": "1", "state": "AVAILABLE", "status": {"error_code": "OK", "error_message": ""}}]}
    assert client.request("/v1/models/sentiment/versions/1")[0] == 200


def test_metadata(served):
    client, _ = served
    status, body = client.request("/v1/models/sentiment/metadata")
    assert status == 200
    assert body["model_spec"] == {"name": "sentiment", "signature_name": "", "version": "1"}
    signature = body["metadata"]["signature_def"]["signature_def"]["serving_default"]
    text = signature["inputs"]["text"]
    assert text["dtype"] == "DT_STRING"
    assert text["tensor_shape"]["dim"][0]["size"] == "-1"
    assert signature["outputs"]["label"]["dtype"] == "DT_STRING"
    assert signature["outputs"]["probabilities"]["dtype"] == "DT_FLOAT"
    assert signature["method_name"] == "tensorflow/serving/predict"
    assert "metadata" in body["metadata"]["signature_def"]["signature_def"]


def test_unknown_model_and_version(served):
    client, _ = served
    assert client.request("/v1/models/nope") == (
        404, {"error": "Servable not found for request: Latest(nope)"})
    assert client.request("/v1/models/nope:predict", {"instances": ["x"]}) == (
        404, {"error": "Servable not found for request: Latest(nope)"})
    assert client.request("/v1/models/sentiment/versions/9:predict", {"instances": ["x"]}) == (
        404, {"error": "Servable not found for request: Specific(sentiment, 9)"})
    assert client.request("/v1/models/sentiment/versions/9/metadata")[0] == 404


def test_predict_row_format(served, exports):
    client, _ = served
    status, body = client.request("/v1/models/sentiment:predict", {"instances": TEXTS})
    assert status == 200
    expected = direct(exports, "sentiment", text=TEXTS)
    assert [p["label"] for p in body["predictions"]] == [l.decode() for l in expected["label"]]
    np.testing.assert_allclose([p["probabilities"] for p in body["predictions"]],
                               expected["probabilities"], atol=1e-6)
    # named instances and an explicit version / signature
    status, named = client.request("/v1/models/sentiment/versions/1:predict", {
        "signature_name": "serving_default", "instances": [{"text": t} for t in TEXTS]})
    assert status == 200 and named == body


def test_predict_columnar_format(served, exports):
    client, _ = served
    status, body = client.request("/v1/models/sentiment:predict", {"inputs": {"text": TEXTS}})
    assert status == 200
    expected = direct(exports, "sentiment", text=TEXTS)
    assert body["outputs"]["label"] == [l.decode() for l in expected["label"]]
    np.testing.assert_allclose(body["outputs"]["probabilities"], expected["probabilities"], atol=1e-6)
    assert client.request("/v1/models/sentiment:predict", {"inputs": TEXTS}) == (200, body)


def test_predict_b64_strings(served):
    client, _ = served
    plain = client.request("/v1/models/sentiment:predict", {"instances": ["loved it"]})
    b64 = client.request("/v1/models/sentiment:predict", {"instances": [{"b64": "bG92ZWQgaXQ="}]})
    assert plain == b64


def test_predict_forecast_and_speech(served, exports):
    client, _ = served
    history = np.random.default_rng(3).normal(size=(2, 6, 2)).astype("float32")
    status, body = client.request("/v1/models/forecast:predict", {"instances": history.tolist()})
    assert status == 200
    expected = direct(exports, "forecast", history=history)
    for name in ("forecast", "lower", "upper", "quantiles"):
        np.testing.assert_allclose([p[name] for p in body["predictions"]], expected[name], atol=1e-6)
    audio = np.random.default_rng(4).uniform(-1, 1, size=(3, 400)).astype("float32")
    status, body = client.request("/v1/models/speech:predict", {"inputs": {"audio": audio.tolist()}})
    assert status == 200
    expected = direct(exports, "speech", audio=audio)
    assert body["outputs"]["label"] == [l.decode() for l in expected["label"]]


MALFORMED = [
    ("sentiment", b'{"instances": ["unterminated', "JSON Parse error"),
    ("sentiment", b'["a list"]', "JSON object"),
    ("sentiment", {"instances": [{"txt": "hello"}]}, "txt"),
    ("sentiment", {"inputs": {"words": ["hello"]}}, "words"),
    ("sentiment", {"instances": [3, 4]}, "dtype"),
    ("sentiment", {"instances": [["nested"], ["list"]]}, "rank"),
    ("sentiment", {"instances": []}, "empty"),
    ("sentiment", {"instances": ["x" * 6000]}, "6000 characters"),
    ("sentiment", {"text": ["no instances key"]}, "instances"),
    ("sentiment", {"signature_name": "nope", "instances": ["x"]}, "nope"),
    ("forecast", b'{"instances": [[[1.0, NaN], [2.0, 3.0]]]}', "NaN"),
    ("forecast", {"instances": [[1.0, 2.0]]}, "rank"),
    ("forecast", {"instances": [[[1.0, 2.0, 3.0]]]}, "shape"),
    ("forecast", {"instances": [[["a", "b"]]]}, "dtype"),
    ("forecast", {"instances": [[[1.0, 2.0]], [[1.0, 2.0], [3.0, 4.0]]]}, "ragged"),
    ("speech", {"instances": [[0.0] * 399]}, "399"),
]


@pytest.mark.parametrize("model,payload,named", MALFORMED, ids=[m[2] for m in MALFORMED])
def test_malformed_request_400_then_good_request(served, model, payload, named):
    client, _ = served
    raw = payload if isinstance(payload, bytes) else None
    status, body = client.request(f"/v1/models/{model}:predict", None if raw else payload, raw=raw)
    assert status == 400, body
    assert set(body) == {"error"} and named in body["error"], body
    status, good = client.request("/v1/models/sentiment:predict", {"instances": ["loved it"]})
    assert status == 200 and good["predictions"][0]["label"] in ("negative", "positive")


def test_limits(served):
    client, _ = served
    status, body = client.request("/v1/models/sentiment:predict", raw=b'{"instances": ["' + b"a " * 150_000 + b'"]}')
    assert status == 413 and "limit" in body["error"]
    status, body = client.request("/v1/models/sentiment:predict", {"instances": ["ok"] * 33})
    assert status == 400 and "too many instances: 33" in body["error"]
    assert client.request("/v1/models/sentiment:predict", {"instances": ["ok"] * 32})[0] == 200


def test_timeout_is_a_clear_4xx(exports):
    from tests.seqcore.serving.serving_helpers import Client, start_server

    registry, server = start_server({"sentiment": exports / "sentiment"}, timeout=0.001, max_batch=1)
    try:
        status, body = Client(server.url).request(
            "/v1/models/sentiment:predict", {"instances": ["a long text " * 300] * 32})
        assert status == 408 and "timed out" in body["error"]
    finally:
        registry.stop()
        server.stop()


def test_concurrent_requests_are_batched_and_correct(served, exports):
    import concurrent.futures

    client, _ = served
    texts = [f"text number {i} great" if i % 2 else f"dull {i}" for i in range(24)]
    expected = direct(exports, "sentiment", text=texts)

    def one(i):
        return client.request("/v1/models/sentiment:predict", {"instances": [texts[i]]})

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        results = list(pool.map(one, range(len(texts))))
    assert all(status == 200 for status, _ in results)
    got = np.array([body["predictions"][0]["probabilities"] for _, body in results])
    np.testing.assert_allclose(got, expected["probabilities"], atol=1e-5)
