"""Export every chart of an executed notebook to ``figures/<notebook>--<chart>.svg`` and ``.png`` (offline)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from aicompute.present.output import MIMETYPE


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


def export_figures(nb: dict, notebook: str, target: Path) -> list[Path]:
    import vl_convert as vlc

    target.mkdir(parents=True, exist_ok=True)
    written = []
    for stem, spec in iter_charts(nb, notebook):
        svg = vlc.vegalite_to_svg(spec, vl_version="v6.4")
        (target / f"{stem}.svg").write_text(svg, encoding="utf-8")
        (target / f"{stem}.png").write_bytes(vlc.svg_to_png(svg, scale=2))
        written += [target / f"{stem}.svg", target / f"{stem}.png"]
    return written
