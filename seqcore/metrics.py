"""Classification metrics from labels and predicted probabilities (NumPy only)."""

import numpy as np


def classification_metrics(labels, probabilities, class_names):
    """Accuracy, macro precision / recall / F1, per-class figures and the confusion matrix.

    Args:
        labels: int array `(n,)` of true class indices.
        probabilities: float array `(n, classes)`.
        class_names: the name of each class index.

    Returns:
        A JSON-ready dict.

    Example:

    >>> m = classification_metrics([0, 1, 1], [[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]], ["neg", "pos"])
    >>> round(m["accuracy"], 3), m["confusion_matrix"]
    (0.667, [[1, 0], [1, 1]])
    """
    labels = np.asarray(labels, dtype=int)
    predictions = np.asarray(probabilities).argmax(axis=-1)
    size = len(class_names)
    confusion = np.zeros((size, size), dtype=int)
    np.add.at(confusion, (labels, predictions), 1)
    true_positives = np.diag(confusion).astype(float)
    predicted = confusion.sum(axis=0)
    actual = confusion.sum(axis=1)
    precision = np.divide(true_positives, predicted, out=np.zeros(size), where=predicted > 0)
    recall = np.divide(true_positives, actual, out=np.zeros(size), where=actual > 0)
    f1 = np.divide(
        2 * precision * recall, precision + recall, out=np.zeros(size), where=precision + recall > 0
    )
    return {
        "examples": int(len(labels)),
        "accuracy": float(true_positives.sum() / max(len(labels), 1)),
        "precision": float(precision.mean()),
        "recall": float(recall.mean()),
        "f1": float(f1.mean()),
        "per_class": {
            name: {
                "precision": float(precision[i]),
                "recall": float(recall[i]),
                "f1": float(f1[i]),
                "support": int(actual[i]),
            }
            for i, name in enumerate(class_names)
        },
        "class_names": list(class_names),
        "confusion_matrix": confusion.tolist(),
    }


def format_classification_metrics(metrics):
    """Renders `classification_metrics` output as a plain-text report.

    Example:

    >>> m = classification_metrics([0, 1], [[0.9, 0.1], [0.2, 0.8]], ["neg", "pos"])
    >>> print(format_classification_metrics(m).splitlines()[0])
    accuracy   1.0000   (2 examples)
    """
    names = metrics["class_names"]
    width = max(8, *(len(name) for name in names))
    lines = [
        f"accuracy   {metrics['accuracy']:.4f}   ({metrics['examples']} examples)",
        f"precision  {metrics['precision']:.4f}   (macro)",
        f"recall     {metrics['recall']:.4f}   (macro)",
        f"f1         {metrics['f1']:.4f}   (macro)",
        "",
        f"{'class':<{width}}  precision  recall     f1  support",
    ]
    for name in names:
        row = metrics["per_class"][name]
        lines.append(
            f"{name:<{width}}  {row['precision']:9.4f}  {row['recall']:6.4f}  "
            f"{row['f1']:6.4f}  {row['support']:7d}"
        )
    lines += ["", "confusion matrix (rows: true class, columns: predicted)"]
    lines.append(" " * width + "  " + "  ".join(f"{name:>{width}}" for name in names))
    for name, row in zip(names, metrics["confusion_matrix"]):
        lines.append(f"{name:<{width}}  " + "  ".join(f"{count:>{width}d}" for count in row))
    return "\n".join(lines)
