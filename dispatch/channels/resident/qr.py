"""Printable QR sheets: one code per micro-grid (一码扫楼), labelled, A4, PDF or PNG.

Each code opens the residents' report form for its micro-grid, so a report arrives already
located without the resident typing an address. Pages are drawn at 300 dpi and the PDF keeps
them as 1-bit CCITT images: lossless, so the modules print sharp (a JPEG page would blur them),
and a few tens of kilobytes per page. Each cell is cut out along its dashed border and
stuck on its building, so every cell carries its own instruction, name and code.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import qrcode
from PIL import Image, ImageDraw

from dispatch.channels.resident.fonts import Fonts, load_fonts
from geo.grids import GridRef, GridSet
from geo.model import Tier

DPI = 300
PAGE = (2480, 3508)  # A4 at 300 dpi
MARGIN = 140
COLS, ROWS = 3, 4
PER_PAGE = COLS * ROWS
_TOP, _BOTTOM = 420, PAGE[1] - MARGIN - 90  # the cell area between header and footer
TITLE = "扫码反映问题 · Scan to report"
FORMATS = (".pdf", ".png")


class SheetFormatError(ValueError):
    """The output file's extension is not one the sheet can be written as."""

    def __init__(self, out: Path) -> None:
        super().__init__(f"output {str(out)!r} must end in {' or '.join(FORMATS)}")
        self.out = out


class BaseUrlError(ValueError):
    """The base URL cannot be opened by a phone (it needs a scheme and a host)."""

    def __init__(self, base_url: str) -> None:
        super().__init__(f"base URL {base_url!r} must look like http://host[:port][/path]")
        self.base_url = base_url


def report_url(base_url: str, micro_code: str) -> str:
    """What a code encodes: the report form for one micro-grid."""
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise BaseUrlError(base_url)
    return f"{base_url.rstrip('/')}/report?grid={micro_code}"


def micro_grids_in(grids: GridSet, code: str) -> list[GridRef]:
    """The micro-grids inside a micro, general or total grid, in code order.

    Follows the parent links, not code prefixes: a site's own grid file need not number its
    grids the way the demo does. An unknown code raises UnknownGridError.
    """
    ref = grids.ref(code)
    if ref.tier == Tier.MICRO.value:
        return [ref]
    frame = grids.frame
    parents = {code}
    if ref.tier == Tier.TOTAL.value:
        parents = set(frame.loc[frame["parent_code"] == code, "code"])
    rows = frame[(frame["tier"] == Tier.MICRO.value) & frame["parent_code"].isin(parents)]
    return [GridRef(code=c, name=n, tier=Tier.MICRO.value)
            for c, n in sorted(zip(rows["code"], rows["name"], strict=True))]


def render_sheet(grids: GridSet, code: str, *, base_url: str, out: Path) -> list[Path]:
    """Write the sheet for ``code``; returns the files written.

    ``.pdf``: one file with every page. ``.png``: ``out`` itself for a one-page sheet,
    else one file per page named ``<stem>-1.png``, ``<stem>-2.png`` …
    """
    out = Path(out)
    if out.suffix.lower() not in FORMATS:
        raise SheetFormatError(out)
    pages = render_pages(grids, code, base_url=base_url)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".pdf":
        bilevel = [p.convert("1", dither=Image.Dither.NONE) for p in pages]
        bilevel[0].save(out, "PDF", save_all=True, append_images=bilevel[1:], resolution=DPI,
                        title=f"{TITLE} {code}")
        return [out]
    paths = [out] if len(pages) == 1 else [
        out.with_name(f"{out.stem}-{n}{out.suffix}") for n in range(1, len(pages) + 1)]
    for page, path in zip(pages, paths, strict=True):
        page.save(path, "PNG", dpi=(DPI, DPI), optimize=True)
    return paths


