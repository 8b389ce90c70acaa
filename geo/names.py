"""Chinese place names for synthetic grids: plausible, deterministic, unique where it matters."""

from __future__ import annotations

import numpy as np

_FIRST = "望丛书院锦华蜀安德清泉新民和平兴盛龙凤桂竹柳梅荷杏桃春秋金玉古城嘉祥福乐康宁丰源"
_SECOND = "苑园林湖桥河堰坝湾里庄坊街塘溪亭台岭"
_ESTATE = ("小区", "家园", "花园", "苑", "公寓", "院落")


def community_names(n: int, rng: np.random.Generator, *, rural: bool) -> list[str]:
    """``n`` distinct community names; towns mix villages (村) among communities (社区)."""
    names: list[str] = []
    seen: set[str] = set()
    while len(names) < n:
        stem = rng.choice(list(_FIRST)) + rng.choice(list(_SECOND))
        if stem in seen:
            continue
        seen.add(stem)
        suffix = "村" if rural and rng.random() < 0.55 else "社区"
        names.append(stem + suffix)
    return names


def general_name(community: str, seq: int) -> str:
    """一般网格 names follow the usual ``<community>第N网格`` pattern."""
    return f"{community}第{seq}网格"


def micro_names(n: int, rng: np.random.Generator, *, village: bool) -> list[str]:
    """Micro-grid names: buildings of an estate in town, numbered groups (组) in a village."""
    if village:
        return [f"{i + 1}组院落" for i in range(n)]
    estate = rng.choice(list(_FIRST)) + rng.choice(list(_FIRST)) + rng.choice(_ESTATE)
    return [f"{estate}{i + 1}栋" for i in range(n)]
