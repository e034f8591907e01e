"""`CausalLM`: a backbone with a next-token head, and stateful generation.

Training and scoring run the backbone over whole sequences (the layers' own
fast loop). Generation runs one pass over the prompt that returns each
recurrent layer's state, then steps every layer's cell one token at a time
inside a `tf.while_loop` compiled by XLA (sampling included), carrying the
states: the network never re-reads the growing text, so each new token
costs one step.
"""

import keras
import tensorflow as tf

from seqcore import samplers as sampler_registry
from seqcore.task import Task

#: Token id of padding (masked by the backbone's embedding).
PADDING_ID = 0
#: Generation steps per compiled chunk (between stop checks).
DECODE_CHUNK = 64


def _as_list(state):
    return list(state) if isinstance(state, (list, tuple)) else [state]


@keras.saving.register_keras_serializable(package="seqcore")
class CausalLM(Task, keras.Model):
    """Predicts the next token at every step from the backbone's `sequence_output`.

    Token id 0 is padding. The model outputs logits; `compile()` uses
    cross-entropy from logits, so the loss is nats per token.

    Args:
        backbone: a unidirectional `RecurrentBackbone` over token ids
            (`vocabulary_size` given).
        preprocessor: optional layer mapping raw text to token ids (and,
            for generation, with a `detokenize(ids)` method); saved with the
            model.
        dropout: dropout on `sequence_output` before the output layer.
        learning_rate: Adam's learning rate used by `compile()`.
        sampler: the default sampler of `generate_ids`: a name, a
            `seqcore.samplers.serialize` dict or a sampler.

    Returns:
        Next-token logits `(batch, steps, vocabulary_size)`, float32.

    Example:

    >>> import numpy as np
    >>> from seqcore.backbone import RecurrentBackbone
    >>> backbone = RecurrentBackbone(cell="gru", units=8, vocabulary_size=20)
    >>> model = CausalLM(backbone)
    >>> model.predict(np.array([[3, 4, 5]]), verbose=0).shape
    (1, 3, 20)
    >>> ids, done = model.generate_ids(np.array([[3, 4]]), max_length=5, sampler="greedy")
    >>> ids.shape
    TensorShape([1, 5])
    """

    def __init__(self, backbone, preprocessor=None, dropout=0.0, learning_rate=2e-3,
                 sampler="top_p", **kwargs):
        if getattr(backbone, "vocabulary_size", None) is None:
            raise ValueError(
                "CausalLM needs a token-id backbone; expected `vocabulary_size` to be set; "
                f"received: vocabulary_size={getattr(backbone, 'vocabulary_size', None)}"
            )
        if getattr(backbone, "bidirectional", False):
            raise ValueError(
                "A language model predicts the next token from the past only; expected a "
                "unidirectional backbone; received: bidirectional=True"
            )
        vocabulary_size = int(backbone.vocabulary_size)

        # === Layers ===
        head_dropout = keras.layers.Dropout(dropout, name="head_dropout")
        logits_dense = keras.layers.Dense(vocabulary_size, dtype="float32", name="logits")

        # === Functional Model ===
        inputs = backbone.input
        sequence = backbone(inputs)["sequence_output"]
        outputs = logits_dense(head_dropout(sequence))
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)

        # === Config ===
        self.backbone = backbone
        self.preprocessor = preprocessor
        self.dropout = float(dropout)
        self.learning_rate = float(learning_rate)
        self.sampler = sampler_registry.get(sampler)
        self.vocabulary_size = vocabulary_size
        self.head_dropout = head_dropout
        self.logits_dense = logits_dense

    # --- Training ------------------------------------------------------------------

    def compile(self, optimizer="auto", loss="auto", metrics="auto", **kwargs):
        """Compiles with Adam (gradients clipped), cross-entropy from logits and accuracy."""
        if optimizer == "auto":
            optimizer = keras.optimizers.Adam(self.learning_rate, clipnorm=1.0)
        if loss == "auto":
            loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        if metrics == "auto":
            metrics = [keras.metrics.SparseCategoricalAccuracy(name="accuracy")]
        kwargs.setdefault("jit_compile", False)
        super().compile(optimizer=optimizer, loss=loss, metrics=metrics, **kwargs)

    def preprocess_dataset(self, dataset):
        """Runs the preprocessor on string features only; token ids pass through."""
        if self.preprocessor is None or dataset.element_spec[0].dtype != tf.string:
            return dataset
        return super().preprocess_dataset(dataset)

    # --- Stateful stepping ---------------------------------------------------------

    @property
    def recurrent_layers(self):
        """The backbone's recurrent layers, input side first."""
        return [layer for layer in self.backbone.layers if isinstance(layer, keras.layers.RNN)]

    @property
    def embedding(self):
        return self.backbone.get_layer("token_embedding")

    def _head(self, hidden):
        return self.logits_dense(self.head_dropout(hidden, training=False))

    def prefill(self, token_ids):
        """One pass over right-padded prompts: last-token logits and every layer's state.

        Args:
            token_ids: int `(batch, steps)`, right-padded with 0; every row
                holds at least one token.

        Returns:
            `(logits, states)`: logits `(batch, vocabulary)` after each row's
            last real token, and a list (one per recurrent layer) of lists of
            state tensors `(batch, units)`.
        """
        token_ids = tf.cast(token_ids, "int32")
        mask = tf.not_equal(token_ids, PADDING_ID)
        x = self.embedding(token_ids)
        batch = tf.shape(token_ids)[0]
        states = []
        last = None
        for layer in self.recurrent_layers:
            initial = _as_list(layer.get_initial_state(batch))
            last, x, state = layer.inner_loop(x, initial, mask=mask, training=False)
            states.append(_as_list(state))
        return self._head(last), states

    def step(self, token, states):
        """Advances every recurrent layer by one token.

        Args:
            token: int `(batch,)`.
            states: as returned by `prefill` or `step`.

        Returns:
            `(logits, states)` for the next position.
        """
        # The embedding table itself: calling the layer would attach a mask
        # that the cells do not take.
        x = tf.gather(self.embedding.embeddings, tf.cast(token, "int32"))
        new_states = []
        for layer, state in zip(self.recurrent_layers, states):
            x, state = layer.cell(x, state, training=False)
            new_states.append(_as_list(state))
        return self._head(x), new_states

    def next_token_logits(self, token_ids):
        """Full-sequence logits after the last token of each (unpadded) row: the reference path."""
        logits = self(tf.cast(token_ids, "int32"), training=False)
        return logits[:, -1]

    def generate_ids(
        self,
        prompt_ids,
        max_length,
        sampler=None,
        seed=0,
        repetition_penalty=1.0,
        banned_ids=(PADDING_ID,),
        stop_fn=None,
        stop_window=1,
        chunk_size=DECODE_CHUNK,
        jit_compile=True,
    ):
        """Generates up to `max_length` token ids after each prompt, stepping the state.

        One pass over the prompt (`prefill`), then chunks of `chunk_size`
        steps, each a `tf.while_loop` compiled by XLA (`jit_compile`): the
        repetition penalty, the sampler and every recurrent cell run inside
        the compiled loop. Shapes inside depend only on the batch size, so
        XLA compiles once per batch size, whatever the prompt or
        `max_length`. Runs inside a `tf.function` (and a SavedModel); every
        setting may be a scalar tensor. Draws are seeded by `(seed, step)`,
        so the chunking never changes the result.

        Args:
            prompt_ids: int `(batch, steps)`, right-padded with 0, at least
                one token per row.
            max_length: tokens to generate (>= 0).
            sampler: a sampler (name, dict or object); the model's default when None.
            seed: int; together with the step number it seeds each draw.
            repetition_penalty: > 0; 1 switches it off, above 1 discourages repeats. Applies to every
                token in the prompt or generated so far.
            banned_ids: ids never generated (padding by default).
            stop_fn: optional callable, run after every chunk on the last
                `chunk_size + stop_window - 1` generated ids (left-padded
                with 0) -> bool `(batch,)`, True where a row has finished;
                generation ends after the chunk in which all have.
            stop_window: the longest stop sequence `stop_fn` looks for, in tokens.
            chunk_size: steps per compiled chunk.
            jit_compile: compile the chunk with XLA (several times faster on
                CPU than TensorFlow's graph executor for this loop of small ops).

        Returns:
            `(ids, done)`: generated ids `(batch, n)` with `n <= max_length`
            (fewer when every row stopped early; a multiple of
            `chunk_size`) and the bool `(batch,)` stop flags.
        """
        sampler = self.sampler if sampler is None else sampler_registry.get(sampler)
        prompt_ids = tf.cast(prompt_ids, "int32")
        batch = tf.shape(prompt_ids)[0]
        vocabulary = self.vocabulary_size
        max_length = tf.maximum(tf.cast(max_length, tf.int32), 0)
        seed = tf.cast(seed, tf.int64)
        banned = tf.reduce_any(
            tf.one_hot(tf.constant(list(banned_ids), tf.int32), vocabulary, on_value=True,
                       off_value=False, dtype=tf.bool),
            axis=0,
        ) if banned_ids else tf.zeros([vocabulary], tf.bool)
        seen = tf.reduce_any(
            tf.one_hot(prompt_ids, vocabulary, on_value=True, off_value=False, dtype=tf.bool),
            axis=1,
        )
        seen = tf.logical_and(seen, tf.logical_not(banned)[None])
        logits, states = self.prefill(prompt_ids)
        flat_states = tf.nest.flatten(states)

        def decode(start, count, logits, flat_states, seen):
            """`count` <= chunk_size steps from step `start`: ids `(chunk_size, batch)`, zero-filled."""

            def body(index, logits, flat_states, seen, tokens):
                scores = tf.where(banned[None], tf.cast(sampler_registry.NEG_INF, logits.dtype), logits)
                scores = sampler_registry.apply_repetition_penalty(scores, seen, repetition_penalty)
                token = sampler(scores, tf.stack([seed, tf.cast(start + index, tf.int64)]))
                token = tf.cast(token, tf.int32)
                tokens = tf.tensor_scatter_nd_update(tokens, [[index]], token[None])
                seen = tf.logical_or(seen, tf.one_hot(token, vocabulary, on_value=True,
                                                      off_value=False, dtype=tf.bool))
                logits, new_states = self.step(token, tf.nest.pack_sequence_as(states, flat_states))
                return index + 1, logits, tf.nest.flatten(new_states), seen, tokens

            tokens = tf.zeros([chunk_size, tf.shape(logits)[0]], tf.int32)
            _, logits, flat_states, seen, tokens = tf.while_loop(
                lambda index, *_: index < count,
                body,
                (tf.constant(0), logits, flat_states, seen, tokens),
                maximum_iterations=chunk_size,
            )
            return tokens, logits, flat_states, seen

        decode = tf.function(decode, jit_compile=jit_compile, autograph=False)
        tail = tf.zeros([batch, stop_window - 1], tf.int32)

        def body(step, logits, flat_states, seen, tail, done, chunks):
            count = tf.minimum(chunk_size, max_length - step)
            tokens, logits, flat_states, seen = decode(step, count, logits, flat_states, seen)
            tokens = tf.transpose(tokens)
            if stop_fn is not None:
                recent = tf.concat([tail, tokens[:, :count]], axis=1)
                recent = tf.pad(recent, [[0, 0], [chunk_size - count, 0]])
                done = tf.logical_or(done, stop_fn(recent))
                tail = recent[:, tf.shape(recent)[1] - (stop_window - 1):]
            chunks = chunks.write(chunks.size(), tokens)
            return step + count, logits, flat_states, seen, tail, done, chunks

        def condition(step, logits, flat_states, seen, tail, done, chunks):
            return tf.logical_and(step < max_length, tf.logical_not(tf.reduce_all(done)))

        chunks = tf.TensorArray(tf.int32, size=0, dynamic_size=True, element_shape=[None, chunk_size])
        done = tf.zeros([batch], tf.bool)
        step, _, _, _, _, done, chunks = tf.while_loop(
            condition,
            body,
            (tf.constant(0), logits, flat_states, seen, tail, done, chunks),
            shape_invariants=(
                tf.TensorShape([]),
                logits.shape,
                [state.shape for state in flat_states],
                seen.shape,
                tf.TensorShape([None, None]),
                done.shape,
                tf.TensorShape(None),
            ),
        )
        # (chunks, batch, chunk_size); the reshape also gives no chunks that shape.
        stacked = tf.reshape(chunks.stack(), [-1, batch, chunk_size])
        output = tf.reshape(tf.transpose(stacked, [1, 0, 2]), [batch, -1])
        return output[:, :step], done

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "backbone": keras.layers.serialize(self.backbone),
                "dropout": self.dropout,
                "learning_rate": self.learning_rate,
                "sampler": sampler_registry.serialize(self.sampler),
            }
        )
        return config
