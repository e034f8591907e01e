"""Samplers: how a language model picks the next token from its logits.

A sampler maps next-token logits `(batch, vocabulary)` to token ids
`(batch,)`. It is pure TensorFlow, so it runs inside a compiled generation
loop and inside an exported SavedModel. Its settings may be Python numbers
or scalar tensors (a served model takes them as inputs).

`get` accepts a name (`"greedy"`, `"temperature"`, `"top_k"`, `"top_p"`), a
config dict `{"class_name": ..., "config": {...}}` or a sampler object, like
keras-hub's `samplers/serialization.py`.

Example:

>>> import tensorflow as tf
>>> sampler = get({"class_name": "top_k", "config": {"k": 1}})
>>> int(sampler(tf.constant([[0.1, 3.0, 0.2]]), seed=(0, 0))[0])
1
"""

import tensorflow as tf

from seqcore.errors import SeqcoreError
from seqcore.registry import Registry

#: Sampler name -> class.
SAMPLERS = Registry("sampler")

NEG_INF = -1e9


def register(name):
    """Class decorator adding a sampler to `SAMPLERS` under `name`."""

    def decorate(cls):
        SAMPLERS.register(name, cls)
        cls.registered_name = name
        return cls

    return decorate


def apply_repetition_penalty(logits, seen, penalty):
    """Penalizes tokens already seen (CTRL, Keskar et al. 2019).

    Positive logits of seen tokens are divided by `penalty`, negative ones
    multiplied by it, so `penalty > 1` discourages repeats and 1 is a no-op.

    Args:
        logits: float `(batch, vocabulary)`.
        seen: bool `(batch, vocabulary)`, tokens in the prompt or generated.
        penalty: a number or scalar tensor >= 1.

    Example:

    >>> out = apply_repetition_penalty(tf.constant([[2.0, -2.0, 2.0]]),
    ...                                tf.constant([[True, True, False]]), 2.0)
    >>> out.numpy().tolist()
    [[1.0, -4.0, 2.0]]
    """
    penalty = tf.cast(penalty, logits.dtype)
    penalized = tf.where(logits > 0, logits / penalty, logits * penalty)
    return tf.where(seen, penalized, logits)


def filter_top_k(logits, k):
    """Keeps the `k` largest logits of each row (ties at the k-th kept); `k <= 0` keeps all.

    Example:

    >>> filter_top_k(tf.constant([[1.0, 3.0, 2.0]]), 2).numpy().tolist()
    [[-1000000000.0, 3.0, 2.0]]
    """
    return filter_top_k_top_p(logits, k, 1.0)


def filter_top_p(logits, p):
    """Keeps the smallest set of most likely tokens whose probability reaches `p` (nucleus).

    Example:

    >>> filter_top_p(tf.constant([[0.0, 3.0, 2.9]]), 0.6).numpy().tolist()
    [[-1000000000.0, 3.0, 2.9000000953674316]]
    """
    return filter_top_k_top_p(logits, 0, p)


def filter_top_k_top_p(logits, k, p):
    """Top-k, then nucleus (top-p) filtering of the survivors, with one sort per row.

    A token is kept when its logit reaches a per-row threshold: the k-th
    largest logit, raised to the smallest logit of the nucleus (the most
    likely tokens whose renormalized probabilities first add up to `p`).
    Tokens tied with the threshold are kept. `k <= 0` and `p >= 1` switch a
    filter off; with both off the logits pass through without sorting. Works
    with tensor settings inside XLA (no shape depends on `k`).

    Args:
        logits: float `(batch, vocabulary)`.
        k: int (or scalar tensor).
        p: float in (0, 1] (or scalar tensor).

    Returns:
        `logits` with the excluded tokens set to `NEG_INF`.

    Example:

    >>> filter_top_k_top_p(tf.constant([[1.0, 3.0, 2.0, 0.0]]), 3, 0.5).numpy().tolist()
    [[-1000000000.0, 3.0, -1000000000.0, -1000000000.0]]
    """
    logits = tf.convert_to_tensor(logits)
    k = tf.cast(k, tf.int32)
    p = tf.cast(p, logits.dtype)
    low = tf.cast(NEG_INF, logits.dtype)

    def filtered():
        vocabulary = tf.shape(logits)[-1]
        kept = tf.where(k > 0, tf.minimum(k, vocabulary), vocabulary)
        ranked = tf.sort(logits, axis=-1, direction="DESCENDING")
        ranked = tf.where(tf.range(vocabulary)[None] < kept, ranked, low)
        before = tf.cumsum(tf.nn.softmax(ranked, axis=-1), axis=-1, exclusive=True)
        # The most likely token is always kept; never past the k-th.
        nucleus = tf.reduce_sum(tf.cast(before < p, tf.int32), axis=-1)
        nucleus = tf.clip_by_value(nucleus, 1, kept)
        threshold = tf.gather(ranked, nucleus[:, None] - 1, batch_dims=1)
        return tf.where(logits < threshold, low, logits)

    return tf.cond(tf.logical_or(k > 0, p < 1.0), filtered, lambda: logits)


