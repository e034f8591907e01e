"""Serving exports over TensorFlow Serving's REST API (`seqcore serve`).

- `codec`: JSON <-> tensors, checked against a signature's inputs.
- `registry`: loaded versions per model and the export-base watcher.
- `batching`: concurrent requests of one signature share a model call.
- `server`: the WSGI app (werkzeug) on waitress.
"""
