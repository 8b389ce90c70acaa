"""Interface text in Chinese (the default) and English. Grid names stay as the data has them."""

from __future__ import annotations

from typing import Literal

Lang = Literal["zh", "en"]

_TEXT: dict[str, tuple[str, str]] = {
    "synthetic": ("合成演示几何 · 非真实边界", "Synthetic demo geometry · not real boundaries"),
    "tier.total": ("总网格", "Total grids"),
    "tier.general": ("一般网格", "General grids"),
    "tier.micro": ("微网格", "Micro-grids"),
    "tier1.total": ("总网格", "Total grid"),
    "tier1.general": ("一般网格", "General grid"),
    "tier1.micro": ("微网格", "Micro-grid"),
    "households": ("户数", "Households"),
    "residents": ("服务人口", "Residents"),
    "streets": ("街道（镇）", "Streets & towns"),
    "layers": ("图层", "Layers"),
    "mode.auto": ("随缩放", "By zoom"),
    "mode.total": ("总网格", "Total"),
    "mode.general": ("一般网格", "General"),
    "mode.micro": ("微网格", "Micro"),
    "online": ("在线", "Online"),
    "offline": ("连接中断", "Disconnected"),
    "panel.code": ("网格编码", "Grid code"),
    "panel.tier": ("层级", "Tier"),
    "panel.chain": ("隶属关系", "Parent chain"),
    "panel.households": ("户数", "Households"),
    "panel.residents": ("服务人口", "Residents"),
    "panel.area": ("面积", "Area"),
    "panel.children.total": ("下辖一般网格", "General grids inside"),
    "panel.children.general": ("下辖微网格", "Micro-grids inside"),
    "panel.street": ("街道（镇）", "Street / town"),
    "panel.close": ("关闭", "Close"),
    "panel.unknown": ("未找到该网格", "Grid not found"),
    "tier.street": ("街道调度中心", "Street centre"),
    "tier1.street": ("街道调度中心", "Street centre"),
    "status.collected": ("收集", "Collected"),
    "status.reported": ("上报", "Reported"),
    "status.registered": ("立案", "Registered"),
    "status.dispatched": ("派遣", "Dispatched"),
    "status.signed": ("签收", "Signed for"),
    "status.in_progress": ("办理中", "In progress"),
    "status.feedback": ("反馈", "Feedback"),
    "status.verified": ("核查", "Verified"),
    "status.closed": ("结案", "Closed"),
    "status.reopened": ("重办", "Reopened"),
    "status.archived": ("归档", "Archived"),
    "status.returned": ("退单", "Returned"),
    "status.cancelled": ("作废", "Cancelled"),
    "status.": ("", ""),
    "step.reported": ("上报", "Rep."),
    "step.registered": ("立案", "Reg."),
    "step.dispatched": ("派遣", "Disp."),
    "step.signed": ("签收", "Sign"),
    "step.in_progress": ("办理", "Work"),
    "step.feedback": ("反馈", "Fdbk"),
    "step.verified": ("核查", "Verif."),
    "step.closed": ("结案", "Close"),
    "severity.urgent": ("紧急", "Urgent"),
    "severity.routine": ("一般", "Routine"),
    "severity.complex": ("复杂", "Complex"),
    "source.worker": ("网格员上报", "Grid worker"),
    "source.resident": ("居民扫码", "Resident QR"),
    "source.12345": ("12345热线", "12345 hotline"),
    "source.online": ("网络理政", "Online complaint"),
    "source.iot": ("物联感知", "IoT sensor"),
    "source.open311": ("Open311", "Open311"),
    "source.operator": ("调度员登记", "Operator"),
    "source.api": ("系统接口", "API"),
    "role.operator": ("调度员", "operator"),
    "role.admin": ("管理员", "admin"),
    "role.worker": ("网格员", "grid worker"),
    "role.leader": ("领导", "leader"),
    "role.coordinator": ("演练指挥", "coordinator"),
    "role.integration": ("接口", "integration"),
    "role.device": ("设备", "device"),
    "role.resident": ("居民", "resident"),
    "role.system": ("系统", "system"),
    "event.timeline": ("处置过程", "Timeline"),
    "event.escalated": ("已升级", "Escalated"),
    "event.repeated": ("重复告警", "Repeated alarm"),
    "event.created_kind": ("受理", "Received"),
    "event.source": ("来源", "Source"),
    "event.address": ("地点", "Location"),
    "event.reporter": ("反映人", "Reporter"),
    "event.created": ("受理时间", "Received at"),
    "event.count": ("重复次数", "Repeats"),
    "event.reason": ("原因", "Reason"),
    "event.reason_hint": ("退单、作废、重办需填写原因",
                          "Reason (needed to return, cancel, reopen)"),
    "events.title": ("实时事件", "Live events"),
    "events.open": ("在办", "Open"),
    "events.overdue": ("超时", "Overdue"),
    "events.urgent": ("紧急", "Urgent"),
    "events.empty": ("暂无在办事件", "No open events"),
    "filter.all": ("全部", "All"),
    "filter.overdue": ("超时", "Overdue"),
    "filter.urgent": ("紧急", "Urgent"),
    "banner.offline": ("连接中断，正在重连…", "Disconnected — reconnecting…"),
    "outage.title": ("数据服务不可用", "Data service unavailable"),
    "outage.retrying": ("正在重试，恢复后本页会自动刷新。",
                        "Retrying; this page reloads by itself when the service is back."),
    "move.done": ("已更新", "Updated"),
    "move.invalid": ("无效操作", "Not a move this screen offers"),
    "reveal.button": ("显示号码", "Show number"),
    "reveal.pick": ("选择原因", "Choose a reason"),
    "reveal.reason.call_back": ("回访", "Call-back"),
    "reveal.reason.verify": ("核实", "Verify the report"),
    "reveal.reason.emergency": ("紧急联系", "Emergency contact"),
    "reveal.audited": ("查看完整号码将记入审计", "Showing the full number is audited"),
    "reveal.none": ("无联系电话", "No phone given"),
    "lang.switch": ("EN", "中文"),
    "district": ("郫都区", "Pidu District"),
    "legend": ("图例", "Legend"),
    "legend.streets": ("街道（镇）界", "Street / town border"),
    "legend.total": ("总网格（社区）", "Total grid (community)"),
    "legend.general": ("一般网格", "General grid"),
    "legend.micro": ("微网格", "Micro-grid"),
    "legend.selected": ("选中网格", "Selected grid"),
    "hint": ("点击网格查看详情", "Click a grid for details"),
}


def status_vocabulary() -> dict[str, object]:
    """Open statuses, every status's label in both languages and the kinds of change a delta
    carries (by enum name, e.g. ``created``), for the page's scripts: one source (the enums
    and this table), not a copy in JavaScript."""
    from dispatch.events.models import ChangeKind, Status

    return {"open": [s.value for s in Status if s.open],
            "labels": {lang: {s.value: t(f"status.{s.value}", lang) for s in Status}
                       for lang in ("zh", "en")},
            "kinds": {k.name.lower(): k.value for k in ChangeKind}}


def t(key: str, lang: Lang) -> str:
    zh, en = _TEXT[key]
    return en if lang == "en" else zh


def pick_lang(*candidates: str | None, default: Lang) -> Lang:
    """The first candidate that names a language we speak (query, cookie, …), else ``default``."""
    for value in candidates:
        if value in ("zh", "en"):
            return value  # type: ignore[return-value]
    return default


def tier_label(tier: str, lang: Lang) -> str:
    """The name of one grid's tier (singular in English)."""
    return t(f"tier1.{tier}", lang)
