"""End-to-end tests of the text generation command line (`seqcore-textgen ...`).

One tiny char-level run is trained per module and shared by the evaluate /
generate / export tests; bad input is checked to fail with one line and to
leave nothing behind.
"""

import json
import math
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from tests import cli_helpers
from tests.cli_helpers import fails, ok
from tests.export_parity import serve_with_tensorflow_alone

import apps.textgen.preprocessing  # noqa: F401 - registers TextTokenizer for .keras loads
import seqcore.language_model  # noqa: F401 - registers CausalLM
from apps.textgen import commands
from apps.textgen.cli import cli

TINY = ["--units", "16", "--embedding-dim", "8", "--seq-len", "32", "--batch-size", "32", "--epochs", "1"]
TF_ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
pytestmark = pytest.mark.filterwarnings("ignore:Skipping variable loading for optimizer")


def make_text(lines=500, seed=0):
    rng = random.Random(seed)
    words = "the king and queen of a fair land did speak to thee my lord with love and fear".split()
    parts = []
    for i in range(lines):
        speaker = "ROMEO:" if i % 2 else "JULIET:"
        parts.append(speaker + "\n" + " ".join(rng.choice(words) for _ in range(7)) + ".\n")
    return "\n".join(parts)


def invoke(*args):
    return cli_helpers.invoke(*args, app=cli, prog_name="seqcore-textgen")


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("textgen")


@pytest.fixture(scope="module")
def corpus_file(workdir):
    path = workdir / "plays.txt"
    path.write_text(make_text(), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def run_dir(workdir, corpus_file):
    out = workdir / "run"
    result = ok(invoke("train", "--data", corpus_file, "--out", out, *TINY))
    assert "nats/char" in result.output and str(out) in result.output
    return out


@pytest.fixture(scope="module")
def exported(workdir, run_dir):
    base = workdir / "export"
    result = ok(invoke("export", run_dir, base))
    assert "exported to" in result.output
    return base / "1"


# --- train / evaluate ------------------------------------------------------------------


def test_train_writes_a_complete_run(run_dir):
    assert {"model.keras", "config.json", "metrics.json", "history.csv", "logs", "vocabulary.json"} <= {
        p.name for p in run_dir.iterdir()
    }
    assert not Path(str(run_dir) + ".partial").exists()
    metrics = json.loads((run_dir / "metrics.json").read_text())
    validation = metrics["validation"]
    assert validation["nats_per_char"] == validation["nats_per_token"]  # char level
    assert validation["bits_per_char"] == pytest.approx(validation["nats_per_char"] / math.log(2), abs=1e-3)
    vocabulary = json.loads((run_dir / "vocabulary.json").read_text())
    assert "\n" in vocabulary and " " in vocabulary
    model = commands.load_run_model(run_dir)
    assert model.preprocessor.vocabulary == vocabulary


def test_evaluate_reports_nats_and_bits(run_dir, corpus_file):
    metrics = json.loads(ok(invoke("evaluate", run_dir, "--json")).output)
    assert set(metrics) >= {"nats_per_char", "bits_per_char", "perplexity", "nats_per_token"}
    stored = json.loads((run_dir / "metrics.json").read_text())["validation"]
    assert metrics["nats_per_char"] == pytest.approx(stored["nats_per_char"], abs=1e-4)
    line = ok(invoke("evaluate", run_dir, "--data", corpus_file)).output
    assert "nats/char" in line and "bits/char" in line


# --- generate ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def generator(run_dir):
    return commands.Generator(run_dir)


def test_a_fixed_seed_gives_identical_text(run_dir, generator):
    settings = dict(length=60, temperature=1.0, top_p=0.95, top_k=20, repetition_penalty=1.1)
    first = generator(["ROMEO:\n", "the"], seed=3, **settings)
    assert first == generator(["ROMEO:\n", "the"], seed=3, **settings)
    assert first[0].startswith("ROMEO:\n") and len(first[0]) > len("ROMEO:\n")
    others = {generator(["ROMEO:\n"], seed=seed, **settings)[0] for seed in (4, 5)}
    assert others - {first[0]}
    args = ["generate", run_dir, "--prompt", "ROMEO:\n", "--length", "60", "--temperature", "1.0",
            "--top-p", "0.95", "--top-k", "20", "--repetition-penalty", "1.1", "--seed", "3"]
    assert ok(invoke(*args)).output == first[0] + "\n"


def test_greedy_and_stop_strings(generator):
    greedy = generator(["the "], length=40, temperature=0.0)
    assert greedy == generator(["the "], length=40, temperature=0.0, seed=9)
    stopped = generator(["the "], length=200, stop=(" ", "\n"), seed=1)[0]
    continuation = stopped[len("the "):]
    assert " " not in continuation and "\n" not in continuation


def test_unseen_prompt_characters_map_to_the_unknown_token(run_dir):
    result = ok(invoke("generate", run_dir, "--prompt", "Ωμέγα the ", "--length", "10"))
    assert "never seen" in result.stderr and "'Ω'" in result.stderr
    assert result.stdout.startswith("Ωμέγα the ")


@pytest.mark.parametrize(
    "args, message",
    [
        (["--length", "0"], "--length must be at least 1"),
        (["--temperature", "-1"], "--temperature must be a finite number >= 0"),
        (["--temperature", "nan"], "--temperature must be a finite number >= 0"),
        (["--top-p", "0"], "--top-p must be in (0, 1]"),
        (["--top-p", "1.5"], "--top-p must be in (0, 1]"),
        (["--top-k", "-1"], "--top-k must be >= 0"),
    ],
)
def test_bad_generation_settings_fail_with_one_line(run_dir, args, message):
    fails(invoke("generate", run_dir, "--prompt", "the", *args), message)


def test_generate_from_a_missing_model(tmp_path):
    fails(invoke("generate", tmp_path / "nope", "--prompt", "x"), "not a model")


# --- bad corpora: one line, nothing written --------------------------------------------


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "is empty"),
        (b"\n\n   \n" * 0, "is empty"),
        (bytes(range(256)) * 40, "not a text file"),
        (b"\x89PNG\r\n\x1a\n" + b"\xff\xfe\x00\x01" * 500, "not a text file"),
        (b"To be, or not to be.\n" * 3, "too short"),
    ],
    ids=["empty", "empty-again", "binary", "png", "too-small"],
)
def test_bad_corpus_fails_cleanly(tmp_path, content, message):
    data = tmp_path / "corpus.txt"
    data.write_bytes(content)
    out = tmp_path / "run"
    fails(invoke("train", "--data", data, "--out", out, *TINY), message)
    assert not out.exists() and not Path(str(out) + ".partial").exists()


