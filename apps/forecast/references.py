"""`seqcore compare forecast`'s second table: every backbone beside statsforecast's models.

Each compared run is scored as `seqcore forecast evaluate` scores it (the
test part, origins half a horizon apart), and the naive, seasonal naive
and, with statsforecast installed, AutoETS, MSTL and Theta forecasts are
fitted once on the same origins: the runs share their data and split, so
the references are the same for all of them.
"""

import statistics


def statistical_references(runs, echo=None):
    """The backbones' and the references' test MAE on `evaluate`'s origins (`seqcore.apps.App.reference_scores`).

    Args:
        runs: `compare`'s finished runs, each with `backbone` and `run_dir`.
        echo: told when statsforecast is missing (the naive references remain).
    """
    from apps.forecast.baselines import LABELS
    from apps.forecast.evaluation import evaluate

    first = evaluate(runs[0]["run_dir"], echo=echo)
    if "origin_every" not in first:  # TFRecord shards hold windows, not the series references are fitted on
        return None
    scores = {}
    for run in runs:
        report = first if run is runs[0] else evaluate(run["run_dir"], baselines=False)
        scores.setdefault(run["backbone"], []).append(report["model"]["mae"])
    names = ("naive", "seasonal_naive", *first.get("statistical", ()))
    return {
        "metric_name": "test MAE",
        "higher_is_better": False,
        "description": f"the test part's {first['windows']} origins, {first['origin_every']} steps apart, "
                       "as `seqcore forecast evaluate` scores them",
        "rows": [{"name": name, "kind": "backbone", "value": statistics.fmean(values)}
                 for name, values in scores.items()]
                + [{"name": LABELS.get(name, name.replace("_", " ")), "kind": "reference", "value": first[name]["mae"]}
                   for name in names],
    }
