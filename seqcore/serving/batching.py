"""Micro-batching: concurrent requests for the same signature share one model call.

Only signatures whose every input has a batch dimension are merged
(`Signature.batched`); one with scalar settings (textgen's `max_length`,
`seed`, ...) runs each request on its own, since two requests' settings
cannot share a call.

While every inference thread is busy, requests queue up here; the next free
thread takes all queued requests of the same version, signature and row
shape (up to `max_batch` rows) as one batch, concatenated along the batch
axis, and splits the outputs back. A lone request waits at most `wait_ms`
for companions. If a batched call fails, its requests run one by one, so one
bad request never fails another.
"""

import collections
import concurrent.futures
import queue
import threading
import time

import numpy as np


class _Item:
    __slots__ = ("key", "model", "signature", "arrays", "rows", "future")

    def __init__(self, model, signature, arrays):
        self.model, self.signature, self.arrays = model, signature, arrays
        self.rows = next(iter(arrays.values())).shape[0]
        self.key = (id(model), signature.name,
                    tuple((name, a.shape[1:], a.dtype.str) for name, a in sorted(arrays.items())))
        self.future = concurrent.futures.Future()


class Batcher:
    def __init__(self, executor, threads, max_batch=64, wait_ms=2.0):
        self.executor = executor
        self.max_batch = int(max_batch)
        self.wait = float(wait_ms) / 1000.0
        self.queue = queue.Queue()
        self.pending = collections.deque()
        self.slots = threading.Semaphore(int(threads))
        self.closed = False
        self.thread = threading.Thread(target=self._loop, name="seqcore-batcher", daemon=True)
        self.thread.start()

    def submit(self, model, signature, arrays):
        item = _Item(model, signature, arrays)
        self.queue.put(item)
        return item.future

    def close(self):
        self.closed = True
        self.queue.put(None)

    def _next(self, timeout):
        if self.pending:
            return self.pending.popleft()
        if timeout is None:
            return self.queue.get()
        if timeout <= 0:
            return self.queue.get_nowait()
        return self.queue.get(timeout=timeout)

    def _loop(self):
        while not self.closed:
            self.slots.acquire()
            first = self._next(None)
            if first is None:
                break
            group, rows = [first], first.rows
            deadline = time.monotonic() + self.wait
            while rows < self.max_batch:
                try:
                    item = self._next(deadline - time.monotonic())
                except queue.Empty:
                    break
                if item is None:
                    self.closed = True
                    break
                if item.key != first.key or rows + item.rows > self.max_batch:
                    self.pending.append(item)
                    break
                group.append(item)
                rows += item.rows
            try:
                self.executor.submit(self._run, group)
            except RuntimeError:  # executor shut down
                for item in group:
                    item.future.cancel()
                self.slots.release()

    def _run(self, group):
        try:
            live = [item for item in group if item.future.set_running_or_notify_cancel()]
            if not live:
                return
            if len(live) > 1:
                try:
                    self._run_together(live)
                    return
                except Exception:
                    pass  # run one by one below: the failure belongs to one request
            for item in live:
                try:
                    item.future.set_result(item.signature(item.arrays))
                except Exception as error:
                    item.future.set_exception(error)
        finally:
            self.slots.release()

    @staticmethod
    def _run_together(items):
        first = items[0]
        arrays = {name: np.concatenate([item.arrays[name] for item in items]) for name in first.arrays}
        outputs = first.signature(arrays)
        total = sum(item.rows for item in items)
        if any(np.ndim(value) == 0 or np.shape(value)[0] != total for value in outputs.values()):
            raise ValueError("outputs do not follow the batch axis")
        start = 0
        for item in items:
            end = start + item.rows
            item.future.set_result({name: value[start:end] for name, value in outputs.items()})
            start = end
