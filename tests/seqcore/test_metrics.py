import numpy as np

from seqcore.metrics import classification_metrics, format_classification_metrics


def test_metrics_match_hand_computed_values():
    labels = [0, 0, 1, 1, 2]
    probabilities = np.eye(3)[[0, 1, 1, 1, 0]]
    metrics = classification_metrics(labels, probabilities, ["a", "b", "c"])
    assert metrics["accuracy"] == 0.6
    assert metrics["confusion_matrix"] == [[1, 1, 0], [0, 2, 0], [1, 0, 0]]
    assert metrics["per_class"]["b"]["precision"] == 2 / 3
    assert metrics["per_class"]["b"]["recall"] == 1.0
    assert metrics["per_class"]["c"]["f1"] == 0.0  # never predicted: no division by zero
    assert metrics["per_class"]["a"]["support"] == 2


def test_report_lists_every_class_and_the_confusion_matrix():
    metrics = classification_metrics([0, 1], [[0.9, 0.1], [0.3, 0.7]], ["negative", "positive"])
    report = format_classification_metrics(metrics)
    assert "confusion matrix" in report
    assert report.count("negative") == 3  # per-class row, header, matrix row
