"""TensorFlow Serving's REST API (the subset clients use) as a WSGI app on waitress.

Routes, answered as TensorFlow Serving answers them:

- ``GET  /v1/models/NAME[/versions/V]``: version status.
- ``GET  /v1/models/NAME[/versions/V]/metadata``: signature definitions.
- ``POST /v1/models/NAME[/versions/V]:predict``: row or columnar predict.

Errors are ``{"error": "..."}`` with TensorFlow Serving's status codes:
400 for a bad request, 404 for an unknown model or version; beyond the
limits, 413 (body too large) and 408 (the request did not finish within
the per-request timeout).
"""

import concurrent.futures
import json
import logging
import re
import threading

from werkzeug.wrappers import Request, Response

from seqcore.serving.batching import Batcher
from seqcore.serving.codec import Limits, RequestError, encode_outputs, parse_json, parse_predict

log = logging.getLogger("seqcore.serving")

_ROUTE = re.compile(
    r"^/v1/models/(?P<name>[^/:]+)(?:/versions/(?P<version>\d+))?(?P<action>/metadata|:predict)?/?$"
)


def _json_response(payload, status=200):
    return Response(json.dumps(payload), status=status, mimetype="application/json")


def _error(message, status):
    return _json_response({"error": message}, status)


class ServingApp:
    """The WSGI application.

    Args:
        registry: a `ModelRegistry` with its versions loaded.
        limits: a `codec.Limits`.
        timeout: seconds a predict request may take, queueing included.
        inference_threads: threads that call the models.
        max_batch: rows per model call when concurrent requests are batched
            together (1 turns batching off).
        batch_wait_ms: how long a lone request waits for companions.
    """

    def __init__(self, registry, limits=None, timeout=30.0, inference_threads=2, max_batch=64,
                 batch_wait_ms=2.0):
        self.registry = registry
        self.limits = limits or Limits()
        self.timeout = float(timeout)
        self.executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=inference_threads, thread_name_prefix="seqcore-inference"
        )
        self.batcher = (
            Batcher(self.executor, inference_threads, max_batch=max_batch, wait_ms=batch_wait_ms)
            if max_batch > 1 else None
        )

    def close(self):
        if self.batcher is not None:
            self.batcher.close()
        self.executor.shutdown(wait=False, cancel_futures=True)

    def __call__(self, environ, start_response):
        request = Request(environ)
        try:
            response = self.dispatch(request)
        except RequestError as error:
            response = _error(str(error), error.status)
        except Exception as error:  # never a traceback to the client, never down
            log.exception("request %s %s failed", request.method, request.path)
            response = _error(f"Internal error: {type(error).__name__}: {error}", 500)
        return response(environ, start_response)

    def dispatch(self, request):
        match = _ROUTE.match(request.path)
        if not match:
            raise RequestError(f"Malformed request: {request.method} {request.path}", status=404)
        name, version, action = match["name"], match["version"], match["action"]
        if action == ":predict":
            if request.method != "POST":
                raise RequestError(f"Malformed request: {request.method} {request.path}; predict takes POST", 405)
            return self.predict(request, name, version)
        if request.method not in ("GET", "HEAD"):
            raise RequestError(f"Malformed request: {request.method} {request.path}", status=405)
        if action == "/metadata":
            return self.metadata(name, version)
        return self.status(name, version)

    def status(self, name, version):
        if version is None:
            table = self.registry.versions(name)
            if not table:
                raise RequestError(f"Servable not found for request: Latest({name})", status=404)
            chosen = sorted(table, reverse=True)
        else:
            chosen = [self.registry.get(name, version).version]
        return _json_response({
            "model_version_status": [
                {"version": str(v), "state": "AVAILABLE", "status": {"error_code": "OK", "error_message": ""}}
                for v in chosen
            ]
        })

    def metadata(self, name, version):
        model = self.registry.get(name, version)
        return _json_response({
            "model_spec": {"name": name, "signature_name": "", "version": str(model.version)},
            "metadata": {"signature_def": {"signature_def": model.signature_defs}},
        })

    def _body(self, request):
        limit = self.limits.max_body_bytes
        length = request.content_length
        if length is not None and length > limit:
            raise RequestError(
                f"request body of {length} bytes is larger than the limit of {limit} bytes", status=413
            )
        body = request.stream.read(limit + 1)
        if len(body) > limit:
            raise RequestError(f"request body is larger than the limit of {limit} bytes", status=413)
        return body

    def predict(self, request, name, version):
        body = self._body(request)
        model = self.registry.get(name, version)  # the version this request runs on, start to end
        data = parse_json(body)
        signature_name = data.get("signature_name", "serving_default")
        if not isinstance(signature_name, str):
            raise RequestError("'signature_name' must be a string")
        signature = model.signature(signature_name)
        fmt, arrays = parse_predict(data, signature.inputs, self.limits)
        if self.batcher is not None and signature.batched:
            future = self.batcher.submit(model, signature, arrays)
        else:
            future = self.executor.submit(signature, arrays)
        try:
            outputs = future.result(timeout=self.timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise RequestError(
                f"request timed out: the model did not answer within {self.timeout:g} s "
                "(the per-request timeout); retry, or send fewer instances", status=408
            ) from None
        except RequestError:
            raise
        except Exception as error:
            # TensorFlow rejected the values (e.g. a shape the model cannot take): the request's fault
            message = getattr(error, "message", None) or str(error)
            raise RequestError(f"the model rejected the input: {message.strip().splitlines()[0]}") from None
        return _json_response(encode_outputs(fmt, outputs))


class ModelServer:
    """`ServingApp` on a waitress server, in the foreground or a background thread.

    Args:
        app: a `ServingApp`.
        host, port: where to listen (port 0 picks a free port; see `.port`).
        threads: waitress worker threads (requests handled at once).
    """

    def __init__(self, app, host="127.0.0.1", port=8501, threads=16):
        from waitress.server import create_server

        self.app = app
        self.server = create_server(
            app, host=host, port=port, threads=threads,
            # waitress' own backstop; the app answers oversize bodies with a JSON 413 first
            max_request_body_size=app.limits.max_body_bytes + 2**20,
            channel_timeout=120, connection_limit=1000, ident="seqcore-serve",
            clear_untrusted_proxy_headers=True,
        )
        self.host, self.port = self.server.effective_host, self.server.effective_port
        self._thread = None

    @property
    def url(self):
        return f"http://{self.host}:{self.port}"

    def serve_forever(self):
        self.server.run()

    def start(self):
        self._thread = threading.Thread(target=self.serve_forever, name="seqcore-serve", daemon=True)
        self._thread.start()
        return self

    def stop(self):
        server = self.server

        def close_all():
            for channel in list(server._map.values()):
                try:
                    channel.close()
                except Exception:
                    pass

        try:
            server.trigger.pull_trigger(close_all)
        except Exception:
            pass
        if self._thread is not None:
            self._thread.join(timeout=10)
        server.task_dispatcher.shutdown()
        self.app.close()
