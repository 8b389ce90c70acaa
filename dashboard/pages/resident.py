"""The residents' pages, server-rendered: form, receipt, and the pages that say why not.

Rendered with ``render_template_string``, which autoescapes: whatever a resident typed goes
back into the page as text, never as markup. Chinese first, English on a second line, since
many residents read only Chinese and some only English. Styles and the optional script are
files under /assets (no inline code, so the page's CSP can forbid it).
"""

from __future__ import annotations

from flask import render_template_string

_LAYOUT_HEAD = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>{{ heading_zh }} · {{ centre }}</title>
<link rel="stylesheet" href="/assets/resident.css">
</head><body class="resident">
<header class="r-top"><span class="r-brand">{{ centre }}</span>
<span class="r-brand-en">{{ centre_en }}</span></header>
<main class="r-main">
<h1>{{ heading_zh }}<span class="en">{{ heading_en }}</span></h1>
"""
_LAYOUT_FOOT = """<p class="r-foot">紧急情况请拨打 110 / 119 / 120<span class="en">In an emergency
 call 110 (police), 119 (fire) or 120 (ambulance)</span></p>
</main>{% if script %}<script src="/assets/resident.js"></script>{% endif %}</body></html>"""

_ERR = """{% macro err(slot) %}{% if errors.get(slot) %}<p class="r-err" id="err-{{ slot }}"
 role="alert">{{ errors[slot].zh }}<span class="en">{{ errors[slot].en }}</span></p>
{% endif %}{% endmacro %}"""

_FORM = _ERR + """
<p class="r-where">{{ where }}{% if building %} · {{ building }}{% endif %}
<span class="r-code">网格编码 · Grid code {{ qr.code }}</span></p>
{{ err('form') }}{{ err('other') }}
{% set marked = errors.keys()|reject('in', ['form', 'other'])|list %}{% if marked %}
<p class="r-err r-summary-err" role="alert">请修改下面标出的 {{ marked|length }} 处<span
 class="en">Please fix the {{ marked|length }} item{{ 's' if marked|length > 1 }} marked
 below</span></p>{% endif %}
<form method="post" action="/report" id="report-form" class="r-form">
<input type="hidden" name="grid" value="{{ qr.code }}">
<input type="hidden" name="b" value="{{ building }}">
<input type="hidden" name="token" value="{{ token }}">
<input type="hidden" name="lon" id="lon" value="{{ values.get('lon', '') }}">
<input type="hidden" name="lat" id="lat" value="{{ values.get('lat', '') }}">
<input type="hidden" name="acc" id="acc" value="{{ values.get('acc', '') }}">
{% if options %}
<label class="r-label" for="micro">所在楼栋或院落<span class="en">Your building</span></label>
<select id="micro" name="micro" required>
<option value="">请选择 · Choose</option>
{% for o in options %}<option value="{{ o.code }}"{% if values.get('micro') == o.code %}
 selected{% endif %}>{{ o.name }}</option>{% endfor %}
</select>
{{ err('micro') }}{% endif %}
<fieldset class="r-cats"><legend class="r-label">问题类型<span class="en">What kind of
 problem</span></legend>
<div class="r-cat-grid">{% for c in choices %}
<label class="r-cat"><input type="radio" name="category" value="{{ c.code }}" required
{% if values.get('category') == c.code %} checked{% endif %}><span class="r-cat-face"><span
 class="r-cat-zh">{{ c.zh }}</span><span class="en">{{ c.en }}</span></span></label>
{% endfor %}</div>
</fieldset>
{{ err('category') }}
<label class="r-label" for="description">情况说明<span class="en">What is wrong, and where
 exactly</span></label>
<textarea id="description" name="description" maxlength="{{ max_text }}" rows="5" required
 placeholder="例如：3 单元楼道堆放杂物，堵住消防通道"
 aria-describedby="desc-count">{{ values.get('description', '') }}</textarea>
<p class="r-count" id="desc-count"><span id="desc-n">{{ values.get('description', '')|length
 }}</span> / {{ max_text }}</p>
{{ err('description') }}
<label class="r-label" for="name">称呼（选填）<span class="en">Your name (optional)</span>
</label>
<input id="name" name="name" maxlength="50" autocomplete="name"
 value="{{ values.get('name', '') }}">
{{ err('name') }}
<label class="r-label" for="phone">手机号码（选填）<span class="en">Phone (optional)</span>
</label>
<input id="phone" name="phone" type="tel" inputmode="tel" maxlength="20" autocomplete="tel"
 value="{{ values.get('phone', '') }}" aria-describedby="phone-hint">
