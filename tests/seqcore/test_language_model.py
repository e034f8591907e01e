"""`CausalLM`: shapes, stateful generation matching the full-sequence model, serialization."""

import numpy as np
import pytest
import tensorflow as tf

from seqcore.backbone import RecurrentBackbone
from seqcore.language_model import CausalLM

VOCABULARY = 12
PROMPTS = np.array([[2, 5, 7, 3, 9, 4], [6, 6, 2, 0, 0, 0]], "int32")  # right-padded


def make_model(cell="gru", **kwargs):
    backbone = RecurrentBackbone(cell=cell, units=8, embedding_dim=6, vocabulary_size=VOCABULARY, **kwargs)
    return CausalLM(backbone)


def full_next_token_probabilities(model, row):
    """The reference: the whole network re-run over the unpadded prefix."""
    prefix = row[row > 0][None]
    return tf.nn.softmax(model.next_token_logits(prefix)).numpy()[0]


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru", ["lstm", "gru"]])
def test_stateful_steps_match_the_full_sequence_model(cell):
    model = make_model(cell)
    logits, states = model.prefill(PROMPTS)
    for index, row in enumerate(PROMPTS):
        np.testing.assert_allclose(
            tf.nn.softmax(logits).numpy()[index], full_next_token_probabilities(model, row), atol=1e-5
        )
    rows = [list(row[row > 0]) for row in PROMPTS]
    for token_pair in ([3, 8], [10, 2], [5, 5], [11, 7]):
        logits, states = model.step(tf.constant(token_pair), states)
        for index, token in enumerate(token_pair):
            rows[index].append(token)
            reference = full_next_token_probabilities(model, np.array(rows[index]))
            np.testing.assert_allclose(tf.nn.softmax(logits).numpy()[index], reference, atol=1e-5)


def test_greedy_generation_equals_rerunning_the_whole_text_each_step():
    model = make_model("lstm")
    ids, done = model.generate_ids(PROMPTS[:1], max_length=8, sampler="greedy")
    text = list(PROMPTS[0])
    for _ in range(8):
        probabilities = full_next_token_probabilities(model, np.array(text))
        probabilities[0] = -1  # padding is never generated
        text.append(int(np.argmax(probabilities)))
    assert ids.numpy()[0].tolist() == text[len(PROMPTS[0]):]
    assert not done.numpy().any()


def test_generation_is_reproducible_with_a_seed_and_compiles():
    model = make_model("gru")
    generate = tf.function(lambda seed: model.generate_ids(PROMPTS, 12, sampler="temperature", seed=seed)[0])
    first, second, other = generate(3), generate(3), generate(4)
    np.testing.assert_array_equal(first, second)
    assert first.shape == (2, 12) and not np.array_equal(first, other)
    assert (first.numpy() != 0).all()


def test_zero_length_and_stop_function():
    model = make_model("gru")
    ids, _ = model.generate_ids(PROMPTS, 0)
    assert ids.shape == (2, 0)
    ids, done = model.generate_ids(
        PROMPTS, 50, sampler="temperature", chunk_size=4,
        stop_fn=lambda recent: tf.fill([tf.shape(recent)[0]], True),
    )
    assert ids.shape == (2, 4) and done.numpy().all()  # stops are checked after each chunk


def test_stop_function_sees_the_tail_across_chunks():
    model = make_model("gru")
    full, _ = model.generate_ids(PROMPTS[:1], 40, sampler="temperature", seed=5)
    full = full.numpy()[0].tolist()
    pair = full[9:11]  # a two-token stop sequence that straddles chunks 2 and 3 (size 5)
    windows = []

    def stop_fn(recent):
        windows.append(recent)
        hit = tf.reduce_any(tf.logical_and(tf.equal(recent[:, :-1], pair[0]), tf.equal(recent[:, 1:], pair[1])), axis=1)
        return hit

    ids, done = model.generate_ids(PROMPTS[:1], 40, sampler="temperature", seed=5, chunk_size=5,
                                   stop_fn=stop_fn, stop_window=2)
    first = next(i for i in range(len(full) - 1) if full[i:i + 2] == pair)
    assert done.numpy().all() and ids.shape[1] == 5 * ((first + 1) // 5 + 1)  # chunk of its end
    assert ids.numpy()[0].tolist() == full[: ids.shape[1]]
    assert windows[0].shape == (1, 6)  # chunk_size + stop_window - 1


def test_chunking_and_compilation_never_change_the_text(chunk_size=7):
    model = make_model("lstm")
    reference, _ = model.generate_ids(PROMPTS, 20, sampler="temperature", seed=9)
    chunked, _ = model.generate_ids(PROMPTS, 20, sampler="temperature", seed=9, chunk_size=chunk_size)
    np.testing.assert_array_equal(reference, chunked)
    greedy, _ = model.generate_ids(PROMPTS, 20, sampler="greedy")
    uncompiled, _ = model.generate_ids(PROMPTS, 20, sampler="greedy", jit_compile=False)
    np.testing.assert_array_equal(greedy, uncompiled)


def test_banned_ids_and_repetition_penalty():
    model = make_model("gru")
    ids, _ = model.generate_ids(PROMPTS, 30, sampler="temperature", banned_ids=(0, 1, 2, 3))
    assert ids.numpy().min() >= 4
    # Greedy with a penalty equals penalizing the full model's logits by hand.
    from seqcore.samplers import apply_repetition_penalty

    ids, _ = model.generate_ids(PROMPTS[:1], 6, sampler="greedy", repetition_penalty=3.0)
    text = list(PROMPTS[0])
    for _ in range(6):
        logits = model.next_token_logits(np.array([text])).numpy()
        seen = np.zeros_like(logits, dtype=bool)
        seen[0, text] = True
        logits = apply_repetition_penalty(logits, seen, 3.0).numpy()
        logits[0, 0] = -1e9
        text.append(int(np.argmax(logits)))
    assert ids.numpy()[0].tolist() == text[len(PROMPTS[0]):]


def test_bidirectional_and_feature_backbones_are_refused():
    with pytest.raises(ValueError, match="expected a unidirectional backbone"):
        CausalLM(RecurrentBackbone(cell="gru", units=4, vocabulary_size=5, bidirectional=True))
    with pytest.raises(ValueError, match="needs a token-id backbone"):
        CausalLM(RecurrentBackbone(cell="gru", units=4, num_features=3))


def test_round_trip_through_a_keras_file(tmp_path):
    import keras

    model = make_model(["lstm", "gru"], dropout=0.1)
    model.compile()
    path = tmp_path / "lm.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert isinstance(loaded, CausalLM) and loaded.learning_rate == model.learning_rate
    np.testing.assert_allclose(loaded.predict(PROMPTS, verbose=0), model.predict(PROMPTS, verbose=0), atol=1e-6)
    assert type(loaded.sampler) is type(model.sampler)


def test_the_task_battery_fits_predicts_and_round_trips(tmp_path):
    from seqcore.testing import run_task_test

    model = make_model(["gru", "lstm"])
    tokens = np.random.default_rng(0).integers(2, VOCABULARY, size=(4, 9)).astype("int32")
    reloaded = run_task_test(model, tokens[:, :-1], tokens[:, 1:], tmp_path)
    assert isinstance(reloaded, CausalLM)