def test_missing_corpus_and_bidirectional_fail_cleanly(tmp_path, corpus_file):
    out = tmp_path / "run"
    fails(invoke("train", "--data", tmp_path / "missing.txt", "--out", out, *TINY), "no such file")
    fails(invoke("train", "--data", corpus_file, "--out", out, "--backbone", "bigru", *TINY),
          "expected a unidirectional backbone")
    assert not out.exists() and not Path(str(out) + ".partial").exists()


# --- export -----------------------------------------------------------------------------

def test_export_generates_with_tensorflow_alone_and_equals_the_keras_model(exported, run_dir):
    """In a process that cannot import seqcore: the step logits equal the trained Keras model's, by value."""
    import numpy as np
    import tensorflow as tf

    model = commands.load_run_model(run_dir)
    prompts = np.array(["ROMEO:\n", "the king"])
    settings = dict(max_length=np.int32(50), temperature=np.float32(0.9), top_k=np.int32(0),
                    top_p=np.float32(0.95), repetition_penalty=np.float32(1.0), seed=np.int64(11),
                    stop=np.array([], dtype=str))
    tokens = np.arange(2, model.preprocessor.vocabulary_size, dtype="int32")  # every token but padding and [UNK]
    ids = model.preprocessor(tf.constant(["the ki", "ROMEO:"])).numpy()  # six tokens each, no padding
    assert ids.shape == (2, 6) and np.all(ids > 1)
    _, states = model.prefill(ids)
    state = tf.concat(tf.nest.flatten(states), axis=-1).numpy()
    follow = np.array([ids[1, 0], ids[0, 0]], dtype="int32")
    sampled, again, greedy, first, then, metadata = serve_with_tensorflow_alone(
        exported,
        ("serving_default", {"prompt": prompts, **settings}),
        ("serving_default", {"prompt": prompts, **settings}),
        ("serving_default", {"prompt": prompts, **settings, "temperature": np.float32(0.0)}),
        ("step", {"token": tokens, "state": np.zeros([len(tokens), state.shape[1]], "float32")}),
        ("step", {"token": follow, "state": state}),
        ("metadata", {}),
    )
    assert sampled["text"].tolist() == again["text"].tolist()
    assert sampled["text"][0].startswith("ROMEO:\n") and len(sampled["text"][1]) > len("the king")
    assert greedy["text"].tolist() == commands.Generator(run_dir)(list(prompts), length=50, temperature=0.0)
    # One token from the zero state: the model's full forward pass on that token.
    expected = model.next_token_logits(tokens[:, None]).numpy()
    assert np.ptp(expected, axis=0).max() > 0.1  # trained weights: tokens get different logits
    np.testing.assert_allclose(first["logits"], expected, rtol=1e-4, atol=1e-4)
    # One more token from the state after six: the full pass over seven tokens.
    expected = model.next_token_logits(np.concatenate([ids, follow[:, None]], axis=1)).numpy()
    np.testing.assert_allclose(then["logits"], expected, rtol=1e-4, atol=1e-4)
    assert metadata["vocabulary"].tolist() == ["", "[UNK]", *model.preprocessor.vocabulary]
    assert int(metadata["state_size"]) == state.shape[1]


