"""`tf.distribute` strategies by name, the cluster from `TF_CONFIG`, mixed precision.

`--strategy` picks how a run is spread over devices and machines:

* `auto`: `mirrored` when several GPUs are visible, otherwise `one-device`.
* `one-device`: TensorFlow's default strategy (one GPU if there is one,
  else the CPU): exactly what a plain `fit` does.
* `mirrored`: `tf.distribute.MirroredStrategy` over the local GPUs.
* `multi-worker`: `tf.distribute.MultiWorkerMirroredStrategy` over the
  machines that `TF_CONFIG` describes (the variable that Kubernetes
  operators and Vertex AI set). Every worker runs the same command; the
  chief (task `chief`, or `worker` 0 when there is no chief) writes the run
  and the export, the others train into a scratch folder removed at the end.

`--batch-size` is per replica: the global batch is that times the number of
replicas, and `tf.distribute` splits every global batch between workers
(`fit` auto-shards a `tf.data` input: by file for TFRecord shards when
there are enough files, else by example).

Example:

>>> distribution = resolve_strategy("one-device")
>>> distribution.replicas, distribution.is_chief
(1, True)
>>> distribution.describe(64)
'strategy one-device: 1 replica; global batch size 64 (64 per replica x 1 replica)'
"""

import dataclasses
import json
import os

from seqcore.errors import SeqcoreError

STRATEGIES = ("auto", "one-device", "mirrored", "multi-worker")
PRECISIONS = ("float16", "bfloat16")
TF_CONFIG_EXAMPLE = (
    '{"cluster": {"worker": ["host1:12345", "host2:12345"]}, "task": {"type": "worker", "index": 0}}'
)


@dataclasses.dataclass(frozen=True)
class ClusterRole:
    """This process's place in a `TF_CONFIG` cluster."""

    task_type: str
    task_index: int
    num_workers: int
    has_chief: bool = False

    @property
    def is_chief(self):
        """The `chief` task, or `worker` 0 of a cluster without one."""
        if self.has_chief:
            return self.task_type == "chief"
        return self.task_index == 0


def _malformed(problem, received):
    return SeqcoreError(
        f"TF_CONFIG is malformed: {problem}; expected JSON such as {TF_CONFIG_EXAMPLE}; "
        f"received: {received}"
    )


def cluster_role(environ=None):
    """Reads and checks `TF_CONFIG`; returns this process's `ClusterRole`.

    Raises:
        SeqcoreError: when `TF_CONFIG` is missing or malformed.

    Example:

    >>> env = {"TF_CONFIG": '{"cluster": {"worker": ["a:1", "b:2"]}, "task": {"type": "worker", "index": 1}}'}
    >>> cluster_role(env)
    ClusterRole(task_type='worker', task_index=1, num_workers=2, has_chief=False)
    """
    environ = os.environ if environ is None else environ
    text = environ.get("TF_CONFIG", "")
    if not text.strip():
        raise SeqcoreError(
            "--strategy multi-worker needs the cluster in the TF_CONFIG environment variable; "
            f"expected JSON such as {TF_CONFIG_EXAMPLE}; received: no TF_CONFIG"
        )
    try:
        config = json.loads(text)
    except ValueError as error:
        raise _malformed(f"not JSON ({error})", repr(text)) from None
    if not isinstance(config, dict):
        raise _malformed("not a JSON object", repr(text))
    cluster, task = config.get("cluster"), config.get("task")
    if not isinstance(cluster, dict) or not cluster:
        raise _malformed('no "cluster" object', repr(text))
    for job, addresses in cluster.items():
        if job not in ("chief", "worker") or not isinstance(addresses, list) or not addresses or not all(
            isinstance(a, str) and a.rpartition(":")[2].isdigit() for a in addresses
        ):
            raise _malformed(
                f'cluster job {job!r} must be "chief" or "worker" with a list of "host:port"',
                repr(text),
            )
    if len(cluster.get("chief", [])) > 1:
        raise _malformed("more than one chief", repr(text))
    if not isinstance(task, dict) or task.get("type") not in cluster:
        raise _malformed('"task" must name a "type" of the cluster', repr(text))
    index = task.get("index", 0)
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(cluster[task["type"]]):
        raise _malformed(
            f'"task" index must be 0..{len(cluster[task["type"]]) - 1} for job {task["type"]!r}',
            repr(text),
        )
    workers = sum(len(addresses) for addresses in cluster.values())
    return ClusterRole(task["type"], index, workers, has_chief="chief" in cluster)


