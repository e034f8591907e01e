"""Figures of a comparison (matplotlib, imported only here and only when drawing)."""

from seqcore.atomic import atomic_file
from seqcore.errors import SeqcoreError


def require_matplotlib():
    """Raises one clear `SeqcoreError` when matplotlib is missing (check before slow work)."""
    try:
        import matplotlib
    except ImportError:
        raise SeqcoreError(
            "compare draws its figures with matplotlib; expected it installed "
            "(pip install -e \".[plot]\"); received: no module named matplotlib"
        ) from None
    return matplotlib


def _pyplot():
    require_matplotlib().use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(figure, path):
    """Saves a PNG atomically (temporary file, then rename) and closes the figure."""
    with atomic_file(path) as temporary:
        figure.savefig(temporary, format="png", dpi=90, bbox_inches="tight")
    figure.clear()


def learning_curves(runs, path, title):
    """Validation loss per epoch of every backbone on one figure (mean over repeats).

    Thin lines are the training loss. Repeats that stopped early are
    averaged over the epochs they reached.
    """
    import numpy as np

    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(6.4, 4.0))
    for index, (backbone, group) in enumerate(_by_backbone(runs).items()):
        color = f"C{index % 10}"
        for key, style in (("val_loss", "-"), ("loss", ":")):
            curves = [run["history"].get(key, []) for run in group]
            length = max(len(curve) for curve in curves)
            if not length:
                continue
            mean = [np.mean([c[e] for c in curves if len(c) > e]) for e in range(length)]
            label = backbone if key == "val_loss" else None
            axes.plot(range(1, length + 1), mean, style, color=color, marker="o" if key == "val_loss" else None,
                      label=label, linewidth=2 if key == "val_loss" else 1)
    axes.set_xlabel("epoch")
    axes.xaxis.get_major_locator().set_params(integer=True)
    axes.set_ylabel("loss (solid: validation, dotted: training)")
    axes.set_title(title)
    axes.grid(alpha=0.3)
    axes.legend()
    _save(figure, path)


def metric_vs_parameters(rows, metric_name, path, title):
    """The task metric (mean, with the spread over repeats) against recurrent parameters."""
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(6.4, 4.0))
    for index, row in enumerate(rows):
        axes.errorbar(row["recurrent_parameters"], row["metric_mean"], yerr=row["metric_std"],
                      fmt="o", color=f"C{index % 10}", capsize=4, label=row["backbone"])
        axes.annotate(row["backbone"], (row["recurrent_parameters"], row["metric_mean"]),
                      textcoords="offset points", xytext=(6, 4))
    axes.set_xlabel("parameters of the recurrent layers")
    axes.set_ylabel(metric_name)
    axes.set_title(title)
    axes.grid(alpha=0.3)
    _save(figure, path)


def longrange_accuracy(rows, path, chance):
    """Test accuracy against the gap, one line per cell, with chance level."""
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(6.4, 4.0))
    for index, (backbone, group) in enumerate(_by_backbone(rows).items()):
        group = sorted(group, key=lambda row: row["gap"])
        axes.errorbar([row["gap"] for row in group], [row["accuracy_mean"] for row in group],
                      yerr=[row["accuracy_std"] for row in group], marker="o", capsize=4,
                      color=f"C{index % 10}", label=backbone)
    axes.axhline(chance, color="gray", linestyle="--", label="chance")
    axes.set_xlabel("gap (steps between the symbol and the recall marker)")
    axes.set_ylabel("test accuracy")
    axes.set_ylim(0, 1.05)
    axes.set_title("Delayed recall: accuracy vs gap")
    axes.grid(alpha=0.3)
    axes.legend()
    _save(figure, path)


def longrange_gradients(rows, path):
    """||dL/dx_t|| against t (log scale), one panel per gap: at initialisation and trained."""
    plt = _pyplot()
    gaps = sorted({row["gap"] for row in rows})
    figure, panels = plt.subplots(1, len(gaps), figsize=(4.2 * len(gaps), 3.8), squeeze=False)
    for axes, gap in zip(panels[0], gaps):
        for index, (backbone, group) in enumerate(_by_backbone(r for r in rows if r["gap"] == gap).items()):
            row = group[0]
            color = f"C{index % 10}"
            for key, style in (("init", "--"), ("trained", "-")):
                norms = [max(value, 1e-30) for value in row["gradient_norms"][key]]
                axes.semilogy(range(len(norms)), norms, style, color=color,
                              label=f"{backbone} ({key})")
        axes.set_title(f"gap {gap}")
        axes.set_xlabel("input step t")
        axes.grid(alpha=0.3)
    panels[0][0].set_ylabel("mean ||dL/dx_t||")
    panels[0][-1].legend(fontsize=7)
    figure.suptitle("Gradient reaching each input step (dashed: at init, solid: trained)")
    _save(figure, path)


def _by_backbone(items):
    groups = {}
    for item in items:
        groups.setdefault(item["backbone"], []).append(item)
    return groups
