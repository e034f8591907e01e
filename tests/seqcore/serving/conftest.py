"""Fixtures: tiny exports made once per session and a server on 127.0.0.1 per module."""

import pytest

from tests.seqcore.serving.serving_helpers import (
    Client, export_forecast, export_sentiment, export_speech, start_server,
)


@pytest.fixture(scope="session")
def exports(tmp_path_factory):
    root = tmp_path_factory.mktemp("exports")
    export_sentiment(root / "sentiment")
    export_forecast(root / "forecast")
    export_speech(root / "speech")
    return root


@pytest.fixture(scope="module")
def served(exports):
    from seqcore.serving.codec import Limits

    registry, server = start_server(
        {name: exports / name for name in ("sentiment", "forecast", "speech")},
        limits=Limits(max_body_bytes=200_000, max_instances=32, max_string_chars=5_000),
    )
    yield Client(server.url), registry
    registry.stop()
    server.stop()