def render_pages(grids: GridSet, code: str, *, base_url: str) -> list[Image.Image]:
    """The sheet as greyscale A4 pages, twelve codes a page."""
    micro = micro_grids_in(grids, code)
    urls = [report_url(base_url, m.code) for m in micro]  # checks base_url before drawing
    fonts = load_fonts()
    info = grids.info(code)
    chain = " › ".join([info["street_name"], *(r["name"] for r in info["chain"])])
    total = (len(micro) + PER_PAGE - 1) // PER_PAGE
    return [_page(micro[i:i + PER_PAGE], urls[i:i + PER_PAGE], chain=chain, fonts=fonts,
                  page=(i // PER_PAGE + 1, total), synthetic=grids.synthetic)
            for i in range(0, len(micro), PER_PAGE)]


def qr_image(data: str, *, max_px: int) -> Image.Image:
    """The code at a whole number of pixels per module (no resampling blur), quiet zone 4."""
    code = _qr(data)
    modules = code.modules_count + 2 * code.border
    code.box_size = max(1, max_px // modules)
    return code.make_image().get_image().convert("L")


def qr_modules(data: str) -> list[list[bool]]:
    """The module matrix a sheet encodes for ``data`` (dark = True), quiet zone included."""
    code = _qr(data)
    return [list(row) for row in code.get_matrix()]


def _qr(data: str) -> qrcode.QRCode[Any]:  # only its matrix is used, never an image
    # Q (25 % recovery): stickers outdoors get scuffed, rained on and half covered.
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_Q, border=4)
    code.add_data(data)
    code.make(fit=True)
    return code


def _page(micro: Sequence[GridRef], urls: Sequence[str], *, chain: str, fonts: Fonts,
          page: tuple[int, int], synthetic: bool) -> Image.Image:
    image = Image.new("L", PAGE, 255)
    draw = ImageDraw.Draw(image)
    width = PAGE[0] - 2 * MARGIN
    draw.text((MARGIN, MARGIN), TITLE, font=fonts.fit(TITLE, 96, width, bold=True), fill=0)
    draw.text((MARGIN, MARGIN + 140), chain, font=fonts.fit(chain, 52, width), fill=40)
    draw.line((MARGIN, _TOP - 40, PAGE[0] - MARGIN, _TOP - 40), fill=0, width=4)
    cell = (width // COLS, (_BOTTOM - _TOP) // ROWS)
    for i, (ref, url) in enumerate(zip(micro, urls, strict=True)):
        left, top = MARGIN + (i % COLS) * cell[0], _TOP + (i // COLS) * cell[1]
        _cell(image, draw, ref, url, box=(left, top, *cell), fonts=fonts)
    _footer(draw, page=page, synthetic=synthetic, fonts=fonts)
    return image


def _cell(image: Image.Image, draw: ImageDraw.ImageDraw, ref: GridRef, url: str, *,
          box: tuple[int, int, int, int], fonts: Fonts) -> None:
    left, top, w, h = box
    _dashed_rect(draw, (left, top, left + w, top + h))
    centre, inner = left + w // 2, w - 60
    draw.text((centre, top + 30), TITLE, font=fonts.fit(TITLE, 36, inner), fill=0, anchor="mt")
    code_img = qr_image(url, max_px=min(inner, h - 215))
    image.paste(code_img, (centre - code_img.width // 2, top + 85))
    y = top + 85 + code_img.height + 5
    draw.text((centre, y), ref.name, font=fonts.fit(ref.name, 60, inner, bold=True), fill=0,
              anchor="mt")
    draw.text((centre, y + 80), ref.code, font=fonts.fit(ref.code, 38, inner), fill=60,
              anchor="mt")


def _dashed_rect(draw: ImageDraw.ImageDraw, rect: tuple[int, int, int, int]) -> None:
    """Cut lines: light dashes, so a cell can be trimmed out and stuck on its building."""
    x0, y0, x1, y1 = rect
    for x in range(x0, x1, 40):
        draw.line((x, y0, min(x + 20, x1), y0), fill=150, width=2)
        draw.line((x, y1, min(x + 20, x1), y1), fill=150, width=2)
    for y in range(y0, y1, 40):
        draw.line((x0, y, x0, min(y + 20, y1)), fill=150, width=2)
        draw.line((x1, y, x1, min(y + 20, y1)), fill=150, width=2)


def _footer(draw: ImageDraw.ImageDraw, *, page: tuple[int, int], synthetic: bool,
            fonts: Fonts) -> None:
    y = PAGE[1] - MARGIN
    small = fonts.fit("0", 36, PAGE[0])
    draw.text((PAGE[0] - MARGIN, y), f"第 {page[0]}/{page[1]} 页 · page {page[0]} of {page[1]}",
              font=small, fill=60, anchor="rs")
    note = "一码扫楼 · 紧急情况请拨打 110 / 119 / 120"
    if synthetic:
        note += " · 演示数据：合成网格 Synthetic demo grids"
    draw.text((MARGIN, y), note, font=small, fill=60, anchor="ls")
