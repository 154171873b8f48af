"""The figures' PNGs do not depend on the fonts installed on the machine that builds them.

The renderer looks a family up among the installed fonts and the ones registered from fonts/; an installed copy of
the same family (Debian's Liberation Sans 1.07) used to win over ours, so a machine with a different copy, or none,
wrote different PNG bytes. The test draws one chart twice: as the machine is, and with every installed font hidden
(a private mount namespace with empty font folders), and needs the same bytes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from aicompute import paths
from aicompute.present import theme

DRAW = """
import sys
import altair as alt
import pandas as pd
import vl_convert as vlc
from aicompute.build.export import prepare_renderer
from aicompute.present import theme

prepare_renderer()
data = pd.DataFrame({"provider": ["Microsoft", "Oracle"], "usd_bn": [627.0, 638.0]})
chart = alt.Chart(data, title="Backlog, $bn").mark_bar().encode(x="usd_bn:Q", y="provider:N")
chart = chart + chart.mark_text(align="left", dx=4).encode(text="usd_bn:Q")
svg = vlc.vegalite_to_svg(chart.to_dict(), vl_version="v6.4")
sys.stdout.buffer.write(vlc.svg_to_png(svg, scale=2))
"""

FONT_FOLDERS = ("/usr/share/fonts", "/usr/local/share/fonts", "/etc/fonts")


def draw(hide_installed_fonts: bool) -> bytes:
    command = [sys.executable, "-c", DRAW]
    if hide_installed_fonts:
        mounts = " && ".join(f"mount -t tmpfs none {folder}" for folder in FONT_FOLDERS if os.path.isdir(folder))
        command = ["unshare", "--mount", "sh", "-c", f'{mounts} && exec "$0" "$@"', *command]
    env = {**os.environ, "TZ": "UTC", "HOME": "/nonexistent"}  # no fonts in a home folder either
    result = subprocess.run(command, capture_output=True, env=env, cwd=paths.ROOT, timeout=120)
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    return result.stdout


def test_theme_font_is_the_shipped_family_first():
    shipped = sorted(p.name for p in (paths.ROOT / "fonts").glob("*.ttf"))
    assert shipped and all(name.startswith(theme.FONT_FAMILY.replace(" ", "") + "-") for name in shipped)
    assert theme.FONT.startswith(f'"{theme.FONT_FAMILY}"')


@pytest.mark.e2e
@pytest.mark.skipif(
    not (hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("unshare")),
    reason="hiding the installed fonts needs a private mount namespace (root and unshare)",
)
def test_png_bytes_do_not_depend_on_installed_fonts():
    assert draw(hide_installed_fonts=False) == draw(hide_installed_fonts=True)