def test_generate_accepts_an_export_dir(exported, run_dir):
    from_export = ok(invoke("generate", exported.parent, "--prompt", "the ", "--length", "30",
                            "--temperature", "0")).output
    from_run = ok(invoke("generate", run_dir, "--prompt", "the ", "--length", "30",
                         "--temperature", "0")).output
    assert from_export == from_run
    fails(invoke("generate", exported, "--prompt", "the", "--top-p", "2"), "--top-p must be in (0, 1]")


@pytest.mark.skipif(shutil.which("saved_model_cli") is None, reason="saved_model_cli not on PATH")
def test_saved_model_cli_shows_the_signatures(exported):
    result = subprocess.run(["saved_model_cli", "show", "--dir", str(exported), "--all"],
                            capture_output=True, text=True, env=TF_ENV, timeout=180)
    assert result.returncode == 0, result.stderr[-2000:]
    for name in ("serving_default", "step", "metadata", "prompt", "temperature", "logits"):
        assert name in result.stdout


def test_help_does_not_import_tensorflow():
    script = "import sys, apps.textgen.cli; print('tensorflow' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "False", result.stderr[-2000:]


# --- word level, resumed after SIGKILL ----------------------------------------------------


def test_word_level_run_killed_mid_epoch_resumes_from_its_backup(tmp_path):
    """`train` killed with SIGKILL mid-epoch; `train --resume` trains only the epochs left.

    The resumed process's TensorBoard files show it trained epochs E.. only and
    started from the backup's optimizer iteration count (tests/seqcore/resume_helpers.py).
    """
    from tests.seqcore.resume_helpers import assert_resumed_from_backup, kill_mid_epoch

    corpus = tmp_path / "plays.txt"
    corpus.write_text(make_text(lines=1500), encoding="utf-8")
    out, partial = tmp_path / "word-run", tmp_path / "word-run.partial"
    command = [sys.executable, "-m", "apps.textgen", "train", "--data", str(corpus), "--out", str(out),
               "--level", "word", "--seq-len", "16", "--units", "16", "--embedding-dim", "8",
               "--batch-size", "8", "--epochs", "4", "--patience", "4"]
    state, before = kill_mid_epoch(command, partial, env=TF_ENV)
    assert partial.is_dir() and not out.exists()
    vocabulary = json.loads((partial / "vocabulary.json").read_text())

    result = subprocess.run([sys.executable, "-m", "apps.textgen", "train", "--out", str(out), "--resume"],
                            capture_output=True, text=True, env=TF_ENV, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "nats/char" in result.stdout
    assert not partial.exists()
    assert_resumed_from_backup(out, state, before, epochs=4)
    epochs = [line.split(",")[0] for line in (out / "history.csv").read_text().splitlines()[1:]]
    assert epochs == ["0", "1", "2", "3"]
    model = commands.load_run_model(out)
    assert model.preprocessor.level == "word" and model.preprocessor.vocabulary == vocabulary
    metrics = json.loads((out / "metrics.json").read_text())["validation"]
    assert metrics["nats_per_token"] > metrics["nats_per_char"]  # words hold several characters
    text = commands.generate(out, "the king", length=12, seed=2)
    assert text.startswith("the king") and len(text) > len("the king")


def test_resume_refuses_other_options_and_needs_an_interrupted_run(tmp_path):
    out = tmp_path / "run"
    refused = invoke("train", "--out", out, "--resume", "--units", "8")  # a usage error: exit 2, one line
    assert refused.exit_code == 2 and refused.output.startswith("Error: --resume") and refused.output.count("\n") == 1
    fails(invoke("train", "--out", out, "--resume"), "nothing to resume")
    assert not out.exists() and not Path(str(out) + ".partial").exists()


def test_python_dash_m_answers_help():
    result = subprocess.run([sys.executable, "-m", "apps.textgen", "--help"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "generate" in result.stdout and "export" in result.stdout


def test_export_samples_the_same_text_as_generate(exported, generator):
    """Same seed and settings: the export's compiled loop draws exactly what `generate` draws."""
    settings = dict(length=70, temperature=0.9, top_k=12, top_p=0.9, repetition_penalty=1.2, seed=21,
                    stop=("\n\n",))
    prompts = ["ROMEO:\n", "the king"]
    from_export = commands.Generator(exported)(prompts, **settings)
    assert from_export == generator(prompts, **settings)
    portable = commands.Generator(exported, signature="generate_without_xla")
    first = portable(prompts, **settings)
    assert first == portable(prompts, **settings) and all(t.startswith(p) for t, p in zip(first, prompts))
