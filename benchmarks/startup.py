"""Start-up time: `seqcore --help` and `seqcore <task> --help`, wall time of a fresh process.

Each command runs as a new process (the installed `seqcore` console
script), interleaved over `--rounds` rounds; reports the median, min and
max wall time and CPU time (user + system of the child: on a shared,
loaded machine, what an idle one would show as wall time), whether TensorFlow was imported (it must not be, for help),
and the bar (`seqcore --help` under 0.3 s). A `python -c pass` process is
timed in the same rounds as the floor that no command can beat.

Prints one JSON object; appends a row to the "Start-up" table of
benchmarks/README.md unless `--no-readme`.

Run:

    python benchmarks/startup.py > startup.json
"""

import argparse
import json
import resource
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import report  # noqa: E402

TASKS = ("sentiment", "forecast", "textgen", "speech")
BAR_SECONDS = 0.3
SECTION = "Start-up"
INTRO = """`python benchmarks/startup.py` times fresh processes of `seqcore --help` and
`seqcore <task> --help` (the console script), interleaved; wall seconds as median
(min-max), then the child's median CPU seconds (user + system). `python -c pass` is the floor. Bar: `seqcore --help` under 0.3 s; help
never imports TensorFlow."""
HEADER = (
    report.PREFIX_HEADER
    + " python -c pass | seqcore --help | sentiment | forecast | textgen | speech "
    "| TensorFlow imported |\n" + "|---" * 11 + "|"
)
#: Prints whether TensorFlow was imported by the time `seqcore --help` exits.
PROBE = (
    "import sys, atexit; atexit.register(lambda: sys.stderr.write('TF=%s' % ('tensorflow' in sys.modules))); "
    "sys.argv = ['seqcore'] + sys.argv[1:]; from seqcore.cli.main import main; main()"
)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--no-readme", action="store_true")
    args = parser.parse_args()

    seqcore = shutil.which("seqcore")
    if seqcore is None:
        sys.exit("Error: the `seqcore` command is not on PATH; expected `pip install -e .` first")
    commands = {"python -c pass": [sys.executable, "-c", "pass"], "seqcore --help": [seqcore, "--help"]}
    commands |= {f"seqcore {task} --help": [seqcore, task, "--help"] for task in TASKS}

    cpu = {name: [] for name in commands}

    def runner(name, argv):
        def run():
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu[name].append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)

        return run

    contenders = {name: runner(name, argv) for name, argv in commands.items()}
    for run in contenders.values():
        run()  # warm the file-system cache
    cpu = {name: [] for name in commands}
    seconds = report.interleaved(contenders, args.rounds)
    imported = {}
    for name, argv in [("seqcore --help", ["--help"])] + [(f"seqcore {t} --help", [t, "--help"]) for t in TASKS]:
        probe = subprocess.run([sys.executable, "-c", PROBE, *argv], capture_output=True, text=True)
        imported[name] = "TF=True" in probe.stderr
    env = report.environment()
    times = {name: report.summary(values, 3) for name, values in seconds.items()}
    result = {
        "benchmark": "startup",
        **env,
        "rounds": args.rounds,
        "seconds": times,
        "cpu_seconds": {name: report.summary(values, 3) for name, values in cpu.items()},
        "imports_tensorflow": imported,
        "bar_seconds": BAR_SECONDS,
        "passes": times["seqcore --help"]["median"] < BAR_SECONDS and not any(imported.values()),
        "command": "python " + " ".join(sys.argv),
    }
    print(json.dumps(result, indent=2))
    if not args.no_readme:
        cpu_times = result["cpu_seconds"]
        cells = " | ".join(
            f"{times[name]['median']:.3f} ({times[name]['min']:.3f}-{times[name]['max']:.3f}), "
            f"CPU {cpu_times[name]['median']:.3f}"
            for name in commands
        )
        row = f"{report.row_prefix(env)} {cells} | {'yes' if any(imported.values()) else 'no'} |"
        report.append_row(SECTION, INTRO, HEADER, row)


if __name__ == "__main__":
    main()
