"""`seqcore backbones` and `seqcore info`."""

import json
import platform

import click

from seqcore.cli.group import SeqcoreCommand


@click.command(cls=SeqcoreCommand)
@click.option("--features", type=click.IntRange(min=1), default=64, show_default=True,
              help="Input width used to count parameters.")
def backbones(features):
    """List backbone classes and presets with their parameter counts."""
    from seqcore.backbone import RecurrentBackbone
    from seqcore.registry import BACKBONES, PRESETS, backbone_class

    click.echo("backbones:")
    for name in BACKBONES.names():
        cls = backbone_class(name)
        summary = (cls.__doc__ or "").strip().splitlines()[0]
        click.echo(f"  {name:<12}{cls.__module__}.{cls.__name__}: {summary}")
    click.echo(f"\npresets (parameters for {features} input features):")
    click.echo(f"{'preset':<14}{'cells':<12}{'layers':>7}{'units':>7}  {'direction':<14}{'parameters':>11}")
    for name in PRESETS.names():
        kwargs = PRESETS.get(name)
        model = RecurrentBackbone(num_features=features, **kwargs)
        cells = kwargs["cell"] if isinstance(kwargs["cell"], str) else "+".join(kwargs["cell"])
        direction = "bidirectional" if kwargs.get("bidirectional") else "forward"
        click.echo(
            f"{name:<14}{cells:<12}{model.num_layers:>7}{model.units:>7}  "
            f"{direction:<14}{model.count_params():>11,}"
        )


@click.command(cls=SeqcoreCommand)
@click.argument("run_dir", required=False, type=click.Path())
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
def info(run_dir, as_json):
    """Versions, devices, and which recurrent layers take the fast cuDNN path.

    With RUN_DIR, reports that run's model; otherwise every preset.
    """
    import keras
    import numpy as np
    import tensorflow as tf

    from seqcore import __version__
    from seqcore.backbone import RecurrentBackbone
    from seqcore.fastpath import fast_path_report
    from seqcore.registry import PRESETS

    build = tf.sysconfig.get_build_info()
    if run_dir:
        from seqcore.runs import open_run
        from seqcore.saving import load_model

        open_run(run_dir)
        models = {run_dir: load_model(f"{run_dir}/model.keras")}
    else:
        models = {name: RecurrentBackbone(num_features=8, **PRESETS.get(name)) for name in PRESETS.names()}
    report = {
        "versions": {
            "seqcore": __version__,
            "tensorflow": tf.__version__,
            "keras": keras.__version__,
            "numpy": np.__version__,
            "python": platform.python_version(),
            "cuda_build": build.get("cuda_version", "none"),
            "cudnn_build": build.get("cudnn_version", "none"),
        },
        "devices": [f"{d.device_type}:{d.name}" for d in tf.config.list_physical_devices()],
        "fast_path": {name: fast_path_report(model) for name, model in models.items()},
    }
    if as_json:
        click.echo(json.dumps(report, indent=2))
        return
    for key, value in report["versions"].items():
        click.echo(f"{key:<12}{value}")
    click.echo(f"{'devices':<12}{', '.join(report['devices'])}")
    gpu = any(d.startswith("GPU") for d in report["devices"])
    click.echo(
        "\nfast cuDNN path (needs a GPU, tanh/sigmoid, recurrent_dropout=0, "
        "unroll=False, right padding):" + ("" if gpu else " no GPU visible, so no layer takes it here")
    )
    for name, rows in report["fast_path"].items():
        for row in rows:
            status = "fast" if row["active"] else ("eligible" if row["eligible"] else "generic")
            why = f" ({'; '.join(row['reasons'])})" if row["reasons"] else ""
            click.echo(f"  {name:<14}{row['layer']:<24}{row['kind']:<10}{status}{why}; runs the {row['path']} loop")
