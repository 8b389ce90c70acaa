"""The residents' pages, server-rendered: form, receipt, and the pages that say why not.

The markup is in ``dashboard/templates/resident/``, rendered with autoescape on: whatever a
resident typed goes back into the page as text, never as markup. Chinese first, English on a
second line, since many residents read only Chinese and some only English. Styles and the
optional script are files under /assets (no inline code, so the page's CSP can forbid it).
"""

from __future__ import annotations

from flask import render_template

HEADINGS = {
    "form": ("反映问题", "Report a problem"),
    "receipt": ("已受理", "Received"),
    "bad_grid": ("二维码无效", "This code is not valid"),
    "too_many": ("请稍后再试", "Please wait a moment"),
    "unavailable": ("暂时无法提交", "Cannot submit right now"),
}


def render(page: str, *, centre: tuple[str, str], **context) -> str:
    """One page by name; ``centre`` is the (Chinese, English) name shown at the top."""
    heading_zh, heading_en = HEADINGS[page]  # an unknown page fails here, not as a file path
    return render_template(f"resident/{page}.html", centre=centre[0], centre_en=centre[1],
                           heading_zh=heading_zh, heading_en=heading_en, **context)


def duration(minutes: int) -> tuple[str, str]:
    """A time limit in words: (Chinese, English)."""
    if minutes % 60:
        return f"{minutes} 分钟", f"{minutes} minute{'s' if minutes != 1 else ''}"
    hours = minutes // 60
    return f"{hours} 小时", f"{hours} hour{'s' if hours != 1 else ''}"
