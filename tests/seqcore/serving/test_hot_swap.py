"""A version exported while clients call the server is picked up with no failed request."""

import shutil
import threading
import time

import pytest

pytest.importorskip("waitress", reason="`seqcore serve` needs the `serve` extra: pip install -e '.[serve]'")

from tests.seqcore.serving.serving_helpers import Client, export_sentiment, start_server


def wait_for(condition, seconds=30.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def _probabilities(base, version, text):
    import tensorflow as tf

    loaded = tf.saved_model.load(str(base / str(version)))
    return loaded.signatures["serving_default"](text=tf.constant([text]))["probabilities"].numpy()[0]


def test_new_version_is_served_and_removed_version_unloaded(exports, tmp_path):
    """Every request during a swap is counted; any exception or non-200 fails the test, and each
    answer is the old version's or the new version's."""
    import numpy as np

    base = tmp_path / "sentiment"
    shutil.copytree(exports / "sentiment", base)
    registry, server = start_server({"sentiment": base}, poll_interval=0.1)
    client = Client(server.url)
    lock, stop = threading.Lock(), threading.Event()
    answers, failures, versions_seen = [], [], set()

    def loop():
        while not stop.is_set():
            started = time.monotonic()
            try:
                status, body = client.request("/v1/models/sentiment:predict", {"instances": ["loved it"]},
                                              timeout=10)
                with lock:
                    if status == 200:
                        answers.append((started, body["predictions"][0]["probabilities"]))
                    else:
                        failures.append((status, body))
                status, body = client.request("/v1/models/sentiment", timeout=10)
                with lock:
                    if status == 200:
                        versions_seen.add(body["model_version_status"][0]["version"])
                    else:
                        failures.append((status, body))
            except Exception as error:  # a reset connection or a timeout is a failed request
                with lock:
                    failures.append(repr(error))
            time.sleep(0.01)  # leave the export some CPU

    threads = [threading.Thread(target=loop) for _ in range(3)]
    try:
        for thread in threads:
            thread.start()
        time.sleep(0.3)
        swap_start = time.monotonic()
        export_sentiment(base, version=2, seed=5)  # written atomically beside the served one
        assert wait_for(lambda: "2" in versions_seen)
        swap_end = time.monotonic()
        time.sleep(0.3)
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
        assert not any(thread.is_alive() for thread in threads)
        assert failures == []
        during = [a for a in answers if swap_start <= a[0] <= swap_end]
        assert len(during) >= 10, f"only {len(during)} requests during the swap"
        old, new = _probabilities(base, 1, "loved it"), _probabilities(base, 2, "loved it")
        assert np.abs(old - new).max() > 1e-4  # the versions answer differently
        which = []
        for _, got in answers:
            if np.allclose(got, old, atol=1e-6):
                which.append(1)
            elif np.allclose(got, new, atol=1e-6):
                which.append(2)
            else:
                pytest.fail(f"an answer that is neither version's: {got} (old {old}, new {new})")
        assert which[0] == 1 and which[-1] == 2
        status, body = client.request("/v1/models/sentiment/metadata")
        assert body["model_spec"]["version"] == "2"
        assert client.request("/v1/models/sentiment/versions/1:predict", {"instances": ["x"]})[0] == 200

        # removing the latest version falls back to the previous one; removing a version unloads it
        shutil.rmtree(base / "2")
        assert wait_for(lambda: 2 not in registry.versions("sentiment"))
        assert client.request("/v1/models/sentiment/versions/2:predict", {"instances": ["x"]}) == (
            404, {"error": "Servable not found for request: Specific(sentiment, 2)"})
        status, body = client.request("/v1/models/sentiment")
        assert [v["version"] for v in body["model_version_status"]] == ["1"]
        assert client.request("/v1/models/sentiment:predict", {"instances": ["x"]})[0] == 200
    finally:
        stop.set()
        registry.stop()
        server.stop()


def test_a_base_with_no_version_is_one_clear_error(tmp_path):
    from seqcore.errors import SeqcoreError
    from seqcore.serving.registry import ModelRegistry, parse_model_pairs

    with pytest.raises(SeqcoreError, match="no model version in"):
        ModelRegistry({"m": tmp_path}).load_initial()
    for bad in ("nameonly", "=base", "a b=c"):
        with pytest.raises(SeqcoreError, match="NAME=EXPORT_BASE|bad model name"):
            parse_model_pairs([bad])
