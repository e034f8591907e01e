"""A textgen export served by `seqcore serve` answers as `seqcore textgen generate` does.

The serving signature takes its settings as scalars (``max_length``: int32
[], ...). TensorFlow Serving's columnar format sends each input in its own
shape, so a scalar is a bare JSON value; the row format gives every input a
batch dimension and cannot carry one, which is a clear 400.
"""

import concurrent.futures
import os
import random

import pytest
from click.testing import CliRunner

pytest.importorskip("waitress", reason="`seqcore serve` needs the `serve` extra: pip install -e '.[serve]'")

import apps.textgen.preprocessing  # noqa: F401 - registers TextTokenizer for .keras loads
import seqcore.language_model  # noqa: F401 - registers CausalLM
from apps.textgen.cli import cli
from tests.seqcore.serving.serving_helpers import Client, start_server

TINY = ["--units", "16", "--embedding-dim", "8", "--seq-len", "32", "--batch-size", "32", "--epochs", "1"]
PREDICT = "/v1/models/textgen:predict"


def _corpus(lines=300, seed=0):
    rng = random.Random(seed)
    words = "the king and queen of a fair land did speak to thee my lord with love and fear".split()
    return "\n".join(("ROMEO:" if i % 2 else "JULIET:") + "\n" + " ".join(rng.choice(words) for _ in range(7)) + ".\n"
                     for i in range(lines))


def _invoke(*args):
    result = CliRunner().invoke(cli, [str(a) for a in args], prog_name="seqcore-textgen")
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    root = tmp_path_factory.mktemp("textgen-serve")
    (root / "plays.txt").write_text(_corpus(), encoding="utf-8")
    # trained with the training loop users get: tests/conftest.py fixes one loop for the suite,
    # this run picks it automatically as a user's run does
    # (measured afresh: an empty loop cache)
    forced = os.environ.pop("SEQCORE_TRAINING_LOOP", None)
    cache = os.environ.get("SEQCORE_CACHE")
    os.environ["SEQCORE_CACHE"] = str(root / "cache")
    try:
        _invoke("train", "--data", root / "plays.txt", "--out", root / "run", *TINY)
    finally:
        if forced is not None:
            os.environ["SEQCORE_TRAINING_LOOP"] = forced
        if cache is None:
            os.environ.pop("SEQCORE_CACHE", None)
        else:
            os.environ["SEQCORE_CACHE"] = cache
    assert (root / "cache" / "training_loops.json").is_file()  # the automatic choice was measured
    _invoke("export", root / "run", root / "export")
    registry, server = start_server({"textgen": root / "export"})
    yield Client(server.url), root
    registry.stop()
    server.stop()


def _generate_cli(model, prompt, length, temperature, top_k, top_p, penalty, seed, stop=()):
    """`seqcore textgen generate` as a user runs it: prompt + continuation on stdout."""
    args = ["generate", model, "--prompt", prompt, "--length", length, "--temperature", temperature,
            "--top-k", top_k, "--top-p", top_p, "--repetition-penalty", penalty, "--seed", seed]
    for text in stop:
        args += ["--stop", text]
    output = _invoke(*args)
    assert output.endswith("\n")
    return output[:-1]


SETTINGS = [
    # prompt, max_length, temperature, top_k, top_p, repetition_penalty, seed, stop
    ("ROMEO:\n", 60, 0.9, 12, 0.9, 1.2, 21, ["\n\n"]),
    ("the king", 40, 1.0, 0, 1.0, 1.0, 3, []),
    ("JULIET:\n", 30, 0.0, 0, 1.0, 1.0, 0, [" and"]),
]


def _columnar(prompt, max_length, temperature, top_k, top_p, penalty, seed, stop):
    return {"inputs": {"prompt": [prompt], "max_length": max_length, "temperature": temperature,
                       "top_k": top_k, "top_p": top_p, "repetition_penalty": penalty, "seed": seed,
                       "stop": stop}}


@pytest.mark.parametrize("settings", SETTINGS, ids=["sampled-stop", "plain", "greedy"])
def test_columnar_scalars_answer_as_generate(served, settings):
    client, root = served
    status, body = client.request(PREDICT, _columnar(*settings))
    assert status == 200, body
    expected = _generate_cli(root / "export", *settings)
    assert body["outputs"]["text"] == [expected]
    assert body["outputs"]["generated"] == [expected[len(settings[0]):]]
    assert expected.startswith(settings[0]) and len(expected) > len(settings[0])
    if settings is SETTINGS[0]:  # the run directory generates the same text as its export
        assert _generate_cli(root / "run", *settings) == expected


def test_several_prompts_and_concurrent_requests_keep_their_own_settings(served):
    """Requests with scalar settings are never merged: each answers with its own seed and length."""
    client, root = served
    prompts = ["ROMEO:\n", "the king"]
    status, body = client.request(PREDICT, {"inputs": {
        "prompt": prompts, "max_length": 25, "temperature": 1.0, "top_k": 0, "top_p": 0.95,
        "repetition_penalty": 1.0, "seed": 7, "stop": []}})
    assert status == 200, body
    from apps.textgen.commands import Generator

    generator = Generator(root / "export")
    assert body["outputs"]["text"] == generator(prompts, length=25, temperature=1.0, top_p=0.95, seed=7)

    requests = [("the ", 10 + i, 1.0, 0, 1.0, 1.0, i, []) for i in range(8)]
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda s: client.request(PREDICT, _columnar(*s)), requests))
    for (status, body), (prompt, length, temperature, top_k, top_p, penalty, seed, stop) in zip(answers, requests):
        assert status == 200, body
        assert body["outputs"]["text"] == generator([prompt], length, temperature, top_k, top_p, penalty,
                                                    seed, stop)


def test_row_format_and_wrong_shapes_are_clear_400s(served):
    client, _ = served
    status, body = client.request(PREDICT, {"instances": [
        {"prompt": "the", "max_length": 10, "temperature": 1.0, "top_k": 0, "top_p": 1.0,
         "repetition_penalty": 1.0, "seed": 1, "stop": []}]})
    assert status == 400
    assert body["error"].startswith("the row format ('instances') cannot send the scalar input(s) "
                                    "['max_length', 'repetition_penalty', 'seed', 'temperature', "
                                    "'top_k', 'top_p']"), body
    assert "columnar format" in body["error"]

    wrapped = _columnar("the", [10], 1.0, 0, 1.0, 1.0, 1, [])
    status, body = client.request(PREDICT, wrapped)
    assert status == 400 and body["error"] == (
        "input 'max_length' has the wrong rank: received rank 1 (shape [1]), expected rank 0 "
        "(shape [] (a scalar))")
    status, body = client.request(PREDICT, _columnar("the", 10, 1.0, 0, 1.0, 1.0, 1.5, []))
    assert status == 400 and "'seed' has the wrong dtype: expected an integer (DT_INT64)" in body["error"]
    status, body = client.request(PREDICT, _columnar("the", 10, 1.0, 0, 1.0, 1.0, 1, "stop"))
    assert status == 400 and "'stop' has the wrong rank" in body["error"]
    # the server still answers
    assert client.request(PREDICT, _columnar("the", 5, 0.0, 0, 1.0, 1.0, 0, []))[0] == 200
