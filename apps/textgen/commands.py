"""The text generation app's commands as plain functions; `cli.py` is a thin layer over them."""

import math
import time
from pathlib import Path

from apps.textgen import corpus as corpus_lib
from apps.textgen.settings import LEVELS, TRAINING
from seqcore.errors import SeqcoreError
from seqcore.run_config import backbone_config, check_options, training_config
from seqcore.runs import open_run, read_json, write_json
from seqcore.train_flow import TrainingData

TASK = "textgen"
DEFAULT_BACKBONE = "gru"
#: Backbone settings of this task that a preset or an option may override.
BACKBONE_DEFAULTS = {"embedding_dim": 64, "pooling": "last", "dropout": 0.0}
#: Units of every preset here unless --units says otherwise: the shared presets'
#: 64 units suit classifiers, and a character model needs far more to reach ~1.6 nats/char.
DEFAULT_UNITS = 384
#: Per level: tokens per training window, vocabulary cap.
LEVEL_DEFAULTS = {"char": {"seq_len": 100, "max_tokens": 1000}, "word": {"seq_len": 50, "max_tokens": 20000}}
VOCABULARY_FILE = "vocabulary.json"


def resolve_config(
    *,
    data=None,
    level="char",
    seq_len=None,
    max_tokens=None,
    validation_fraction=0.05,
    backbone=DEFAULT_BACKBONE,
    head_dropout=0.0,
    learning_rate=2e-3,
    max_minutes=None,
    **options,
):
    """Task defaults, then the preset, then explicit options: the run's whole configuration.

    The shared backbone and training options (`seqcore.run_config`) come as
    keyword `options`; `--units` defaults to `DEFAULT_UNITS` here.

    Example:

    >>> resolve_config(level="word")["tokenizer"]
    {'level': 'word', 'seq_len': 50, 'max_tokens': 20000}
    """
    check_options(options)
    if level not in LEVELS:
        raise SeqcoreError(f"unknown level {level!r}; expected one of: {', '.join(LEVELS)}")
    defaults = LEVEL_DEFAULTS[level]
    seq_len = defaults["seq_len"] if seq_len is None else int(seq_len)
    if seq_len < 1:
        raise SeqcoreError(f"--seq-len must be a positive number of tokens; received: {seq_len}")
    units = DEFAULT_UNITS if options.get("units") is None else options["units"]
    backbone_kwargs = backbone_config(backbone, BACKBONE_DEFAULTS, {**options, "units": units})
    if backbone_kwargs.get("bidirectional"):
        raise SeqcoreError(
            "text generation reads left to right, one token at a time; expected a "
            f"unidirectional backbone; received: preset {backbone} with bidirectional=True"
        )
    if max_minutes is not None and not float(max_minutes) > 0:
        raise SeqcoreError(f"--max-minutes must be positive; received: {max_minutes}")
    source = data or corpus_lib.DEFAULT_SOURCE
    if not corpus_lib.is_builtin(source) and not source.startswith("tfds:"):
        source = ",".join(
            str(Path(item.strip()).resolve()) if Path(item.strip()).exists() else item.strip()
            for item in source.split(",")
        )
    return {
        "task": TASK,
        "data": {"source": source, "validation_fraction": float(validation_fraction)},
        "tokenizer": {
            "level": level,
            "seq_len": seq_len,
            "max_tokens": defaults["max_tokens"] if max_tokens is None else int(max_tokens),
        },
        "preset": backbone,
        "backbone": backbone_kwargs,
        "head": {"dropout": float(head_dropout), "learning_rate": float(learning_rate)},
        "training": {
            **training_config(options, TRAINING),
            "max_minutes": None if max_minutes is None else float(max_minutes),
        },
    }


