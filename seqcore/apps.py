"""The task apps seqcore knows, found through entry points: the library never names them.

An app is a package that declares, in its distribution's metadata, one
entry point in the group `seqcore.apps` pointing at an `App`::

    [options.entry_points]
    seqcore.apps =
        sentiment = apps.sentiment.app:APP

`seqcore <name> ...`, `seqcore compare <name>` and trusted model loading
then find it; a new task is one new folder plus that line. The module an
entry point names must stay TensorFlow-free (it is imported to answer
`seqcore --help`): the `App` refers to everything heavy by
`"module:attribute"` strings that are imported only when used.
"""

import dataclasses
import functools
import importlib
from importlib import metadata

from seqcore.errors import SeqcoreError

#: The entry-point group apps register in.
ENTRY_POINT_GROUP = "seqcore.apps"


@dataclasses.dataclass(frozen=True)
class App:
    """What the suite needs to know about one task app.

    Args:
        name: the task, as in `seqcore <name> train`.
        cli: `"module:attribute"` of the app's click group (with a `train`
            command that writes a run directory).
        metric: path into a run's `metrics.json` of the figure `compare`
            reports.
        metric_name: how tables name that figure.
        higher_is_better: whether a larger value is better.
        sample_batch: `"module:function"` of
            `function(model, config, size) -> (inputs, preprocess)`: a fixed
            batch of the model's inputs for timing inference, and whether the
            model's preprocessor must run on it first.
        fallback: another path into `metrics.json`, read when `metric` is
            absent, or None.
        references: `"module:function"` of `function(runs, echo)`, which
            `reference_scores` calls, or None: the strongest
            alternatives users compare against (e.g. statsforecast's models
            for forecasting), scored with the compared runs on the same data.

    Example:

    >>> app = App("demo", "demo.cli:cli", ("test", "accuracy"), "test accuracy", True,
    ...           "demo.model:sample_batch")
    >>> app.package
    'demo'
    >>> app.read_metric({"test": {"accuracy": 0.9}})
    0.9
    """

    name: str
    cli: str
    metric: tuple
    metric_name: str
    higher_is_better: bool
    sample_batch: str
    fallback: tuple = None
    references: str = None

    @classmethod
    def in_package(cls, package, name, metric, metric_name, higher_is_better, fallback=None, references=None):
        """The app whose package holds `cli.py` (its click group `cli`) and `app.py` (`sample_batch`).

        Example:

        >>> App.in_package("demo", "demo", **TEST_ACCURACY).cli
        'demo.cli:cli'
        """
        return cls(name, f"{package}.cli:cli", metric, metric_name, higher_is_better,
                   f"{package}.app:sample_batch", fallback, references)

    @property
    def package(self):
        """The top-level package holding the app (trusted when loading its model files)."""
        return self.cli.split(".")[0].split(":")[0]

    def click_group(self):
        """The app's click group (imports the app's command line)."""
        return _resolve(self.cli)

    def train_command(self):
        """The app's click `train` command."""
        return self.click_group().commands["train"]

    def sample(self, model, config, size):
        """The app's fixed inference batch for `model`: `(inputs, preprocess)`."""
        return _resolve(self.sample_batch)(model, config, size)

    def reference_scores(self, runs, echo=None):
        """The app's reference table for `compare`'s finished `runs`, or None when it has none.

        Args:
            runs: `compare`'s runs (each with `backbone` and `run_dir`).
            echo: called with each line to tell the user (e.g. a missing extra).

        Returns:
            `{"metric_name", "higher_is_better", "description", "rows": [{"name",
            "kind": "backbone" or "reference", "value"}]}`: every backbone and
            every reference scored the same way, on the same data.
        """
        return _resolve(self.references)(runs, echo) if self.references else None

    def read_metric(self, metrics):
        """The compared figure from a run's `metrics.json` content.

        Raises:
            SeqcoreError: neither `metric` nor `fallback` is in `metrics`.
        """
        for path in (self.metric, self.fallback):
            value = metrics
            for key in path or ():
                value = value.get(key) if isinstance(value, dict) else None
            if path and value is not None:
                return float(value)
        raise SeqcoreError(
            f"the {self.name} run has no {self.metric_name}; expected metrics.json "
            f"to hold {'.'.join(self.metric)}; received keys: {', '.join(metrics)}"
        )


#: The compared figure of a classification app: test accuracy, higher is better.
TEST_ACCURACY = {"metric": ("test", "accuracy"), "metric_name": "test accuracy", "higher_is_better": True}

#: Apps registered in-process with `register` (plugins under test, notebooks).
_REGISTERED = {}


def register(app):
    """Adds an app for this process, beside the entry points; returns it.

    Example:

    >>> demo = register(App("demo", "demo.cli:cli", ("test", "accuracy"), "accuracy", True,
    ...                     "demo.model:sample_batch"))
    >>> "demo" in installed_apps()
    True
    >>> unregister("demo")
    """
    if not isinstance(app, App):
        raise SeqcoreError(f"an app must be a seqcore.apps.App; received {type(app).__name__}")
    _REGISTERED[app.name] = app
    return app


def unregister(name):
    """Removes an app added with `register` (entry points stay)."""
    _REGISTERED.pop(name, None)


def installed_apps():
    """Every known app by name: the entry points' apps, then those added with `register`."""
    return {**_entry_point_apps(), **_REGISTERED}


def get_app(name, also=()):
    """The `App` called `name`, or one clear error naming the known tasks.

    Args:
        name: the task name.
        also: further valid names to list in the error (e.g. `compare`'s
            own experiments).

    Example:

    >>> get_app("sentiment").metric_name
    'test accuracy'
    """
    apps = installed_apps()
    if name not in apps:
        known = ", ".join([*sorted(apps), *also]) or "none (is seqcore installed with pip?)"
        raise SeqcoreError(f"unknown task {name!r}; expected one of: {known}")
    return apps[name]


def trusted_packages():
    """The packages whose modules may be imported to load a model file: seqcore and every app's."""
    return ("seqcore", *sorted({app.package for app in installed_apps().values()}))


@functools.lru_cache(maxsize=None)
def _entry_point_apps():
    apps = {}
    for entry_point in metadata.entry_points(group=ENTRY_POINT_GROUP):
        app = entry_point.load()
        if not isinstance(app, App) or app.name != entry_point.name:
            raise SeqcoreError(
                f"entry point {entry_point.name} = {entry_point.value} in group {ENTRY_POINT_GROUP} "
                f"must name a seqcore.apps.App called {entry_point.name!r}; received {app!r}"
            )
        apps[app.name] = app
    return apps


def _resolve(reference):
    module_name, attribute = reference.split(":")
    return getattr(importlib.import_module(module_name), attribute)
