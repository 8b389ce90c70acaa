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


def t(key: str, lang: Lang) -> str:
    zh, en = _TEXT[key]
    return en if lang == "en" else zh


def tier_label(tier: str, lang: Lang) -> str:
    """The name of one grid's tier (singular in English)."""
    return t(f"tier1.{tier}", lang)