@dataclasses.dataclass
class Distribution:
    """A resolved strategy and what a run needs to know about it.

    Attributes:
        name: the `--strategy` it was resolved to (never `auto`).
        strategy: the `tf.distribute.Strategy`.
        role: the `ClusterRole` under `multi-worker`, else None.
    """

    name: str
    strategy: object
    role: ClusterRole = None

    @property
    def replicas(self):
        return int(self.strategy.num_replicas_in_sync)

    @property
    def workers(self):
        return self.role.num_workers if self.role else 1

    @property
    def is_chief(self):
        """Whether this process writes the run directory and the export."""
        return self.role is None or self.role.is_chief

    @property
    def multi_worker(self):
        return self.role is not None and self.role.num_workers > 1

    def global_batch_size(self, per_replica):
        """The batch size of the `tf.data` input: `per_replica` x replicas."""
        return int(per_replica) * self.replicas

    def describe(self, per_replica):
        """One line for the start of training: strategy, replicas, global batch size."""
        plural = lambda n, word: f"{n} {word}{'' if n == 1 else 's'}"  # noqa: E731
        where = f"{plural(self.workers, 'worker')}, " if self.role else ""
        if self.role:
            where += f"this is {self.role.task_type} {self.role.task_index}"
            where += " (chief), " if self.is_chief else ", "
        return (
            f"strategy {self.name}: {where}{plural(self.replicas, 'replica')}; global batch size "
            f"{self.global_batch_size(per_replica)} ({per_replica} per replica x "
            f"{plural(self.replicas, 'replica')})"
        )

    def scope(self):
        return self.strategy.scope()


_MULTI_WORKER = None


def resolve_strategy(name="auto"):
    """Creates (once per process) the strategy called `name`.

    Call it before any other TensorFlow op: `MultiWorkerMirroredStrategy`
    configures the runtime's collective ops, which must happen before the
    runtime starts.

    Args:
        name: one of `STRATEGIES`.

    Returns:
        A `Distribution`.

    Raises:
        SeqcoreError: for an unknown name, or a missing or malformed
            `TF_CONFIG` under `multi-worker`.
    """
    global _MULTI_WORKER
    name = name or "auto"
    if name not in STRATEGIES:
        raise SeqcoreError(f"unknown strategy {name!r}; expected one of: {', '.join(STRATEGIES)}")
    if name == "multi-worker":
        role = cluster_role()  # checked before TensorFlow starts its server
        import tensorflow as tf

        if _MULTI_WORKER is None:
            _MULTI_WORKER = tf.distribute.MultiWorkerMirroredStrategy()
        return Distribution(name, _MULTI_WORKER, role)
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if name == "auto":
        name = "mirrored" if len(gpus) > 1 else "one-device"
    if name == "mirrored":
        return Distribution(name, tf.distribute.MirroredStrategy())
    return Distribution(name, tf.distribute.get_strategy())


def prepare_model(model, distribution):
    """Adapts a model compiled in `distribution.scope()` to Keras 3's multi-worker gaps.

    Keras 3 (checked with 3.15) cannot `fit` under a multi-worker
    `MultiWorkerMirroredStrategy` (tensorflow/tensorflow#72388): it
    all-reduces a data batch to build the model symbolically, and reduces
    scalar step logs along an axis they do not have. Here the model is
    already built, so that symbolic build is skipped, and each step's logs
    are made 1-D, so the reduction averages them over every replica of
    every worker: all workers see the same loss and metrics, and so take
    the same early-stopping, checkpoint and NaN decisions. Other
    strategies are left alone.
    """
    if not distribution.multi_worker:
        return model
    import tensorflow as tf

    def as_vectors(step):
        def step_with_vector_logs(data):
            return {name: tf.reshape(value, [1]) for name, value in step(data).items()}

        return step_with_vector_logs

    model.train_step = as_vectors(model.train_step)
    model.test_step = as_vectors(model.test_step)
    model._maybe_symbolic_build = lambda iterator=None, data_batch=None: None
    return model


def mixed_precision_policy(precision):
    """The Keras dtype policy name of `--mixed-precision float16|bfloat16` (None: float32).

    Example:

    >>> mixed_precision_policy("bfloat16"), mixed_precision_policy(None)
    ('mixed_bfloat16', None)
    """
    if precision is None:
        return None
    if precision not in PRECISIONS:
        raise SeqcoreError(
            f"unknown --mixed-precision {precision!r}; expected one of: {', '.join(PRECISIONS)}"
        )
    return f"mixed_{precision}"


def with_mixed_precision(config, precision):
    """The run configuration with its backbone computing in `precision` (None: unchanged).

    Only the backbone takes the mixed policy (float16 or bfloat16 compute,
    float32 weights): preprocessors (text lookup, MFCC, input scaling) and
    the output layers stay float32, so probabilities, forecasts and logits
    are float32. `run_training` adds loss scaling for float16.

    Example:

    >>> with_mixed_precision({"backbone": {"units": 8}}, "bfloat16")["backbone"]
    {'units': 8, 'dtype': 'mixed_bfloat16'}
    """
    policy = mixed_precision_policy(precision)
    if policy is None:
        return config
    return {**config, "backbone": {**config["backbone"], "dtype": policy}}
