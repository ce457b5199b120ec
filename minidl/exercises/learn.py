"""`minidl learn`: the exercises of minidl.exercises from a shell.

    minidl learn                               # the exercises, one line each
    minidl learn mul_backward                  # what to write, and a template to start from
    minidl learn mul_backward mine.py          # grade the function mul_backward in mine.py

Exit status: 0 when the function passes, 1 when it fails (or mine.py fails to import),
2 on bad usage: an unknown exercise, a missing file, a file without the function.
"""
from __future__ import annotations

import argparse
import importlib.util
import sys
import traceback
from pathlib import Path


class UsageError(Exception):
    """Bad arguments: the command prints the message and exits 2."""


def add_parser(sub) -> None:
    p = sub.add_parser("learn", help="exercises that grade themselves: list, read, grade",
                       description=__doc__.split("\n\n")[0])
    p.add_argument("name", nargs="?", help="an exercise (leave out to list them)")
    p.add_argument("file", nargs="?", help="a .py file defining the exercise's function: "
                                           "grade it")
    p.set_defaults(func=run)


def _function(path: str, name: str):
    """The function `name` defined by the file at `path` (which is imported, so it runs)."""
    file = Path(path)
    if not file.is_file():
        raise UsageError(f"no such file: {path}")
    spec = importlib.util.spec_from_file_location(f"minidl_learn_{file.stem}", file)
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(file.resolve().parent))     # so it can import its neighbours
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(file.resolve().parent))
    fn = getattr(module, name, None)
    if not callable(fn):
        defined = sorted(n for n, v in vars(module).items()
                         if callable(v) and getattr(v, "__module__", None) == module.__name__)
        also = f" (it defines {', '.join(defined)})" if defined else ""
        raise UsageError(f"{path} defines no function named {name!r}{also}: the exercise "
                         f"grades {name}")
    return fn


def run(args: argparse.Namespace) -> int:
    from . import describe, function_name, grade, names, summary, template
    if args.name is None:
        width = max(len(n) for n in names())
        for n in names():
            print(f"{n:<{width}}  {summary(n)}")
        print("\nminidl learn NAME prints what to write; minidl learn NAME FILE.py grades it")
        return 0
    if args.name not in names():
        print(f"minidl learn: no exercise {args.name!r}; the exercises are: "
              f"{', '.join(names())}", file=sys.stderr)
        return 2
    if args.file is None:
        print(describe(args.name))
        print(f"# a template to start from: save it as a file, then run\n"
              f"#   minidl learn {args.name} FILE.py\n")
        print(template(args.name))
        return 0
    try:
        fn = _function(args.file, function_name(args.name))
    except UsageError as err:
        print(f"minidl learn: {err}", file=sys.stderr)
        return 2
    except Exception:                      # the student's file fails to import: show why
        print(f"minidl learn: importing {args.file} failed:", file=sys.stderr)
        traceback.print_exc()
        return 1
    report = grade(args.name, fn)
    print(report)
    return 0 if report.passed else 1
