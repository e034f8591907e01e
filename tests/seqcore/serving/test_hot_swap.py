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


def test_new_version_is_served_and_removed_version_unloaded(exports, tmp_path):
    base = tmp_path / "sentiment"
    shutil.copytree(exports / "sentiment", base)
    registry, server = start_server({"sentiment": base}, poll_interval=0.1)
    client = Client(server.url)
    failures, versions_seen, stop = [], set(), threading.Event()

    def loop():
        while not stop.is_set():
            status, body = client.request("/v1/models/sentiment:predict", {"instances": ["loved it"]})
            if status != 200:
                failures.append((status, body))
            status, body = client.request("/v1/models/sentiment")
            if status != 200:
                failures.append((status, body))
            else:
                versions_seen.add(body["model_version_status"][0]["version"])
            time.sleep(0.01)  # leave the export some CPU

    threads = [threading.Thread(target=loop) for _ in range(3)]
    try:
        for thread in threads:
            thread.start()
        time.sleep(0.3)
        export_sentiment(base, version=2, seed=5)  # written atomically beside the served one
        assert wait_for(lambda: "2" in versions_seen)
        time.sleep(0.3)
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
        assert failures == []
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