def _check_part(part, level, seq_len, what):
    """Counts `part`'s tokens; refuses empty or too-short text."""
    tokens, characters = corpus_lib.count_tokens(part, level)
    if tokens == 0:
        raise SeqcoreError(f"the {what} text is empty; expected some text")
    if tokens < seq_len + 1:
        raise SeqcoreError(
            f"the {what} text is too short: {tokens} {level} tokens; expected at least "
            f"--seq-len + 1 = {seq_len + 1} (use more text or a smaller --seq-len)"
        )
    return tokens, characters


def _check_corpus(corpus, level, seq_len):
    """Token counts of the training and validation parts, each long enough for one window."""
    train, _ = corpus_lib.count_tokens(corpus.train, level)
    validation, _ = corpus_lib.count_tokens(corpus.validation, level)
    need = seq_len + 1
    if train + validation == 0:
        raise SeqcoreError(f"the corpus {corpus.source} is empty; expected some text to learn from")
    if train + validation < 2 * need:
        raise SeqcoreError(
            f"the corpus is too short: {train + validation} {level} tokens; expected at least "
            f"{2 * need} (one training and one validation window of --seq-len + 1 = {need}); "
            "use more text or a smaller --seq-len"
        )
    for tokens, what in ((train, "training part"), (validation, "held-out validation part")):
        if tokens < need:
            raise SeqcoreError(
                f"the {what} of the corpus is too short: {tokens} {level} tokens; expected at "
                f"least --seq-len + 1 = {need} (use more text, a smaller --seq-len or another "
                "--validation-fraction)"
            )
    return train, validation


def time_limit(minutes):
    """A Keras callback that stops training after `minutes`; the epoch still validates."""
    import keras

    deadline = time.time() + 60.0 * minutes

    def check(batch, logs=None):
        if time.time() > deadline:
            callback.model.stop_training = True

    callback = keras.callbacks.LambdaCallback(on_train_batch_end=check)
    return callback


def train(config, out=None, resume=False, overwrite=False, verbose="auto", backup_every=50,
          extra_callbacks=(), strategy="auto", mixed_precision=None):
    """Trains a language model and writes a finished run directory (`seqcore.train_flow.train_task`).

    The vocabulary is built once, on (a bounded sample of) the training
    part, and stored with the run (`vocabulary.json` and inside
    `model.keras`); `resume` reuses it. Arguments as `train_task`'s;
    `extra_callbacks` are more Keras callbacks for `fit`.
    """
    from seqcore.train_flow import train_task

    return train_task(TASK, CorpusTraining, config, out, resume=resume, overwrite=overwrite, verbose=verbose,
                      backup_every=backup_every, callbacks=extra_callbacks, strategy=strategy,
                      mixed_precision=mixed_precision)


class CorpusTraining(TrainingData):
    """A corpus's training and validation token windows, its vocabulary stored with the run."""

    def __init__(self, config, distribution):
        config = {key: value for key, value in config.items() if key != "environment"}
        super().__init__(config)
        tokenizer_config = config["tokenizer"]
        self.level, self.seq_len = tokenizer_config["level"], tokenizer_config["seq_len"]
        self.corpus = corpus_lib.resolve(config["data"]["source"], config["data"]["validation_fraction"])
        self.tokens = _check_corpus(self.corpus, self.level, self.seq_len)
        self.validation_batch = distribution.global_batch_size(config["training"]["batch_size"])
        self.vocabulary = None

    def start(self, run, resume):
        if resume:
            self.vocabulary = read_json(run.work / VOCABULARY_FILE)
        else:
            self.vocabulary = corpus_lib.build_vocabulary(
                self.corpus.train, self.level, self.config["tokenizer"]["max_tokens"])
            write_json(run.work / VOCABULARY_FILE, self.vocabulary)
        train_tokens, validation_tokens = self.tokens
        self.config = {
            **self.config,
            "corpus": {
                "description": self.corpus.description,
                "train_tokens": train_tokens,
                "validation_tokens": validation_tokens,
                "vocabulary_size": len(self.vocabulary) + 2,
            },
        }

    def build_model(self):
        from apps.textgen.model import build_language_model

        return build_language_model(self.config, self.vocabulary)

    def _windows(self, part, tokens, batch_size, seed=None):
        from apps.textgen.preprocessing import TextTokenizer

        tokenizer = TextTokenizer(self.level, vocabulary=self.vocabulary)
        data = corpus_lib.windows(part, tokenizer, self.seq_len, batch_size, shuffle_seed=seed)
        return _with_cardinality(data, corpus_lib.num_batches(tokens, self.seq_len, batch_size))

    def train_dataset(self, global_batch_size, seed):
        return self._windows(self.corpus.train, self.tokens[0], global_batch_size, seed)

    def validation_dataset(self):
        return self._windows(self.corpus.validation, self.tokens[1], self.validation_batch)

    def callbacks(self):
        minutes = self.config["training"].get("max_minutes")
        return [time_limit(minutes)] if minutes else []

    def report(self, model, run):
        metrics = {"validation": score(model, self.corpus.validation, self.seq_len)}
        if self.corpus.test != self.corpus.validation:
            metrics["test"] = score(model, self.corpus.test, self.seq_len)
        return metrics


