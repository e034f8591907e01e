"""Transfer from a word-level language model: `sentiment corpus` -> `textgen train` -> `sentiment train --init-from`."""

import json

import numpy as np
import pytest
from click.testing import CliRunner

from seqcore.cli.main import cli

from tests.apps.sentiment.test_cli import TINY, two_class_rows, write_csv

pytestmark = pytest.mark.filterwarnings("ignore:Skipping variable loading for optimizer")


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def language_model(folder, corpus, level="word", units="8"):
    out = folder / f"lm-{level}-{units}"
    result = invoke("textgen", "train", "--data", corpus, "--level", level, "--backbone", "lstm",
                    "--units", units, "--embedding-dim", "64", "--seq-len", "8", "--epochs", "1",
                    "--batch-size", "4", "--out", out)
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    folder = tmp_path_factory.mktemp("lm_transfer")
    data = write_csv(folder / "reviews.csv", two_class_rows())
    result = invoke("sentiment", "corpus", folder / "train.txt", "--data", data)
    assert result.exit_code == 0, result.output
    return folder, data, folder / "train.txt"


def test_corpus_holds_the_training_texts_only_as_the_classifier_reads_them(corpus):
    import tensorflow as tf

    from apps.sentiment.data import load_splits
    from apps.sentiment.preprocessing import standardize_review

    folder, data, path = corpus
    lines = path.read_text(encoding="utf-8").splitlines()
    splits = load_splits(str(data))

    def as_read(texts):
        words = standardize_review(tf.constant(np.array(texts, dtype=object))).numpy()
        return [" ".join(text.decode("utf-8").split()) for text in words]

    assert lines == as_read(splits.train_texts)
    assert not set(as_read(splits.test_texts + splits.validation_texts)) - set(as_read(splits.train_texts)) & set(lines)
    again = invoke("sentiment", "corpus", path, "--data", data)
    assert again.exit_code != 0 and "already exists" in again.output.strip().splitlines()[-1]


def test_classifier_adopts_the_language_models_vocabulary_and_backbone(corpus, monkeypatch):
    from apps.sentiment import commands
    from seqcore.saving import load_model

    folder, data, path = corpus
    lm = language_model(folder, path)
    seen, original = {}, commands._initialized

    def spy(model, init_from):
        model = original(model, init_from)
        seen["weights"] = [w.copy() for w in model.backbone.get_weights()]
        return model

    monkeypatch.setattr(commands, "_initialized", spy)
    out = folder / "classifier"
    result = invoke("sentiment", "train", "--data", data, *TINY, "--no-wide", "--init-from", lm, "--out", out)
    assert result.exit_code == 0, result.output
    for got, want in zip(seen["weights"], load_model(lm / "model.keras").backbone.get_weights(), strict=True):
        np.testing.assert_array_equal(got, want)
    vocabulary = json.loads((lm / "vocabulary.json").read_text(encoding="utf-8"))
    adopted = load_model(out / "model.keras").preprocessor.vectorizer.get_vocabulary()[2:]
    assert len(adopted) == len(vocabulary) and " " in vocabulary  # the LM's separators keep their ids
    assert [a for a, v in zip(adopted, vocabulary) if v.strip()] == [v for v in vocabulary if v.strip()]


def test_a_character_level_language_model_does_not_fit(corpus):
    folder, data, path = corpus
    lm = language_model(folder, path, level="char")
    out = folder / "from-char"
    result = invoke("sentiment", "train", "--data", data, *TINY, "--init-from", lm, "--out", out)
    assert result.exit_code != 0
    line = result.output.strip().splitlines()[-1]
    assert "does not fit" in line and "vocabulary" in line
    assert not out.exists() and not out.with_name(out.name + ".partial").exists()
