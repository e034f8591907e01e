"""Whole-sequence LSTM / GRU / simple-RNN recurrences with hand-written gradients.

Keras' generic loop runs one cell call per step, and autodiff of that loop
repeats, at every step, the input projection and the weight-gradient
matmuls. Here the input projections of all steps are one matmul done by the
caller (`xp`, time-major), the loop only carries the recurrent matmul and the
gate arithmetic, and the backward loop only carries the recurrent gradient:
the recurrent-kernel gradient is one matmul over all steps once the loop is
done. Both loops are compiled with XLA for calls of at least `JIT_MIN_SIZE`
state values (XLA fuses each step's gate arithmetic into one kernel).

Masks follow Keras exactly: on a masked step the state is carried over
unchanged. What the layer outputs on masked steps (the previous output or
zeros) is decided by the caller from the returned states.

Shapes: `xp` `(steps, batch, gates * units)`, states `(batch, units)`,
`mask` boolean `(steps, batch, 1)` or None. Gate order is Keras': LSTM
`i, f, c, o`; GRU `z, r, h` with the reset gate applied after the recurrent
matmul (`reset_after=True`).

Example:

>>> import tensorflow as tf
>>> xp = tf.zeros((5, 2, 12))  # 5 steps, batch 2, 4 gates x 3 units
>>> h0 = c0 = tf.zeros((2, 3))
>>> states, last_carry = lstm_sequence(xp, h0, c0, tf.zeros((3, 12)))
>>> tuple(states.shape), tuple(last_carry.shape)
((5, 2, 3), (2, 3))
"""

import tensorflow as tf


def _loop(body, steps, loop_vars):
    return tf.while_loop(lambda t, *_: t < steps, body, (tf.constant(0),) + tuple(loop_vars))[1:]


def _keep(mask, new, old):
    """`new` where the step is real, `old` where it is masked."""
    return new if mask is None else tf.where(mask, new, old)


def _split_masked(mask, grad):
    """Splits a gradient into (the part the step consumed, the part passed through)."""
    if mask is None:
        return grad, 0.0
    zeros = tf.zeros_like(grad)
    return tf.where(mask, grad, zeros), tf.where(mask, zeros, grad)


def _stepwise(mask, t):
    return None if mask is None else mask[t]


def _previous(initial, states):
    """`[initial, states[0], ..., states[-2]]`: the state each step started from."""
    return tf.concat([initial[None], states[:-1]], axis=0)


def _units(state):
    """The state width: static where known, so slices keep static shapes (XLA needs them in loops)."""
    return state.shape[-1] if state.shape[-1] is not None else tf.shape(state)[-1]


def _tensors(*values):
    """Reads variables (e.g. kernels) into tensors, so gradients reach them through the read."""
    return [tf.convert_to_tensor(value) for value in values]


def _flat_matmul(a, b):
    """`sum_t a[t]^T @ b[t]` as one matmul over every step and batch row."""
    return tf.matmul(
        tf.reshape(a, (-1, tf.shape(a)[-1])), tf.reshape(b, (-1, tf.shape(b)[-1])), transpose_a=True
    )


# === LSTM ===


def _lstm_forward(xp, h0, c0, kernel, mask):
    steps = tf.shape(xp)[0]
    units = _units(h0)

    def body(t, h, c, hs, cs, gates):
        m = _stepwise(mask, t)
        z = xp[t] + tf.matmul(h, kernel)
        ifo = tf.sigmoid(z)
        i, f, o = ifo[:, :units], ifo[:, units : 2 * units], ifo[:, 3 * units :]
        g = tf.tanh(z[:, 2 * units : 3 * units])
        c_new = f * c + i * g
        h_new = o * tf.tanh(c_new)
        h, c = _keep(m, h_new, h), _keep(m, c_new, c)
        return t + 1, h, c, hs.write(t, h), cs.write(t, c), gates.write(t, tf.concat([i, f, g, o], 1))

    arrays = [tf.TensorArray(xp.dtype, size=steps) for _ in range(3)]
    _, _, hs, cs, gates = _loop(body, steps, (h0, c0, *arrays))
    return hs.stack(), cs.stack(), gates.stack()


