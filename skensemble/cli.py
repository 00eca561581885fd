"""The ``skensemble`` command: ``demo``, ``bench``, ``info`` and ``train``."""

import argparse
import importlib
import platform
import subprocess
import sys
import time
from pathlib import Path

# One module per pillar, each with run(output_dir, quick) -> DemoSection.
DEMO_SECTIONS = [
    "skensemble.tabm._demo",
    "skensemble.ensloss._demo",
    "skensemble.quantile._demo",
    "skensemble.stream._demo",
    "skensemble.inspection._demo",
]


def _format_section(section):
    lines = [f"\n== {section.title} =="]
    header = f"{'model':<34} {'metric':<26} {'score':>9} {'fit (s)':>9}"
    lines += [header, "-" * len(header)]
    for row in section.rows:
        score = f"{row.score:>9.4f} {row.fit_seconds:>9.2f}"
        note = f"  {row.note}" if row.note else ""
        lines.append(f"{row.model:<34} {row.metric:<26} {score}{note}")
    lines += [f"plot: {path}" for path in section.plots]
    return "\n".join(lines)


def demo(output, quick=False):
    """Run every pillar's demo section and print its results table."""
    output_dir = Path(output).resolve()
    output_dir.mkdir(parents=True, exist_ok=True)
    print(f"skensemble demo: plots go to {output_dir}")
    start = time.perf_counter()
    failures = 0
    for module_name in DEMO_SECTIONS:
        try:
            section = importlib.import_module(module_name).run(output_dir, quick=quick)
        except Exception as error:  # one broken section must not hide the others
            failures += 1
            print(f"\n== {module_name} failed: {type(error).__name__}: {error}")
            continue
        print(_format_section(section), flush=True)
    print(f"\ndone in {time.perf_counter() - start:.0f} s")
    return 1 if failures else 0


def info():
    """Print versions and the device "auto" resolves to."""
    import sklearn
    import torch

    from skensemble import __version__

    print(f"skensemble {__version__}")
    print(f"python {platform.python_version()} on {platform.platform()}")
    print(f"scikit-learn {sklearn.__version__}, torch {torch.__version__}")
    cuda = torch.cuda.is_available()
    print(f"device='auto' resolves to {'cuda' if cuda else 'cpu'}")
    print(f"torch threads: {torch.get_num_threads()}")
    return 0


def bench(name, quick):
    """Run ``benchmarks/<name>.py`` of a source checkout."""
    script = Path.cwd() / "benchmarks" / f"{name}.py"
    if not script.exists():
        print(
            f"No {script}: benchmarks live in the source repository; run this "
            "command from its root.",
            file=sys.stderr,
        )
        return 2
    return subprocess.call(
        [sys.executable, str(script)] + (["--quick"] if quick else [])
    )


def _train_doc():
    from . import _train

    return _train.__doc__


def main(argv=None):
    parser = argparse.ArgumentParser(prog="skensemble", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    demo_parser = commands.add_parser(
        "demo", help="fit every estimator on bundled data"
    )
    demo_parser.add_argument("--output", default="demo_output", help="folder for plots")
    demo_parser.add_argument("--quick", action="store_true", help="smaller models")
    bench_parser = commands.add_parser("bench", help="run a benchmark script")
    bench_parser.add_argument("name", help="benchmark name, e.g. tabm")
    bench_parser.add_argument("--quick", action="store_true")
    commands.add_parser("info", help="versions and device")
    train_parser = commands.add_parser(
        "train",
        help="fit a torch estimator from a CSV/Parquet file and a config "
        "(also under torchrun)",
        description=_train_doc(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    train_parser.add_argument(
        "--config", required=True, help="JSON or TOML file (see above)"
    )
    train_parser.add_argument("--data", help="data file; overrides the config's")
    train_parser.add_argument("--output", help="model path; overrides the config's")
    args = parser.parse_args(argv)
    if args.command == "train":
        from ._train import prepare, train

        try:
            job = prepare(args.config, data=args.data, output=args.output)
        except (ValueError, TypeError, OSError, ImportError) as error:
            print(f"skensemble train: error: {error}", file=sys.stderr)
            return 2
        train(*job)
        return 0
    if args.command == "demo":
        return demo(args.output, quick=args.quick)
    if args.command == "bench":
        return bench(args.name, args.quick)
    return info()


if __name__ == "__main__":
    sys.exit(main())
