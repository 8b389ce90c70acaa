"""Printable QR sheets: one code per micro-grid (一码扫楼), labelled, A4, PDF or PNG.

Each code opens the residents' report form for its micro-grid, so a report arrives already
located without the resident typing an address.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import qrcode
from PIL import Image, ImageDraw, ImageFont

from geo.grids import GridSet
from geo.model import Tier

DPI = 150
PAGE = (1240, 1754)  # A4 at 150 dpi
COLS, ROWS = 3, 4
_FONT_PATHS = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/truetype/noto/NotoSansCJK-Regular.ttc",
)


class FontMissingError(RuntimeError):
    def __init__(self) -> None:
        super().__init__("no CJK font found for the QR labels: apt-get install -y fonts-noto-cjk")


def report_url(base_url: str, micro_code: str) -> str:
    return f"{base_url.rstrip('/')}/report?grid={micro_code}"


def micro_codes(grids: GridSet, code: str) -> list[str]:
    """The micro-grids inside ``code`` (itself, if it is one), in code order."""
    ref = grids.ref(code)  # raises UnknownGridError for a bad code
    micro = grids.tier(Tier.MICRO)
    if ref.tier == Tier.MICRO.value:
        return [code]
    prefix = code[:12] if ref.tier == Tier.TOTAL.value else code
    return sorted(c for c in micro["code"] if c.startswith(prefix))


def render_sheet(grids: GridSet, code: str, *, base_url: str, out: Path) -> list[Path]:
    """Write the sheet; a PDF holds every page, PNGs are one file per page (-2, -3 …)."""
    out = Path(out)
    if out.suffix.lower() not in (".pdf", ".png"):
        raise ValueError(f"output {out.name!r} must end in .pdf or .png")
    font = _font_path()
    codes = micro_codes(grids, code)
    title = " › ".join(r.name for r in grids.chain(code))
    per_page = COLS * ROWS
    pages = [_page(grids, codes[i:i + per_page], title=title, base_url=base_url, font=font,
                   number=i // per_page + 1, total=(len(codes) - 1) // per_page + 1)
             for i in range(0, len(codes), per_page)]
    if out.suffix.lower() == ".pdf":
        pages[0].save(out, save_all=True, append_images=pages[1:], resolution=DPI)
        return [out]
    paths = [out if n == 0 else out.with_name(f"{out.stem}-{n + 1}{out.suffix}")
             for n in range(len(pages))]
    for page, path in zip(pages, paths, strict=True):
        page.save(path)
    return paths


def _page(grids, codes, *, title, base_url, font, number, total) -> Image.Image:
    page = Image.new("RGB", PAGE, "white")
    draw = ImageDraw.Draw(page)
    big, mid, small = (ImageFont.truetype(font, s) for s in (44, 26, 20))
    draw.text((70, 60), "扫码反映问题 · Scan to report", font=big, fill="black")
    draw.text((70, 125), title, font=mid, fill="#333333")
    draw.text((PAGE[0] - 70, 1690), f"{number}/{total}", font=small, fill="#666666", anchor="rs")
    cell_w, cell_h = (PAGE[0] - 140) // COLS, (PAGE[1] - 260) // ROWS
    for i, code in enumerate(codes):
        x, y = 70 + (i % COLS) * cell_w, 190 + (i // COLS) * cell_h
        image = _qr(report_url(base_url, code), size=cell_w - 60)
        page.paste(image, (x + 30, y))
        name = grids.ref(code).name
        draw.text((x + cell_w // 2, y + cell_w - 40), name, font=mid, fill="black", anchor="mt")
        draw.text((x + cell_w // 2, y + cell_w - 5), code, font=small, fill="#444444",
                  anchor="mt")
    return page


def _qr(data: str, *, size: int) -> Image.Image:
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=2)
    qr.add_data(data)
    qr.make(fit=True)
    return qr.make_image(fill_color="black", back_color="white").get_image().convert(
        "RGB").resize((size, size), Image.NEAREST)


def _font_path() -> str:
    for path in _FONT_PATHS:
        if Path(path).exists():
            return path
    if shutil.which("fc-match"):
        found = subprocess.run(["fc-match", "-f", "%{file}", "Noto Sans CJK SC"],
                               capture_output=True, text=True, check=False).stdout.strip()
        if found and Path(found).exists() and "CJK" in found:
            return found
    raise FontMissingError