def _lstm_backward(dhs, dc_last, hs, cs, c0, gates, kernel, mask):
    steps = tf.shape(dhs)[0]
    kernel_t = tf.transpose(kernel)
    # Every factor that does not depend on the incoming gradient, for all
    # steps at once (large fused ops instead of a dozen small ones per step):
    # dc += dh * dc_dh, dz = [dc, dc, dc, dh] * dz_factors. On a masked step
    # cs holds the carried state, but its dh and dc are zero, so dz is too.
    i, f, g, o = tf.split(gates, 4, axis=2)
    tanh_c = tf.tanh(cs)
    dc_dh = o * (1 - tanh_c * tanh_c)
    dz_factors = tf.concat(
        [g * i * (1 - i), _previous(c0, cs) * f * (1 - f), i * (1 - g * g), tanh_c * o * (1 - o)], axis=2
    )

    def body(t, dh, dc, dzs):
        t = steps - 1 - t
        m = _stepwise(mask, t)
        dh, dh_pass = _split_masked(m, dh + dhs[t])
        dc, dc_pass = _split_masked(m, dc)
        dc = dc + dh * dc_dh[t]
        dz = tf.concat([dc, dc, dc, dh], axis=1) * dz_factors[t]
        return steps - t, tf.matmul(dz, kernel_t) + dh_pass, dc * f[t] + dc_pass, dzs.write(t, dz)

    dzs = tf.TensorArray(dhs.dtype, size=steps)
    dh0, dc0, dzs = _loop(body, steps, (tf.zeros_like(dhs[0]), dc_last, dzs))
    return dzs.stack(), dh0, dc0


def lstm_sequence(xp, h0, c0, kernel, mask=None, xla=True):
    """Runs an LSTM over projected inputs.

    Args:
        xp: `x @ W + b` for every step, time-major `(steps, batch, 4 * units)`.
        h0, c0: initial output and carry states `(batch, units)`.
        kernel: recurrent kernel `(units, 4 * units)`.
        mask: boolean `(steps, batch, 1)`, False on steps to skip; or None.
        xla: whether large calls may run XLA-compiled loops; False keeps the
            graph free of XLA (e.g. for exports served elsewhere).

    Returns:
        `(states, last_carry)`: the output state after every step
        `(steps, batch, units)` and the final carry `(batch, units)`.
    """

    @tf.custom_gradient
    def recurrence(xp, h0, c0, kernel):
        use_jit = _use_jit(xp, h0, xla)
        hs, cs, gates = _run(_lstm_forward, use_jit, xp, h0, c0, kernel, mask)

        def grad(dhs, dc_last):
            dzs, dh0, dc0 = _run(_lstm_backward, use_jit, dhs, dc_last, hs, cs, c0, gates, kernel, mask)
            return dzs, dh0, dc0, _flat_matmul(_previous(h0, hs), dzs)

        return (hs, cs[-1]), grad

    return recurrence(*_tensors(xp, h0, c0, kernel))


def lstm_fused_sequence(x, h0, c0, kernel, recurrent_kernel, bias):
    """Runs an unmasked LSTM as one TensorFlow op (`BlockLSTMV2`), for inference graphs.

    Plain TensorFlow, so exports keep it: one kernel runs every step, without
    the dozen small ops per step of a `tf.while_loop` (the forecast export,
    336 steps at batch 1: 14.8 ms before, 2.85 ms with it). `BlockLSTMV2` uses
    Keras' gate order and weights. Its registered gradient does not match
    Keras', so the gradient here is this module's own backward loop, fed with
    the gates the op returns.

    Args:
        x: raw inputs, time-major `(steps, batch, features)`.
        h0, c0: initial output and carry states `(batch, units)`.
        kernel: input kernel `(features, 4 * units)`.
        recurrent_kernel: `(units, 4 * units)`.
        bias: `(4 * units,)`.

    Returns:
        `(states, last_carry)`, as `lstm_sequence`.

    Example:

    >>> x = tf.zeros((5, 2, 3))
    >>> h0 = c0 = tf.zeros((2, 4))
    >>> states, _ = lstm_fused_sequence(x, h0, c0, tf.zeros((3, 16)), tf.zeros((4, 16)), tf.zeros(16))
    >>> tuple(states.shape)
    (5, 2, 4)
    """

    @tf.custom_gradient
    def recurrence(x, h0, c0, kernel, recurrent_kernel, bias):
        no_peephole = tf.zeros(tf.shape(h0)[1:], x.dtype)
        i, cs, f, o, g, _, hs = tf.raw_ops.BlockLSTMV2(
            seq_len_max=tf.cast(tf.shape(x)[0], tf.int64), x=x, cs_prev=c0, h_prev=h0,
            w=tf.concat([kernel, recurrent_kernel], 0), wci=no_peephole, wcf=no_peephole,
            wco=no_peephole, b=bias, cell_clip=0.0, use_peephole=False,
        )

        def grad(dhs, dc_last):
            gates = tf.concat([i, f, g, o], axis=2)
            dzs, dh0, dc0 = _run(_lstm_backward, None, dhs, dc_last, hs, cs, c0, gates, recurrent_kernel, None)
            dx = tf.reshape(tf.matmul(tf.reshape(dzs, (-1, tf.shape(dzs)[-1])), kernel, transpose_b=True),
                            tf.shape(x))
            return (dx, dh0, dc0, _flat_matmul(x, dzs), _flat_matmul(_previous(h0, hs), dzs),
                    tf.reduce_sum(dzs, axis=(0, 1)))

        return (hs, cs[-1]), grad

    return recurrence(*_tensors(x, h0, c0, kernel, recurrent_kernel, bias))