def _with_cardinality(dataset, batches):
    import tensorflow as tf

    return dataset.apply(tf.data.experimental.assert_cardinality(batches))


def score(model, part, seq_len, batch_size=64):
    """Cross-entropy of `model` on `part`, in windows of `seq_len` tokens.

    Returns nats and bits per token and per character, perplexity and the
    counts. At character level tokens are characters.
    """
    import tensorflow as tf

    tokenizer = model.preprocessor
    dataset = corpus_lib.windows(part, tokenizer, seq_len, batch_size, with_lengths=True)

    @tf.function(reduce_retracing=True, autograph=False)
    def batch_totals(inputs, targets, lengths):
        logits = model(inputs, training=False)
        nats = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=targets, logits=logits)
        return (
            tf.reduce_sum(tf.cast(nats, tf.float64)),
            tf.cast(tf.size(targets), tf.int64),
            tf.reduce_sum(tf.cast(lengths, tf.int64)),
            tf.reduce_sum(tf.cast(tf.equal(targets, 1), tf.int64)),
        )

    total_nats, tokens, characters, unknown = 0.0, 0, 0, 0
    for inputs, targets, lengths in dataset:
        nats, count, chars, unk = batch_totals(inputs, targets, lengths)
        total_nats += float(nats)
        tokens += int(count)
        characters += int(chars)
        unknown += int(unk)
    if tokens == 0:
        raise SeqcoreError(
            f"the text to evaluate is too short; expected at least {seq_len + 1} tokens "
            f"(--seq-len + 1) of {tokenizer.level} text"
        )
    per_token = total_nats / tokens
    per_char = total_nats / max(characters, 1)
    return {
        "nats_per_token": round(per_token, 4),
        "bits_per_token": round(per_token / math.log(2), 4),
        "perplexity": round(math.exp(per_token), 3),
        "nats_per_char": round(per_char, 4),
        "bits_per_char": round(per_char / math.log(2), 4),
        "tokens": tokens,
        "characters": characters,
        "unknown_tokens": unknown,
        "text": part.name,
    }


def load_run_model(run_dir):
    """Loads a finished textgen run's best model (another task's run is refused)."""
    from seqcore.saving import load_run

    return load_run(run_dir, TASK)[0]


def evaluate(run_dir, data=None, split="test"):
    """Cross-entropy per token and per character of a run's model.

    Args:
        data: a text file / folder (evaluated whole) or a source name; by
            default the run's own held-out `split` ("test" or "validation").
    """
    config = open_run(run_dir, TASK)
    seq_len = config["tokenizer"]["seq_len"]
    if data is None:
        corpus = corpus_lib.resolve(config["data"]["source"], config["data"]["validation_fraction"])
        part = getattr(corpus, split)
    elif corpus_lib.is_builtin(data) or data.startswith("tfds:"):
        part = getattr(corpus_lib.resolve(data), split)
    else:
        files = corpus_lib.text_files(data)
        part = corpus_lib.Part(
            data, tuple((str(path), 0, path.stat().st_size, False) for path in files)
        )
    level = config["tokenizer"]["level"]
    _check_part(part, level, seq_len, "evaluation")
    model = load_run_model(run_dir)
    return score(model, part, seq_len)


