"""`seqcore serve NAME=EXPORT_BASE ...`: TensorFlow Serving's REST API for exports."""

import click

from seqcore.cli.group import SeqcoreCommand


@click.command(cls=SeqcoreCommand)
@click.argument("models", nargs=-1, required=True, metavar="NAME=EXPORT_BASE...")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8501, show_default=True,
              help="Port (TensorFlow Serving's REST port by default; 0 picks a free one).")
@click.option("--poll-seconds", type=click.FloatRange(min=0.1), default=1.0, show_default=True,
              help="How often each EXPORT_BASE is checked for new or removed versions.")
@click.option("--max-body-bytes", type=click.IntRange(min=1024), default=10 * 2**20, show_default=True,
              help="Largest request body; larger ones get 413.")
@click.option("--max-instances", type=click.IntRange(min=1), default=256, show_default=True,
              help="Most instances (rows) per predict request; more get 400.")
@click.option("--max-string-chars", type=click.IntRange(min=1), default=100_000, show_default=True,
              help="Longest string input; longer ones get 400.")
@click.option("--timeout", "timeout", type=click.FloatRange(min=0.01), default=30.0, show_default=True,
              help="Seconds a predict request may take, queueing included; slower ones get 408.")
@click.option("--threads", type=click.IntRange(min=1), default=16, show_default=True,
              help="Requests handled at once.")
@click.option("--inference-threads", type=click.IntRange(min=1), default=2, show_default=True,
              help="Threads calling the models.")
@click.option("--max-batch", type=click.IntRange(min=1), default=64, show_default=True,
              help="Rows per model call when concurrent requests are batched (1: no batching).")
@click.option("--batch-wait-ms", type=click.FloatRange(min=0), default=2.0, show_default=True,
              help="How long a lone request waits for others to batch with.")
@click.option("--log-requests", is_flag=True, help="Log each request on stderr.")
def serve(models, host, port, poll_seconds, max_body_bytes, max_instances, max_string_chars, timeout,
          threads, inference_threads, max_batch, batch_wait_ms, log_requests):
    """Serves exports with TensorFlow Serving's REST API (status, metadata, predict).

    Each NAME=EXPORT_BASE serves the numbered versions of EXPORT_BASE (as
    written by `export`) under /v1/models/NAME; new versions are loaded and
    served as the latest as they appear, removed ones are unloaded.

    \b
    seqcore serve sentiment=exports/sentiment forecast=exports/forecast
    curl -s -d '{"instances": ["Loved it"]}' localhost:8501/v1/models/sentiment:predict
    """
    import logging

    from seqcore.errors import SeqcoreError

    try:
        import waitress  # noqa: F401
    except ImportError:
        raise SeqcoreError(
            "`seqcore serve` needs the waitress server: pip install 'seqcore[serve]' (or: pip install waitress)"
        ) from None
    from seqcore.serving.codec import Limits
    from seqcore.serving.registry import ModelRegistry, parse_model_pairs
    from seqcore.serving.server import ModelServer, ServingApp

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("waitress").setLevel(logging.INFO if log_requests else logging.WARNING)
    registry = ModelRegistry(parse_model_pairs(models), poll_interval=poll_seconds)
    registry.load_initial()
    app = ServingApp(
        registry,
        Limits(max_body_bytes=max_body_bytes, max_instances=max_instances, max_string_chars=max_string_chars),
        timeout=timeout, inference_threads=inference_threads, max_batch=max_batch,
        batch_wait_ms=batch_wait_ms,
    )
    if log_requests:
        app = _logging_app(app)
    try:
        server = ModelServer(app, host=host, port=port, threads=threads)
    except OSError as error:
        raise SeqcoreError(f"cannot listen on {host}:{port}: {error.strerror or error}") from None
    registry.start()
    for name in registry.names():
        versions = sorted(registry.versions(name))
        click.echo(f"serving {name} (versions {', '.join(map(str, versions))}) at "
                   f"{server.url}/v1/models/{name}", err=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        registry.stop()
        click.echo("stopped", err=True)


def _logging_app(app):
    import logging
    import time

    log = logging.getLogger("seqcore.serving.requests")

    def logged(environ, start_response):
        begin = time.perf_counter()
        status = {}

        def capture(code, headers, *args):
            status["code"] = code.split()[0]
            return start_response(code, headers, *args)

        try:
            return app(environ, capture)
        finally:
            log.info("%s %s %s %.1f ms", environ.get("REQUEST_METHOD"), environ.get("PATH_INFO"),
                     status.get("code", "-"), 1000 * (time.perf_counter() - begin))

    logged.limits = app.limits
    logged.close = app.close
    return logged