<p class="r-hint" id="phone-hint">仅用于回访，保存时隐去中间四位（如 138****5678）<span
 class="en">Only used to call you back; stored masked, e.g. 138****5678</span></p>
{{ err('phone') }}
<div class="r-place"><p class="r-label">位置<span class="en">Location</span></p>
<p id="place-text">按二维码所在网格：{{ where }}<span class="en">From this QR code's grid</span>
</p>
<button type="button" id="use-phone" class="r-secondary" data-max-accuracy="{{ max_accuracy }}"
 hidden>使用手机定位<span
 class="en">Use my phone's location</span></button>
<p class="r-hint" id="place-status" aria-live="polite"></p></div>
{{ err('place') }}
<button type="submit" class="r-submit" id="submit">提交<span class="en">Submit</span>
</button>
</form>"""

_RECEIPT = """<div class="r-ok" role="status">
<p class="r-receipt">您的反映已受理，编号 <strong id="event-id">{{ event.id }}</strong></p>
<p class="en">Your report has been received. Reference number: {{ event.id }}</p>
{% if repeat %}<p class="r-note">这份表单之前已提交过，以上是那次的编号，无需重复提交。<span
 class="en">This form was already sent; the number above is from that time.</span></p>
{% endif %}</div>
<h2>您反映的内容<span class="en">What you reported</span></h2>
<dl class="r-summary">
<dt>类型 · Type</dt><dd>{{ category }}</dd>
<dt>位置 · Location</dt><dd>{{ where }}{% if by_phone %}（手机定位 · by phone）{% endif %}
</dd>
<dt>说明 · Description</dt><dd class="r-text" id="receipt-text">{{ event.description }}</dd>
{% if event.reporter.phone %}<dt>回访电话 · Phone</dt><dd>{{ event.reporter.phone }}</dd>
{% endif %}</dl>
<h2>接下来<span class="en">What happens next</span></h2>
<ol class="r-steps">
<li>网格员在 {{ verify_zh }}内核实情况。<span class="en">A grid worker checks it within
 {{ verify_en }}.</span></li>
<li>交给负责的网格员或部门办理，超时会自动上报上一级网格。<span class="en">It goes to whoever
 handles it; if it runs late it is raised to the grid above.</span></li>
<li>{% if event.reporter.phone %}办好后会打电话回访，请留意来电。{% else %}办理进展可凭编号拨打
 12345 查询。{% endif %}<span class="en">{% if event.reporter.phone %}When it is done we call
 you back.{% else %}Call 12345 with the number to ask how it is going.{% endif %}</span></li>
</ol>
<a class="r-secondary r-again" href="/report?grid={{ qr_code|urlencode }}">再反映一个问题<span
 class="en">Report another problem</span></a>"""

_BAD_GRID = """<p>二维码中的网格编码 <span class="r-code">{{ code or '（空）' }}</span>
 无效。请扫描贴在楼栋或院落的二维码，或拨打 12345 反映。<span class="en">The code
 in this link does not name a grid. Scan the code on your building, or call 12345.</span></p>"""

_TOO_MANY = """<p>提交太频繁了，请 {{ wait_zh }}后再试。<span class="en">Too many reports
 from this connection; please try again in {{ wait_en }}.</span></p>
<p>如果已经提交过，编号已在回执页面上，无需重复提交。<span class="en">If you already sent your
 report, its number is on the receipt; no need to send it again.</span></p>"""

_UNAVAILABLE = """<p>系统繁忙，您的反映尚未保存，请稍后再试，或拨打 12345。<span class="en">The
 service is busy and your report was not saved; please try again shortly, or call 12345.
</span></p>"""

_BODIES = {"form": _FORM, "receipt": _RECEIPT, "bad_grid": _BAD_GRID,
           "too_many": _TOO_MANY, "unavailable": _UNAVAILABLE}
HEADINGS = {
    "form": ("反映问题", "Report a problem"),
    "receipt": ("已受理", "Received"),
    "bad_grid": ("二维码无效", "This code is not valid"),
    "too_many": ("请稍后再试", "Please wait a moment"),
    "unavailable": ("暂时无法提交", "Cannot submit right now"),
}


def render(page: str, *, centre: tuple[str, str], **context) -> str:
    """One page by name; ``centre`` is the (Chinese, English) name shown at the top."""
    heading_zh, heading_en = HEADINGS[page]
    source = _LAYOUT_HEAD + _BODIES[page] + _LAYOUT_FOOT
    return render_template_string(source, centre=centre[0], centre_en=centre[1],
                                  heading_zh=heading_zh, heading_en=heading_en,
                                  script=page == "form", **context)


def duration(minutes: int) -> tuple[str, str]:
    """A time limit in words: (Chinese, English)."""
    if minutes % 60:
        return f"{minutes} 分钟", f"{minutes} minute{'s' if minutes != 1 else ''}"
    hours = minutes // 60
    return f"{hours} 小时", f"{hours} hour{'s' if hours != 1 else ''}"
