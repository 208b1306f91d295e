"""Command line: python -m papernotes {new,execute,check,bench} ...

``execute`` and ``bench`` run companions and need the runtime (torch); ``new`` and ``check``
belong to the site builder (``papersite``) and run without it.
"""

import argparse
import sys
from pathlib import Path

from papersite.layout import Layout
from papersite.scaffold import add_arguments


def _companions(names: list[str]) -> list[Path]:
    available = Layout().companion_sources()
    if not names:
        return available
    by_name = {p.stem: p for p in available}
    unknown = [n for n in names if n not in by_name]
    if unknown:
        raise SystemExit(f"unknown companion(s) {unknown}; choose from {sorted(by_name)}")
    return [by_name[n] for n in names]


def _execute(args) -> int:
    from papernotes.notebooks import execute_all

    execute_all(_companions(args.names))
    return 0


def _check(args) -> int:
    from papersite.integrity import all_problems

    failed = 0
    for name, problems in all_problems(Path(".")).items():
        print(f"{'ok  ' if not problems else 'FAIL'} {name}")
        for problem in problems:
            print(f"     - {problem}")
        failed += len(problems)
    print(f"{failed} problem(s)" if failed else "all integrity checks pass")
    return 1 if failed else 0


def _new(args) -> int:
    from papersite.scaffold import new_paper

    note, companion = new_paper(args)
    print(f"created {note}\ncreated {companion}")
    print("next: fill in both (and the note's 'authors' if empty), then run")
    print(f"  make execute NAME={args.slug}  (writes {companion.with_suffix('.ipynb')})")
    print("  make check  (the integrity checks)")
    return 0


def _bench(args) -> int:
    import runpy

    scripts = sorted(Path("benchmarks").glob("bench_*.py"))
    if args.names:
        scripts = [s for s in scripts if s.stem.removeprefix("bench_") in args.names]
        if not scripts:
            raise SystemExit(f"no benchmark named {args.names}; see benchmarks/")
    from papernotes.benchreport import RESULTS_FILE, BenchReport, write_results

    reports = []
    for script in scripts:
        print(f"== {script}", flush=True)
        report = runpy.run_path(str(script), run_name="benchmark")["main"](smoke=args.smoke)
        if not isinstance(report, BenchReport):
            raise SystemExit(f"{script}: main() must return a papernotes.benchreport.BenchReport, got {type(report).__name__}")
        reports.append(report)
    if not args.smoke:  # tiny sizes say nothing about speed: only full runs are recorded
        write_results(reports)
        print(f"ratios written to {RESULTS_FILE} (commit it: the site's Performance page renders it)")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m papernotes", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    new = commands.add_parser("new", help="start a paper: a note and a companion from templates")
    add_arguments(new)
    new.set_defaults(func=_new)
    run = commands.add_parser("execute", help="re-execute companions (all, or those named) and write their twins")
    run.add_argument("names", nargs="*", help="companion slugs, e.g. efficientnet")
    run.set_defaults(func=_execute)
    check = commands.add_parser("check", help="run the integrity checks with actionable messages")
    check.set_defaults(func=_check)
    bench = commands.add_parser("bench", help="run the benchmarks (all, or those named)")
    bench.add_argument("names", nargs="*", help="benchmark names, e.g. efficientnet")
    bench.add_argument("--smoke", action="store_true", help="tiny sizes, one repetition: checks that each still runs")
    bench.set_defaults(func=_bench)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