# --- Generation ------------------------------------------------------------------------


def check_settings(length, temperature, top_k, top_p, repetition_penalty):
    """Refuses generation settings out of range, with one line each."""
    if length is None or int(length) < 1:
        raise SeqcoreError(f"--length must be at least 1 token; received: {length}")
    if temperature is None or not (isinstance(temperature, (int, float)) and math.isfinite(temperature)) or temperature < 0:
        raise SeqcoreError(
            f"--temperature must be a finite number >= 0 (0 is greedy); received: {temperature}"
        )
    if top_k is None or int(top_k) < 0:
        raise SeqcoreError(f"--top-k must be >= 0 (0 keeps every token); received: {top_k}")
    if top_p is None or not (math.isfinite(top_p) and 0.0 < top_p <= 1.0):
        raise SeqcoreError(f"--top-p must be in (0, 1] (1 keeps every token); received: {top_p}")
    if repetition_penalty is None or not (math.isfinite(repetition_penalty) and repetition_penalty > 0):
        raise SeqcoreError(
            f"--repetition-penalty must be > 0 (1 is off, above 1 discourages repeats); "
            f"received: {repetition_penalty}"
        )


class Generator:
    """Generates text from a run directory or an export directory.

    Loads the model once; `__call__` runs the compiled generation function
    (from a run) or the SavedModel's `signature` (from an export; default
    `serving_default`, or `generate_without_xla`).

    Usage (a sketch; it needs a finished run, so it is not run as a test)::

        Generator("runs/textgen")(["ROMEO:"], length=200, seed=1)[0]
    """

    def __init__(self, model_path, signature="serving_default"):
        import tensorflow as tf

        path = Path(model_path)
        if not path.is_dir():
            problem = "a file" if path.exists() else "nothing there"
            raise SeqcoreError(
                f"not a model: {path}; expected a run or export directory, found {problem}"
            )
        self.vocabulary = None
        from seqcore.export import is_export, open_export

        if not is_export(path):
            from apps.textgen import generation

            model = load_run_model(path)
            self.vocabulary = set(model.preprocessor.vocabulary)
            self.level = model.preprocessor.level
            self._fn = tf.function(
                generation.generation_function(model),
                input_signature=generation.GENERATION_SIGNATURE,
            )
        else:
            self._loaded, metadata = open_export(path)
            self.level = metadata["level"].decode()
            self.vocabulary = {t.decode("utf-8") for t in metadata["vocabulary"][2:]}
            self._fn = self._loaded.signatures[signature]

    def unknown(self, prompt):
        """The prompt's tokens that the vocabulary has never seen (they map to [UNK])."""
        import tensorflow as tf

        from apps.textgen.preprocessing import split_tokens

        tokens = split_tokens(tf.constant([prompt]), self.level).to_list()[0]
        return sorted({t.decode("utf-8") for t in tokens} - self.vocabulary)

    def __call__(self, prompts, length=300, temperature=0.8, top_k=0, top_p=1.0,
                 repetition_penalty=1.0, seed=0, stop=()):
        from apps.textgen.generation import GENERATION_SIGNATURE, settings_tensors

        check_settings(length, temperature, top_k, top_p, repetition_penalty)
        tensors = settings_tensors(prompts, length, temperature, top_k, top_p,
                                   repetition_penalty, seed, stop)
        names = [spec.name for spec in GENERATION_SIGNATURE]
        outputs = self._fn(**dict(zip(names, tensors)))
        return [text.decode("utf-8", errors="replace") for text in outputs["text"].numpy()]


