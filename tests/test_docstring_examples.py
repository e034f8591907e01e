"""Every `>>>` example in a docstring of seqcore/ and apps/ runs and prints what it shows.

Examples are documentation a reader copies; running them here keeps them
true. One test per module, so a failure names the module.
"""

import doctest
import importlib
import pkgutil

import pytest

import apps
import seqcore


def _modules():
    for package in (seqcore, apps):
        yield package.__name__
        for info in pkgutil.walk_packages(package.__path__, prefix=package.__name__ + "."):
            if not info.name.endswith("__main__"):
                yield info.name


MODULES = sorted(_modules())


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # examples that write files write them here
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for test in finder.find(module, name):
        runner.run(test)
    results = runner.summarize(verbose=False)
    assert results.failed == 0, f"{results.failed} of {results.attempted} examples in {name} failed (output above)"


def test_the_examples_of_every_package_are_collected():
    assert {"seqcore.apps", "seqcore.runs", "apps.sentiment.commands", "apps.forecast.data"} <= set(MODULES)
