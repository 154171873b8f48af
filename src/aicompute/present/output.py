"""Showing charts: interactive in JupyterLab as usual, and as named, offline Vega-Lite specs inside a build.

Inside a build (``AICOMPUTE_BUILD=1``) every chart is emitted under the valid mimetype
``application/vnd.vegalite.v6+json`` with its name in the output metadata; the report template draws it with the
inlined Vega bundle and the build exports it to ``figures/<notebook>--<name>.svg|png``.
"""

from __future__ import annotations

import os
import re

import altair as alt
from IPython.display import display

from aicompute.present import theme  # noqa: F401  (registers the theme)

MIMETYPE = "application/vnd.vegalite.v6+json"
RENDERER = "aicompute-offline"
_NAME = re.compile(r"^[a-z0-9][a-z0-9-]*$")


def in_build() -> bool:
    return os.environ.get("AICOMPUTE_BUILD") == "1"


def bundle(spec: dict, name: str | None = None) -> tuple[dict, dict]:
    """The display bundle for one chart: the spec under our mimetype, a text fallback, and the chart's name."""
    title = spec.get("title")
    text = title.get("text") if isinstance(title, dict) else title
    data = {MIMETYPE: spec, "text/plain": f"<chart: {text or name or 'untitled'}>"}
    metadata = {MIMETYPE: {"name": name}} if name else {}
    return data, metadata


def _renderer(spec: dict, **_: object) -> tuple[dict, dict]:
    return bundle(spec)


alt.renderers.register(RENDERER, _renderer)
if in_build():
    # A bare chart at the end of a cell must also stay offline inside a build.
    alt.renderers.enable(RENDERER)


def show(chart: alt.TopLevelMixin, name: str) -> None:
    """Display ``chart``; in a build also name it so it is exported as ``figures/<notebook>--<name>.svg``."""
    if not _NAME.match(name):
        raise ValueError(f"chart name {name!r} must be lower-case letters, digits and dashes")
    if not in_build():
        display(chart)
        return
    data, metadata = bundle(chart.to_dict(), name)
    display(data, raw=True, metadata=metadata)
