"""Make fonts/ReportSans-*.ttf from Liberation Sans 2.1 (run once; the output is committed).

Why: the chart renderer (vl-convert) looks fonts up by family name among the machine's installed fonts *and* the
ones registered from fonts/, and an installed "Liberation Sans" (Debian ships version 1.07) wins over ours. The
figures' PNG bytes then depend on the machine. A family name no machine has installed removes the choice.

Renaming makes a Modified Version under the SIL OFL 1.1, which may not carry the Reserved Font Names
("Liberation", "Arimo"): hence "Report Sans". Only the name table changes; the glyphs are Liberation Sans 2.1's.

    pip install fonttools==4.68.0
    python tools/rename_fonts.py path/to/liberation-fonts-ttf-2.1.x fonts/
"""

from __future__ import annotations

import sys
from pathlib import Path

from fontTools.ttLib import TTFont

FAMILY = "Report Sans"
# Name-table entries that carry the family: family, unique id, full name, PostScript name, typographic family.
FAMILY_NAME_IDS = (1, 3, 4, 6, 16)


def rename(source: Path, target_dir: Path) -> Path:
    font = TTFont(source)
    for record in font["name"].names:
        if record.nameID in FAMILY_NAME_IDS:
            text = record.toUnicode()
            record.string = text.replace("Liberation Sans", FAMILY).replace("LiberationSans", FAMILY.replace(" ", ""))
    style = source.stem.split("-", 1)[1]
    target = target_dir / f"{FAMILY.replace(' ', '')}-{style}.ttf"
    font.save(target)
    return target


def main(source_dir: str, target_dir: str) -> None:
    for source in sorted(Path(source_dir).glob("LiberationSans-*.ttf")):
        print(rename(source, Path(target_dir)))


if __name__ == "__main__":
    main(*sys.argv[1:3])