def generate(model_path, prompt, length=300, temperature=0.8, top_k=0, top_p=1.0,
             repetition_penalty=1.0, seed=0, stop=(), warn=None):
    """Prompt + generated text from a run or export directory.

    Characters (or words) of the prompt that the vocabulary has never seen
    map to the unknown token; `warn` is called with a line naming them.
    """
    check_settings(length, temperature, top_k, top_p, repetition_penalty)
    generator = Generator(model_path)
    unknown = generator.unknown(prompt)
    if unknown and warn is not None:
        shown = ", ".join(repr(token) for token in unknown[:10])
        warn(f"warning: the prompt has {len(unknown)} token(s) the model has never seen "
             f"({shown}); they are read as the unknown token")
    return generator([prompt], length, temperature, top_k, top_p, repetition_penalty, seed, stop)[0]


# --- Export ------------------------------------------------------------------------------

SAMPLE_PROMPTS = ["ROMEO:\nBut soft", "", "The "]


def export(run_dir, export_base, version=None, format="saved_model", quantize=False):
    """Writes `export_base/<version>/` for TensorFlow Serving; returns its path.

    Signatures: `serving_default` (prompt and settings in, text out, the
    whole sampling loop inside, XLA-compiled), `generate_without_xla` (the
    same without XLA, for TensorFlow Serving without
    `--xla_cpu_compilation_enabled`), `step` (token and state in, logits
    and state out) and `metadata` (level, vocabulary, state size).
    With `format="tflite"`, `<version>/tflite/` also holds the step model
    `step.tflite` (and `step.int8.tflite` with `quantize`) and the client's
    vocabulary (`apps.textgen.tflite`), checked, in the same atomic step.
    """
    import numpy as np
    import tensorflow as tf

    from apps.textgen import generation
    from seqcore.export import export_saved_model

    model = load_run_model(run_dir)
    generate_fn = generation.generation_function(model)
    sample = generation.settings_tensors(SAMPLE_PROMPTS, 40, 0.0, 0, 1.0, 1.0, 0, ["\n\n"])
    names = [spec.name for spec in generation.GENERATION_SIGNATURE]
    expected = tf.function(generate_fn, input_signature=generation.GENERATION_SIGNATURE)(*sample)
    step_fn = generation.step_function(model)
    step_signature = generation.step_signature(model)
    size = generation.state_size(model)
    step_inputs = {"token": np.array([2, 3], "int32"), "state": np.zeros((2, size), "float32")}
    step_expected = tf.function(step_fn, input_signature=step_signature)(
        tf.constant(step_inputs["token"]), tf.constant(step_inputs["state"])
    )
    metadata = {
        "level": model.preprocessor.level,
        "vocabulary": ["", "[UNK]", *model.preprocessor.vocabulary],
        "state_size": np.int32(size),
    }
    portable_fn = generation.generation_function(model, jit_compile=False)
    portable_expected = tf.function(portable_fn, input_signature=generation.GENERATION_SIGNATURE)(*sample)
    sample_inputs = {name: value.numpy() for name, value in zip(names, sample)}
    extra = {
        "generate_without_xla": (portable_fn, generation.GENERATION_SIGNATURE, sample_inputs,
                                 {"text": portable_expected["text"].numpy()}),
        "step": (step_fn, step_signature, step_inputs, step_expected),
    }
    return export_saved_model(
        export_base,
        generate_fn,
        generation.GENERATION_SIGNATURE,
        sample_inputs=sample_inputs,
        expected_outputs={"text": expected["text"].numpy()},
        track=[model, model.preprocessor],
        metadata=metadata,
        version=version,
        endpoints=extra,
        extra_writer=_tflite_writer(model, format, quantize),
    )


def _tflite_writer(model, format, quantize):
    """The `export_saved_model` hook writing `<version>/tflite/` (None unless `format` is tflite)."""
    if format != "tflite":
        return None
    from apps.textgen.tflite import tflite_models
    from seqcore.tflite import extra_writer

    return extra_writer(lambda: tflite_models(model), quantize=quantize)
