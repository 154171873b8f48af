"""Command line: ``python -m aicompute build|validate|params|diff``."""

from __future__ import annotations

import argparse
import sys

from aicompute import paths

EXIT_BAD_INPUT = 2
EXIT_NOTEBOOK_FAILED = 1


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

    sub.add_parser("validate", help="check every table in data/ against data/datapackage.json")
    sub.add_parser("params", help="list each notebook's parameters, types and defaults")
    from aicompute.build import diff

    diff.add_parser(sub)
    return parser


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


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "diff":
        from aicompute.build import diff

        return diff.main(args)
    from aicompute.build.run import BuildOptions, NotebookFailed, build
    from aicompute.build.validate import DataValidationError
    from aicompute.manifest import ManifestError, ParameterError

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
                )
            )
    except (DataValidationError, ParameterError, ManifestError, FileNotFoundError) as exc:
        print(f"error: {exc}\nNothing was run; report/ and figures/ are unchanged.", file=sys.stderr)
        return EXIT_BAD_INPUT
    except NotebookFailed as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_NOTEBOOK_FAILED
    return 0
