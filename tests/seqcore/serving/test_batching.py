"""Concurrent requests are merged into one model call; one bad request in a merged call fails alone."""

import concurrent.futures
import threading

import numpy as np
import pytest

pytest.importorskip("waitress", reason="`seqcore serve` needs the `serve` extra: pip install -e '.[serve]'")

from tests.seqcore.serving.serving_helpers import Client, start_server


@pytest.fixture(scope="module")
def doubling_export(tmp_path_factory):
    """`x` float32 [batch, 3] -> `y` = 2x; a negative value makes the model itself refuse the call."""
    import tensorflow as tf

    class Doubler(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([None, 3], tf.float32, name="x")])
        def serve(self, x):
            with tf.control_dependencies([tf.debugging.assert_non_negative(x, message="negative input")]):
                return {"y": 2.0 * x}

    base = tmp_path_factory.mktemp("doubler")
    module = Doubler()
    tf.saved_model.save(module, str(base / "1"), signatures={"serving_default": module.serve})
    return base


@pytest.fixture
def calls(monkeypatch):
    """The rows of every model call, in order."""
    from seqcore.serving.registry import Signature

    seen, real = [], Signature.__call__

    def counting(self, arrays):
        seen.append(np.array(arrays["x"]))
        return real(self, arrays)

    monkeypatch.setattr(Signature, "__call__", counting)
    return seen


def _send_together(client, rows):
    barrier = threading.Barrier(len(rows))

    def one(row):
        barrier.wait()
        return client.request("/v1/models/m:predict", {"instances": [row]})

    with concurrent.futures.ThreadPoolExecutor(len(rows)) as pool:
        return list(pool.map(one, rows))


def test_concurrent_requests_share_model_calls_and_a_bad_one_fails_alone(doubling_export, calls):
    registry, server = start_server({"m": doubling_export}, inference_threads=1, batch_wait_ms=500)
    try:
        client = Client(server.url)
        rows = [[float(i), 1.0, 2.0] for i in range(12)]
        calls.clear()
        answers = _send_together(client, rows)
        assert [status for status, _ in answers] == [200] * 12
        assert [body["predictions"][0] for _, body in answers] == [[2 * v for v in row] for row in rows]
        assert sum(len(call) for call in calls) == 12  # every row ran once: no merged call failed
        assert len(calls) < 12 and max(len(call) for call in calls) > 1, [len(c) for c in calls]

        rows[5] = [-1.0, 1.0, 2.0]
        calls.clear()
        answers = _send_together(client, rows)
        statuses = [status for status, _ in answers]
        assert statuses[5] == 400 and "the model rejected the input" in answers[5][1]["error"]
        assert statuses[:5] + statuses[6:] == [200] * 11
        for i, (_, body) in enumerate(answers):
            if i != 5:
                assert body["predictions"][0] == [2 * v for v in rows[i]]
        # the bad row shared a merged call, which failed; then its requests ran one by one
        merged = [call for call in calls if len(call) > 1 and (call < 0).any()]
        assert merged, [len(c) for c in calls]
        assert sum(1 for call in calls if len(call) == 1 and (call < 0).any()) == 1
    finally:
        registry.stop()
        server.stop()