# === GRU ===


def _gru_forward(xp, h0, kernel, recurrent_bias, mask):
    steps = tf.shape(xp)[0]
    units = _units(h0)

    def body(t, h, hs, saved):
        m = _stepwise(mask, t)
        inner = tf.matmul(h, kernel) + recurrent_bias
        zr = tf.sigmoid(xp[t][:, : 2 * units] + inner[:, : 2 * units])
        z, r = zr[:, :units], zr[:, units:]
        inner_h = inner[:, 2 * units :]
        hh = tf.tanh(xp[t][:, 2 * units :] + r * inner_h)
        h = _keep(m, z * h + (1 - z) * hh, h)
        return t + 1, h, hs.write(t, h), saved.write(t, tf.concat([zr, hh, inner_h], 1))

    arrays = [tf.TensorArray(xp.dtype, size=steps) for _ in range(2)]
    _, hs, saved = _loop(body, steps, (h0, *arrays))
    return hs.stack(), saved.stack()


def _gru_backward(dhs, hs, h0, saved, kernel, mask):
    steps = tf.shape(dhs)[0]
    kernel_t = tf.transpose(kernel)
    # The gradient-independent factors of every step, computed at once (see
    # `_lstm_backward`); the loop only carries dh and records it.
    z, r, hh, inner_h = tf.split(saved, 4, axis=2)
    da_h = (1 - z) * (1 - hh * hh)
    da_z = (_previous(h0, hs) - hh) * z * (1 - z)
    da_r = da_h * inner_h * r * (1 - r)
    dinner_factors = tf.concat([da_z, da_r, da_h * r], axis=2)

    def body(t, dh, consumed):
        t = steps - 1 - t
        dh, dh_pass = _split_masked(_stepwise(mask, t), dh + dhs[t])
        dinner = tf.concat([dh, dh, dh], axis=1) * dinner_factors[t]
        return steps - t, tf.matmul(dinner, kernel_t) + dh * z[t] + dh_pass, consumed.write(t, dh)

    dh0, consumed = _loop(body, steps, (tf.zeros_like(dhs[0]), tf.TensorArray(dhs.dtype, size=steps)))
    consumed = consumed.stack()
    consumed = tf.concat([consumed, consumed, consumed], axis=2)
    return consumed * tf.concat([da_z, da_r, da_h], axis=2), consumed * dinner_factors, dh0


def gru_sequence(xp, h0, kernel, recurrent_bias, mask=None, xla=True):
    """Runs a GRU (`reset_after=True`, Keras' default) over projected inputs.

    Args:
        xp: `x @ W + input_bias` for every step, `(steps, batch, 3 * units)`.
        h0: initial state `(batch, units)`.
        kernel: recurrent kernel `(units, 3 * units)`.
        recurrent_bias: `(3 * units,)`, added to `h @ kernel`.
        mask: boolean `(steps, batch, 1)`, False on steps to skip; or None.
        xla: whether large calls may run XLA-compiled loops; False keeps the
            graph free of XLA (e.g. for exports served elsewhere).

    Returns:
        The state after every step, `(steps, batch, units)`.
    """

    @tf.custom_gradient
    def recurrence(xp, h0, kernel, recurrent_bias):
        use_jit = _use_jit(xp, h0, xla)
        hs, saved = _run(_gru_forward, use_jit, xp, h0, kernel, recurrent_bias, mask)

        def grad(dhs):
            dxps, dinners, dh0 = _run(_gru_backward, use_jit, dhs, hs, h0, saved, kernel, mask)
            dbias = tf.reduce_sum(dinners, axis=(0, 1))
            return dxps, dh0, _flat_matmul(_previous(h0, hs), dinners), dbias

        return hs, grad

    return recurrence(*_tensors(xp, h0, kernel, recurrent_bias))