def gumbel_sample(logits, seed):
    """Draws one token per row from softmax(logits), reproducibly for a given `seed`.

    Uses the Gumbel-max trick over `tf.random.stateless_uniform`, so a row's
    draw depends only on `seed`, its logits and its position in the batch.

    Args:
        logits: float `(batch, vocabulary)`.
        seed: int tensor of shape `(2,)`.
    """
    uniform = tf.random.stateless_uniform(
        tf.shape(logits), seed=seed, minval=1e-20, maxval=1.0, dtype=tf.float32
    )
    gumbel = -tf.math.log(-tf.math.log(uniform))
    return tf.argmax(tf.cast(logits, tf.float32) + gumbel, axis=-1, output_type=tf.int32)


class Sampler:
    """Base class: `sampler(logits, seed)` -> token ids `(batch,)` int32.

    Subclasses implement `filter(logits)` (returning logits with excluded
    tokens at a very low value) and may override `__call__`.
    """

    registered_name = None

    def filter(self, logits):
        return logits

    def __call__(self, logits, seed):
        logits = tf.convert_to_tensor(logits)
        return gumbel_sample(self.filter(logits), tf.cast(seed, tf.int64))

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


@register("greedy")
class GreedySampler(Sampler):
    """Always the most likely token; ignores the seed.

    Example:

    >>> int(GreedySampler()(tf.constant([[0.0, 2.0, 1.0]]), seed=(0, 0))[0])
    1
    """

    def __call__(self, logits, seed=None):
        return tf.argmax(logits, axis=-1, output_type=tf.int32)


@register("top_p")
class TopPSampler(Sampler):
    """Temperature, then top-k, then nucleus (top-p) filtering, then a seeded draw.

    Every setting may be a scalar tensor. Temperature 0 means greedy
    decoding; `top_k=0` and `top_p=1` switch those filters off.

    Args:
        temperature: >= 0; below 1 sharpens the distribution, above 1 flattens it.
        top_k: keep only the `top_k` most likely tokens (0: all).
        top_p: keep the most likely tokens whose probabilities add up to
            `top_p`, in (0, 1].

    Example:

    >>> sampler = TopPSampler(temperature=0.0)
    >>> int(sampler(tf.constant([[0.0, 2.0, 1.0]]), seed=(1, 2))[0])
    1
    """

    def __init__(self, temperature=1.0, top_k=0, top_p=1.0):
        if not _is_tensor(temperature) and not float(temperature) >= 0:
            raise SeqcoreError(f"temperature must be a number >= 0; received: {temperature}")
        if not _is_tensor(top_p) and not 0.0 < float(top_p) <= 1.0:
            raise SeqcoreError(f"top_p must be in (0, 1]; received: {top_p}")
        if not _is_tensor(top_k) and int(top_k) < 0:
            raise SeqcoreError(f"top_k must be >= 0 (0 keeps all tokens); received: {top_k}")
        self.temperature = temperature
        self.top_k = top_k
        self.top_p = top_p

    def filter(self, logits):
        temperature = tf.cast(self.temperature, logits.dtype)
        scaled = logits / tf.maximum(temperature, 1e-6)
        return filter_top_k_top_p(scaled, self.top_k, self.top_p)

    def __call__(self, logits, seed):
        logits = tf.convert_to_tensor(logits)
        greedy = tf.argmax(logits, axis=-1, output_type=tf.int32)
        sampled = gumbel_sample(self.filter(logits), tf.cast(seed, tf.int64))
        return tf.where(tf.cast(self.temperature, tf.float32) > 0.0, sampled, greedy)

    def get_config(self):
        return {
            "temperature": float(self.temperature),
            "top_k": int(self.top_k),
            "top_p": float(self.top_p),
        }


@register("temperature")
class TemperatureSampler(TopPSampler):
    """Samples from the whole distribution at a temperature (0: greedy).

    Example:

    >>> TemperatureSampler(0.7).get_config()
    {'temperature': 0.7}
    """

    def __init__(self, temperature=1.0):
        super().__init__(temperature=temperature)

    def get_config(self):
        return {"temperature": float(self.temperature)}


@register("top_k")
class TopKSampler(TopPSampler):
    """Samples among the `k` most likely tokens at a temperature.

    Example:

    >>> TopKSampler(k=5).get_config()
    {'k': 5, 'temperature': 1.0}
    """

    def __init__(self, k=10, temperature=1.0):
        super().__init__(temperature=temperature, top_k=k)

    def get_config(self):
        return {"k": int(self.top_k), "temperature": float(self.temperature)}


def _is_tensor(value):
    return tf.is_tensor(value)


def serialize(sampler):
    """A sampler as `{"class_name": name, "config": {...}}`.

    Example:

    >>> serialize(TopPSampler(top_p=0.9))["class_name"]
    'top_p'
    """
    return {"class_name": sampler.registered_name, "config": sampler.get_config()}


def get(identifier):
    """A sampler from a name, a `serialize` dict or a sampler object.

    Raises:
        SeqcoreError: for an unknown name, listing the known ones.

    Example:

    >>> type(get("greedy")).__name__
    'GreedySampler'
    """
    if isinstance(identifier, Sampler):
        return identifier
    if isinstance(identifier, str):
        return SAMPLERS.get(identifier)()
    if isinstance(identifier, dict) and "class_name" in identifier:
        return SAMPLERS.get(identifier["class_name"]).from_config(identifier.get("config") or {})
    raise SeqcoreError(
        "sampler must be a name, a {'class_name', 'config'} dict or a Sampler; "
        f"received: {identifier!r}"
    )
