"""Export every chart of an executed notebook to ``figures/<notebook>--<chart>.svg`` and ``.png`` (offline).

The same bytes on every machine: the fonts the theme names are shipped in ``fonts/`` and registered with the
renderer before any conversion, numbers and dates are formatted with one fixed locale, and dates are read in UTC
(the build sets ``TZ=UTC`` before the renderer starts; it reads the zone once).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

from aicompute import paths
from aicompute.present.output import MIMETYPE, VEGA_LITE_VERSION, at_width

FONTS = paths.ROOT / "fonts"
LOCALE = "en-US"
_UTC_NAMES = {"UTC", "Etc/UTC", "Etc/Universal", "Universal", "Zulu", "Etc/Zulu", "GMT", "Etc/GMT"}
_fonts_lock = threading.Lock()
_fonts_registered = False


class MachineDependentOutput(RuntimeError):
    """The renderer would produce figures that depend on this machine (its time zone)."""


def prepare_renderer() -> None:
    """Register the project's fonts (once per process) and check that dates will be read in UTC."""
    global _fonts_registered
    import vl_convert as vlc

    with _fonts_lock:
        if not _fonts_registered:
            if not any(FONTS.glob("*.ttf")):
                raise FileNotFoundError(f"no fonts in {FONTS}: the figures need the fonts shipped in fonts/")
            vlc.register_font_directory(str(FONTS))
            _fonts_registered = True
    zone = vlc.get_local_tz()
    if zone not in _UTC_NAMES:
        raise MachineDependentOutput(
            f"the chart renderer runs in time zone {zone!r}, so dates in figures would shift; build with "
            "`python -m aicompute build` (it sets TZ=UTC) or set TZ=UTC before starting Python"
        )


def iter_charts(nb: dict, notebook: str) -> Iterator[tuple[str, dict]]:
    """(stable name, Vega-Lite spec) of every chart output, in order; unnamed charts are numbered."""
    seen: set[str] = set()
    count = 0
    for cell in nb["cells"]:
        for output in cell.get("outputs", []):
            spec = output.get("data", {}).get(MIMETYPE)
            if spec is None:
                continue
            count += 1
            name = (output.get("metadata", {}).get(MIMETYPE) or {}).get("name") or f"chart-{count}"
            if name in seen:
                raise ValueError(f"notebook '{notebook}' shows two charts named {name!r}; chart names must be unique")
            seen.add(name)
            yield f"{notebook}--{name}", spec


class FigureExportFailed(RuntimeError):
    """A chart could not be converted; names the notebook and the chart instead of the renderer's backtrace."""


def export_figures(nb: dict, notebook: str, target: Path) -> list[Path]:
    import vl_convert as vlc

    target.mkdir(parents=True, exist_ok=True)
    written = []
    for stem, spec in iter_charts(nb, notebook):
        prepare_renderer()
        try:
            drawn = at_width(spec)  # a chart that takes its container's width in the page
            svg = vlc.vegalite_to_svg(
                drawn, vl_version=VEGA_LITE_VERSION, format_locale=LOCALE, time_format_locale=LOCALE
            )
            png = vlc.svg_to_png(svg, scale=2)
        except Exception as exc:  # noqa: BLE001 - the renderer raises bare ValueErrors with a Rust backtrace
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise FigureExportFailed(
                f"notebook '{notebook}': chart '{stem.split('--', 1)[1]}' could not be drawn: {first[:300]}"
            ) from None
        (target / f"{stem}.svg").write_text(svg, encoding="utf-8")
        (target / f"{stem}.png").write_bytes(png)
        written += [target / f"{stem}.svg", target / f"{stem}.png"]
    return written