# === Simple RNN ===


def _simple_forward(xp, h0, kernel, mask):
    steps = tf.shape(xp)[0]

    def body(t, h, hs):
        h = _keep(_stepwise(mask, t), tf.tanh(xp[t] + tf.matmul(h, kernel)), h)
        return t + 1, h, hs.write(t, h)

    _, hs = _loop(body, steps, (h0, tf.TensorArray(xp.dtype, size=steps)))
    return hs.stack()


def _simple_backward(dhs, hs, kernel, mask):
    steps = tf.shape(dhs)[0]
    kernel_t = tf.transpose(kernel)
    tanh_grad = 1 - hs * hs  # for all steps at once (see `_lstm_backward`)

    def body(t, dh, das):
        t = steps - 1 - t
        dh, dh_pass = _split_masked(_stepwise(mask, t), dh + dhs[t])
        da = dh * tanh_grad[t]
        return steps - t, tf.matmul(da, kernel_t) + dh_pass, das.write(t, da)

    dh0, das = _loop(body, steps, (tf.zeros_like(dhs[0]), tf.TensorArray(dhs.dtype, size=steps)))
    return das.stack(), dh0


def simple_rnn_sequence(xp, h0, kernel, mask=None, xla=True):
    """Runs a tanh simple RNN over projected inputs.

    Args:
        xp: `x @ W + b` for every step, `(steps, batch, units)`.
        h0: initial state `(batch, units)`.
        kernel: recurrent kernel `(units, units)`.
        mask: boolean `(steps, batch, 1)`, False on steps to skip; or None.
        xla: whether large calls may run XLA-compiled loops; False keeps the
            graph free of XLA (e.g. for exports served elsewhere).

    Returns:
        The state after every step, `(steps, batch, units)`.
    """

    @tf.custom_gradient
    def recurrence(xp, h0, kernel):
        use_jit = _use_jit(xp, h0, xla)
        hs = _run(_simple_forward, use_jit, xp, h0, kernel, mask)

        def grad(dhs):
            das, dh0 = _run(_simple_backward, use_jit, dhs, hs, kernel, mask)
            return das, dh0, _flat_matmul(_previous(h0, hs), das)

        return hs, grad

    return recurrence(*_tensors(xp, h0, kernel))


# === Compilation ===

# The step loops are XLA-compiled (measured faster on CPU: one fused kernel
# per step instead of a dozen small ops; see benchmarks/rnn_throughput.py)
# once a call moves at least this many state values (steps x batch x units).
# XLA compiles once per shape, which only pays off on real workloads; the
# tiny models of tests and examples run the same loop without it.
JIT_MIN_SIZE = 2**16
# False keeps every loop out of XLA (read when a model is traced).
JIT_COMPILE = True

_FUNCTIONS = {}


def _use_jit(xp, h0, xla):
    """Whether a call runs XLA-compiled loops: None (never) or a boolean tensor (large enough)."""
    if not (xla and JIT_COMPILE):
        return None
    return tf.shape(xp)[0] * tf.size(h0) >= JIT_MIN_SIZE


def _run(fn, use_jit, *args):
    """Runs `fn` as a shared `tf.function`, XLA-compiled where `use_jit` holds.

    The arguments are cut from any tape: the custom gradients above are the
    only way back, so no tape asks the loop to keep its own intermediates.
    """
    if fn not in _FUNCTIONS:
        _FUNCTIONS[fn] = (
            tf.function(fn, reduce_retracing=True),
            tf.function(fn, jit_compile=True, reduce_retracing=True),
        )
    plain, jit = _FUNCTIONS[fn]
    args = [None if arg is None else tf.stop_gradient(arg) for arg in args]
    if use_jit is None:
        return plain(*args)
    return tf.cond(use_jit, lambda: jit(*args), lambda: plain(*args))
