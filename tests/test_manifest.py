"""The manifest and parameter checks a re-runner relies on."""

from __future__ import annotations

import pytest

from aicompute import paths
from aicompute.manifest import (
    ParameterError,
    declared_parameters,
    load_manifest,
    load_parameter_file,
    parse_override,
    resolve_parameters,
)


def test_manifest_lists_every_notebook_and_defaults_fit_declarations():
    manifest = load_manifest()
    assert {s.path.name for s in manifest.notebooks} == {p.name for p in paths.NOTEBOOKS.glob("*.ipynb")}
    resolved = resolve_parameters(manifest, [])
    assert resolved["backlog"]["haircut_pct"] == 0.0


def test_declared_parameters_read_types_defaults_and_help():
    declared = declared_parameters(paths.NOTEBOOKS / "01_backlog.ipynb")
    assert declared["haircut_pct"].type == "float" and declared["haircut_pct"].default == 0.0
    assert declared["providers"].type == "list"
    assert "never to be paid" in declared["haircut_pct"].help


@pytest.mark.parametrize(
    "text, parsed",
    [
        ("backlog.haircut_pct=25", ("backlog", "haircut_pct", 25)),
        ("haircut_pct=2.5", (None, "haircut_pct", 2.5)),
        ("backlog.providers=[Microsoft, Oracle]", ("backlog", "providers", ["Microsoft", "Oracle"])),
        ("backlog.estimate=high", ("backlog", "estimate", "high")),
    ],
)
def test_parse_override(text, parsed):
    assert parse_override(text) == parsed


def test_override_int_is_accepted_for_float_and_converted():
    resolved = resolve_parameters(load_manifest(), [("backlog", "haircut_pct", 25)])
    assert resolved["backlog"]["haircut_pct"] == 25.0 and isinstance(resolved["backlog"]["haircut_pct"], float)


@pytest.mark.parametrize(
    "override, message",
    [
        (("backlog", "haircut_pct", "a lot"), "must be float"),
        (("backlog", "providers", "Microsoft"), "must be list"),
        (("backlog", "include_undated", 1), "must be bool"),
        (("absorption", "draws", 10.5), "must be int"),
        (("backlog", "hiarcut_pct", 5), "declares no parameter 'hiarcut_pct'"),
        (("nosuch", "x", 1), "unknown notebook"),
        ((None, "no_such_param", 1), "no notebook declares"),
    ],
)
def test_bad_overrides_are_clear_errors(override, message):
    with pytest.raises(ParameterError, match=message):
        resolve_parameters(load_manifest(), [override])


def test_bool_is_not_a_number():
    with pytest.raises(ParameterError, match="must be float"):
        resolve_parameters(load_manifest(), [("backlog", "haircut_pct", True)])


def test_missing_equals_sign():
    with pytest.raises(ParameterError, match="name=value"):
        parse_override("backlog.haircut_pct")


def test_scenarios_are_valid_parameter_sets():
    manifest = load_manifest()
    for scenario in sorted(paths.SCENARIOS.glob("*.yaml")):
        resolve_parameters(manifest, load_parameter_file(scenario))  # raises on any bad name or type


def test_one_analysis_date_reaches_every_chapter_that_declares_it():
    manifest = load_manifest()
    resolved = resolve_parameters(manifest, [])
    dated = [name for name, params in resolved.items() if "as_of" in params]
    assert sorted(dated) == ["absorption", "backlog", "circular", "passthrough", "quality"]
    assert {resolved[name]["as_of"] for name in dated} == {manifest.shared["as_of"]}
    moved = resolve_parameters(manifest, [(None, "as_of", "2026-03-31")])
    assert {moved[name]["as_of"] for name in dated} == {"2026-03-31"}


def test_summary_is_told_its_scenario_as_a_parameter():
    resolved = resolve_parameters(load_manifest(), [(None, "scenario", "bear")])
    assert resolved["summary"]["scenario"] == "bear"


def test_natural_date_is_accepted_for_a_date_parameter():
    import datetime

    notebook, name, value = parse_override("backlog.as_of=2026-03-31")
    assert value == datetime.date(2026, 3, 31)  # YAML reads it as a date
    resolved = resolve_parameters(load_manifest(), [(notebook, name, value)])
    assert resolved["backlog"]["as_of"] == "2026-03-31"
    shared = resolve_parameters(load_manifest(), [parse_override("as_of=2026-03-31")])
    assert {shared[n]["as_of"] for n in ("backlog", "circular", "absorption")} == {"2026-03-31"}


def test_empty_providers_list_is_a_clear_error():
    with pytest.raises(ParameterError, match="must list at least one value"):
        resolve_parameters(load_manifest(), [("backlog", "providers", [])])


def test_yaml_tag_in_override_is_a_parameter_error():
    with pytest.raises(ParameterError, match="not valid YAML"):
        parse_override("backlog.estimate=!!python/object/apply:os.system ['ls']")


def test_latest_scenario_moves_the_analysis_date_to_the_newest_source():
    from aicompute.analysis import data

    overrides = load_parameter_file(paths.SCENARIOS / "latest.yaml")
    assert overrides == [(None, "as_of", "2026-09-04")]
    # The scenario must follow the data: its date is the newest publication date among the sources.
    assert overrides[0][2] == f"{data.as_of_date():%Y-%m-%d}"
    resolved = resolve_parameters(load_manifest(), overrides)
    assert {params["as_of"] for params in resolved.values() if "as_of" in params} == {"2026-09-04"}
