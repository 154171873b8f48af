"""Showing charts so that they draw everywhere without a network: in the report, in JupyterLab and in stock nbconvert.

Every chart is emitted as one display bundle: the Vega-Lite spec under ``application/vnd.vegalite.v6+json`` (the report
template draws it with the inlined Vega bundle, and the build exports it to ``figures/<notebook>--<name>.svg|png``), a
static PNG rendered offline with vl-convert (what JupyterLab — even for an untrusted notebook — and stock
``jupyter nbconvert --to html`` show, since neither draws Vega-Lite v6 offline), and a text fallback naming the chart.
"""

from __future__ import annotations

import base64
import re

import altair as alt
from IPython.display import display

from aicompute.present import theme  # registers the theme

MIMETYPE = "application/vnd.vegalite.v6+json"
RENDERER = "aicompute-offline"
VEGA_LITE_VERSION = "v6.4"
_NAME = re.compile(r"^[a-z0-9][a-z0-9-]*$")

def at_width(spec: dict, width: int = theme.WIDTH) -> dict:
    """The spec with a container width made ``width`` px: a figure or a PNG is drawn with no page around it."""
    return {**spec, "width": width} if spec.get("width") == "container" else spec


def static_png(spec: dict) -> str:
    """The chart as a base64 PNG, drawn offline by vl-convert (no browser, no CDN)."""
    import vl_convert as vlc

    png = vlc.vegalite_to_png(at_width(spec), vl_version=VEGA_LITE_VERSION, scale=1)
    return base64.b64encode(png).decode("ascii")

def bundle(spec: dict, name: str | None = None) -> tuple[dict, dict]:
    """The display bundle for one chart: the spec under our mimetype, a static PNG, a text fallback, and the name."""
    title = spec.get("title")
    text = title.get("text") if isinstance(title, dict) else title
    data = {MIMETYPE: spec, "image/png": static_png(spec), "text/plain": f"<chart: {text or name or 'untitled'}>"}
    metadata = {MIMETYPE: {"name": name}} if name else {}
    return data, metadata

def _renderer(spec: dict, **_: object) -> tuple[dict, dict]:
    return bundle(spec)

alt.renderers.register(RENDERER, _renderer)
# A bare chart at the end of a cell draws offline too, in a build and in JupyterLab alike.
alt.renderers.enable(RENDERER)

def show(chart: alt.TopLevelMixin, name: str) -> None:
    """Display ``chart`` offline; its name makes the build export it as ``figures/<notebook>--<name>.svg|png``."""
    if not _NAME.match(name):
        raise ValueError(f"chart name {name!r} must be lower-case letters, digits and dashes")
    data, metadata = bundle(chart.to_dict(), name)
    display(data, raw=True, metadata=metadata)
