"""Command line: ``python -m aicompute build|validate|params|diff``."""

from __future__ import annotations

import argparse
import datetime
import logging
import os
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from aicompute import paths

# Exit codes: 0 success; 1 a notebook failed (or a chart it showed cannot be drawn); 2 bad data, parameters or output
# folders (the input is at fault); 70 an unexpected error (details in the build log); 75 another build of this
# checkout is running (try again).
EXIT_NOTEBOOK_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_INTERNAL = 70
EXIT_LOCKED = 75


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m aicompute",
        description="Build the AI compute economics report from notebooks/ and data/.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    build = sub.add_parser(
        "build",
        help="validate data, run the notebooks and write report/index.html and figures/",
        description="Validate data/, check parameters, run the notebooks listed in params.yaml (unchanged ones come "
        "from the cache) and publish report/ and figures/ only if every step succeeds.",
    )
    build.add_argument(
        "-p",
        "--param",
        action="append",
        default=[],
        metavar="[NOTEBOOK.]NAME=VALUE",
        help="override a parameter; VALUE is read as YAML (e.g. -p backlog.haircut_pct=25, "
        "-p 'backlog.providers=[Microsoft, Oracle]'). Without NOTEBOOK it applies to every "
        "notebook declaring NAME. Repeatable.",
    )
    build.add_argument("--params-file", metavar="YAML", help="a YAML file of overrides: {notebook: {name: value}}")
    build.add_argument(
        "--scenario", metavar="NAME", help="build with the named parameter set scenarios/NAME.yaml (e.g. bear, bull)"
    )
    build.add_argument("--force", action="store_true", help="ignore the cache and run every notebook")
    build.add_argument("--show-code", action="store_true", help="include the notebooks' code in the report")
    build.add_argument("--jobs", type=int, default=2, help="notebooks to run at once (default 2)")
    build.add_argument("--no-progress", action="store_true", help="no progress bar")
    build.add_argument(
        "--wait",
        action="store_true",
        help="if another build of this checkout is running, wait for it (default: exit 75)",
    )
    build.add_argument(
        "--timeout",
        type=_positive_int,
        default=600,
        metavar="SECONDS",
        help="stop a notebook cell that runs longer than this and name it (default 600)",
    )

    sub.add_parser("validate", help="check every table in data/ against data/datapackage.json")
    sub.add_parser("params", help="list each notebook's parameters, types and defaults")
    from aicompute.build import diff

    diff.add_parser(sub)
    return parser


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of seconds, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError("must be at least 1 second")
    return value


def _overrides(args: argparse.Namespace) -> tuple[list, str]:
    from aicompute.manifest import load_parameter_file, parse_override

    overrides: list = []
    scenario = "default"
    if args.scenario:
        file = paths.SCENARIOS / f"{args.scenario}.yaml"
        if not file.exists():
            known = ", ".join(sorted(p.stem for p in paths.SCENARIOS.glob("*.yaml")))
            raise FileNotFoundError(f"no scenario {args.scenario!r} (scenarios/{args.scenario}.yaml); known: {known}")
        overrides += load_parameter_file(file)
        scenario = args.scenario
    if args.params_file:
        overrides += load_parameter_file(args.params_file)
        scenario = "custom" if scenario == "default" else f"{scenario}+custom"
    if args.param:
        overrides += [parse_override(text) for text in args.param]
        scenario = "custom" if scenario == "default" else f"{scenario}+custom"
    return overrides, scenario


def _build_log() -> tuple[Path, logging.Logger]:
    """A log file per build in .build/logs/: what the build said, and the full traceback of an unexpected error."""
    folder = paths.BUILD / "logs"
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    file = folder / f"build-{stamp}-{os.getpid()}.log"
    logger = logging.getLogger(f"aicompute.build.{os.getpid()}.{stamp}")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    handler = logging.FileHandler(file, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    logger.addHandler(handler)
    return file, logger


def _say(logger: logging.Logger | None) -> Callable[[str], None]:
    def say(message: str) -> None:
        print(message, flush=True)
        if logger:
            logger.info(message)

    return say


def _fail(code: int, message: str, logger: logging.Logger | None) -> int:
    print(f"error: {message}", file=sys.stderr)
    if logger:
        logger.error("exit %s: %s", code, message)
    return code


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "diff":
        from aicompute.build import diff

        return diff.main(args)
    if args.command == "build":
        # Figures are rendered in this process and the renderer reads the time zone once, at its start: fix it to
        # UTC before anything loads it, so dates in figures do not depend on the machine.
        os.environ["TZ"] = "UTC"
        if hasattr(time, "tzset"):
            time.tzset()
    from aicompute.build.export import FigureExportFailed
    from aicompute.build.lock import BuildLocked
    from aicompute.build.publish import PublishError
    from aicompute.build.run import BuildOptions, NotebookFailed, build
    from aicompute.build.validate import DataValidationError
    from aicompute.manifest import ManifestError, ParameterError

    log_file, logger = (None, None)
    try:
        if args.command == "build":
            log_file, logger = _build_log()
    except OSError:
        pass  # a read-only checkout: the build itself will say what is wrong
    unchanged = "\nNothing was run; report/ and figures/ are unchanged."
    try:
        if args.command == "validate":
            from aicompute.build.validate import check

            check()
            print("data/ is valid.")
        elif args.command == "params":
            from aicompute.manifest import declared_parameters, load_manifest

            manifest = load_manifest()
            for spec in manifest.notebooks:
                print(f"{spec.name} ({spec.path.relative_to(paths.ROOT)})")
                for declared in declared_parameters(spec.path).values():
                    value = spec.parameters.get(declared.name, declared.default)
                    print(f"  {declared.name}: {declared.type} = {value!r}")
        else:
            overrides, scenario = _overrides(args)
            build(
                BuildOptions(
                    overrides=overrides,
                    scenario=scenario,
                    force=args.force,
                    show_code=args.show_code,
                    jobs=args.jobs,
                    progress=not args.no_progress,
                    wait=args.wait,
                    timeout=args.timeout,
                ),
                log=_say(logger),
            )
    except BuildLocked as exc:
        return _fail(EXIT_LOCKED, str(exc), logger)
    except (DataValidationError, ParameterError, ManifestError, FileNotFoundError) as exc:
        return _fail(EXIT_BAD_INPUT, f"{exc}{unchanged}", logger)
    except PublishError as exc:
        return _fail(EXIT_BAD_INPUT, str(exc), logger)
    except NotebookFailed as exc:
        return _fail(EXIT_NOTEBOOK_FAILED, str(exc), logger)
    except FigureExportFailed as exc:
        # A chart a notebook showed cannot be drawn: the notebook's fault, named, not an unexpected error.
        return _fail(EXIT_NOTEBOOK_FAILED, f"{exc}\nreport/ and figures/ were left as they were.", logger)
    except KeyboardInterrupt:
        return _fail(130, "interrupted; report/ and figures/ were left as they were.", logger)
    except Exception as exc:  # noqa: BLE001 - one line for the user, the traceback in the log
        if logger:
            logger.error("unexpected error:\n%s", traceback.format_exc())
        where = f"; the full traceback is in {log_file}" if log_file else ""
        message = f"unexpected {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}{where}"
        return _fail(EXIT_INTERNAL, message + "\nreport/ and figures/ were left as they were.", logger)
    return 0
