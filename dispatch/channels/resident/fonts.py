"""The CJK font the QR sheets are labelled in: Noto Sans CJK SC from Debian's fonts-noto-cjk.

Grid names are Chinese; without a CJK font Pillow draws empty boxes, and a sheet of boxes is
worse than no sheet, so a missing font stops the command with how to install it. Debian ships
the family as a collection (.ttc) whose Simplified Chinese face is not the first one: the
face index matters, or Japanese glyph shapes are printed for Chinese names.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from PIL import ImageFont

_FAMILY = "Noto Sans CJK SC"
#: Debian/Ubuntu paths; index 2 is the SC face in the collections (JP, KR, SC, TC, HK).
_KNOWN = {
    False: (("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),
            ("/usr/share/fonts/truetype/noto/NotoSansCJK-Regular.ttc", 2),
            ("/usr/share/fonts/opentype/noto/NotoSansCJKsc-Regular.otf", 0)),
    True: (("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc", 2),
           ("/usr/share/fonts/truetype/noto/NotoSansCJK-Bold.ttc", 2),
           ("/usr/share/fonts/opentype/noto/NotoSansCJKsc-Bold.otf", 0)),
}
MIN_SIZE = 20


class FontMissingError(RuntimeError):
    """No Noto Sans CJK font on this machine; carries the places looked at."""

    def __init__(self, searched: list[str]) -> None:
        super().__init__(f"no {_FAMILY} font found for the QR labels (looked in fontconfig and "
                         f"{', '.join(searched)}): install it with "
                         "`apt-get install -y fonts-noto-cjk`")
        self.searched = searched


@dataclass(frozen=True, slots=True)
class FontFile:
    path: str
    index: int


@dataclass
class Fonts:
    """Regular and bold faces, sized on demand and cached per size."""

    regular: FontFile
    bold: FontFile
    _cache: dict[tuple[int, bool], ImageFont.FreeTypeFont] = field(default_factory=dict,
                                                                   repr=False)

    def get(self, size: int, *, bold: bool = False) -> ImageFont.FreeTypeFont:
        key = (size, bold)
        if key not in self._cache:
            face = self.bold if bold else self.regular
            self._cache[key] = ImageFont.truetype(face.path, size, index=face.index)
        return self._cache[key]

    def fit(self, text: str, size: int, width: int, *, bold: bool = False
            ) -> ImageFont.FreeTypeFont:
        """The largest face up to ``size`` in which ``text`` fits ``width`` pixels."""
        while size > MIN_SIZE and self.get(size, bold=bold).getlength(text) > width:
            size = max(MIN_SIZE, int(size * 0.9))
        return self.get(size, bold=bold)


@cache
def load_fonts() -> Fonts:
    """Find the fonts once per process; raises FontMissingError naming where it looked."""
    regular = find_font(bold=False)
    try:
        bold = find_font(bold=True)
    except FontMissingError:
        bold = regular  # some installs ship the regular weight only
    return Fonts(regular=regular, bold=bold)


def find_font(*, bold: bool) -> FontFile:
    found = _from_fontconfig(bold=bold)
    if found:
        return found
    for path, index in _KNOWN[bold]:
        if Path(path).is_file():
            return FontFile(path, index)
    raise FontMissingError([p for p, _ in _KNOWN[bold]])


def _from_fontconfig(*, bold: bool) -> FontFile | None:
    """fc-match always answers with something; only a Noto Sans CJK answer counts."""
    if not shutil.which("fc-match"):
        return None
    pattern = f"{_FAMILY}:style={'Bold' if bold else 'Regular'}"
    try:
        out = subprocess.run(["fc-match", "-f", "%{file}\t%{index}\t%{family}\t%{style}",
                              pattern], capture_output=True, text=True, timeout=10,
                             check=False).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    parts = out.split("\t")
    if len(parts) < 4 or _FAMILY not in parts[2] or not Path(parts[0]).is_file():
        return None
    if bold and "Bold" not in parts[3]:
        return None
    return FontFile(parts[0], int(parts[1] or 0))
