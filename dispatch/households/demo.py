"""The synthetic demo resident base: every micro-grid's households, in buildings, with tags.

Each micro-grid gets exactly the households the grid set says it has (642,571 in the demo),
split into buildings of about 16–40 households (the size drawn per micro-grid, the
households spread evenly over its buildings), each building laid out in 1–3 units of 2–4
flats a floor, so an address reads ``3栋2单元501``. Householders have synthetic names and
phones starting ``100``, which no Chinese number does, so a demo call never rings anyone.

Household sizes follow the district's mean of about 2.49 members. Special-population tags
are drawn at the rates of ``TAG_RATES``, over the households they can apply to (a person
living alone has one member; a pregnancy or a left-behind child needs two), at most two tags
a household. Everything is vectorised: the whole base is generated in about a second and
cached, keyed by the generator version, the grid set's digest and the seed.
"""

from __future__ import annotations

import gzip
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from dispatch.households.models import Household, SpecialTag
from dispatch.households.table import TAGS, HouseholdTable
from dispatch.workers.roster import GIVEN, PHONE_PREFIX, SURNAMES
from geo.catalog import file_lock
from geo.grids import GridSet
from geo.model import Tier

if TYPE_CHECKING:
    from dispatch.privacy.vault import Vault
    from dispatch.store.households import HouseholdStore

#: Bump when the generator changes, so cached bases are rebuilt.
DEMO_VERSION = 1
#: Share of all households carrying each tag.
TAG_RATES: dict[SpecialTag, float] = {
    SpecialTag.ELDERLY_ALONE: 0.04, SpecialTag.DISABLED: 0.02, SpecialTag.PREGNANT: 0.01,
    SpecialTag.LEFT_BEHIND_CHILD: 0.015, SpecialTag.LOW_INCOME: 0.03,
    SpecialTag.SUPERVISED: 0.003}
_ALONE = frozenset({SpecialTag.ELDERLY_ALONE})
_FAMILY = frozenset({SpecialTag.PREGNANT, SpecialTag.LEFT_BEHIND_CHILD})
MAX_TAGS = 2
#: Shares of households with 1…6 members (mean 2.48).
MEMBER_SHARES = (0.27, 0.31, 0.21, 0.12, 0.06, 0.03)
BUILDING_SIZE = (16, 40)
#: Typical building size drawn per micro-grid, inside BUILDING_SIZE.
_TYPICAL = (20.0, 32.0)
MAX_BUILDINGS = 99
#: Rare two-character surnames, so masked names show them (欧阳**).
COMPOUND_SURNAMES = ("欧阳", "司马", "上官", "诸葛", "东方", "皇甫")
_COMPOUND_SHARE = 0.004
_UNITS = ((1, 2, 3), (0.3, 0.45, 0.25))
_ROOMS = ((2, 3, 4), (0.6, 0.25, 0.15))
#: "001"…"999" by number - 1, joined to building prefixes without formatting every id.
_NUMBERS = np.array([f"{k:03d}" for k in range(1, 1000)], dtype=object)


class DemoBaseError(ValueError):
    """A grid set whose households cannot be placed in buildings of at most 999."""

    def __init__(self, micro: str, households: int) -> None:
        super().__init__(f"micro-grid {micro} has {households:,} households: more than "
                         f"{MAX_BUILDINGS} buildings of 999 hold")
        self.micro, self.households = micro, households


def generate(grids: GridSet, *, seed: int) -> HouseholdTable:
    """The demo base for ``grids``: the same grid set and seed give the same table."""
    rng = np.random.default_rng([seed, DEMO_VERSION, int(grids.digest or "0", 16)])
    micro = grids.tier(Tier.MICRO)
    codes = micro["code"].to_numpy(dtype=str)
    if "households" in micro:
        counts = micro["households"].fillna(0).to_numpy(dtype=np.int64)
    else:
        counts = np.zeros(len(codes), dtype=np.int64)
    sizes, building_micro, building_no = _buildings(codes, counts, rng)
    n = int(sizes.sum())
    building = np.repeat(np.arange(len(sizes)), sizes)
    number = np.arange(n) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    prefix = np.array([f"{codes[m]}-{b:02d}-" for m, b in zip(
        building_micro.tolist(), building_no.tolist(), strict=True)], dtype=object)
    ids = (prefix[building] + _NUMBERS[number]).tolist()
    phones = np.char.zfill(rng.choice(10**8, n, replace=False).astype(str), 8)
    members = rng.choice(np.arange(1, 7, dtype=np.int16), size=n, p=MEMBER_SHARES)
    return HouseholdTable(
        ids=ids, address=_addresses(sizes, building_no, number, rng), head=_names(n, rng),
        phone=np.char.add(PHONE_PREFIX, phones).tolist(), members=members,
        tags=_tags(members, rng))


def _buildings(codes: NDArray[np.str_], counts: NDArray[np.int64], rng: np.random.Generator,
               ) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """(households, micro-grid index, number 1…) of every building, micro-grid by micro-grid."""
    lo, hi = BUILDING_SIZE
    typical = rng.uniform(*_TYPICAL, size=len(counts))
    fewest = np.maximum(-(-counts // hi), 1)
    most = np.maximum(counts // lo, fewest)
    per = np.clip(np.rint(counts / typical), fewest, most).astype(np.int64)
    per = np.minimum(np.where(counts > 0, per, 0), MAX_BUILDINGS)
    over = np.flatnonzero(counts > per * 999)
    if len(over):
        raise DemoBaseError(str(codes[over[0]]), int(counts[over[0]]))
    micro = np.repeat(np.arange(len(counts)), per)
    number = np.arange(len(micro)) - np.repeat(np.cumsum(per) - per, per)
    # The remainder of an even split goes to buildings picked at random in each micro-grid.
    order = np.lexsort((rng.random(len(micro)), micro))
    rank = np.empty(len(micro), dtype=np.int64)
    rank[order] = number
    base = counts[micro] // per[micro]
    sizes = base + (rank < counts[micro] % per[micro])
    return sizes.astype(np.int64), micro, number + 1


def _addresses(sizes: NDArray[np.int64], building_no: NDArray[np.int64],
               number: NDArray[np.int64], rng: np.random.Generator) -> list[str]:
    """``3栋2单元501``: units filled one after another, each floor by floor from the first."""
    units = rng.choice(_UNITS[0], size=len(sizes), p=_UNITS[1])
    rooms = rng.choice(_ROOMS[0], size=len(sizes), p=_ROOMS[1])
    floors = -(-sizes // (units * rooms))
    per_unit = np.repeat(floors * rooms, sizes)
    room_count = np.repeat(rooms, sizes)
    unit = number // per_unit + 1
    within = number % per_unit
    floor = within // room_count + 1
    room = within % room_count + 1
    flat = np.array([str(i) for i in range(int((floor * 100 + room).max(initial=0)) + 1)],
                    dtype=object)
    building = np.array([f"{b}栋" for b in range(MAX_BUILDINGS + 1)], dtype=object)
    units_text = np.array([f"{u}单元" for u in range(max(_UNITS[0]) + 1)], dtype=object)
    return (building[np.repeat(building_no, sizes)] + units_text[unit]
            + flat[floor * 100 + room]).tolist()


def _names(n: int, rng: np.random.Generator) -> list[str]:
    surnames = np.array(list(SURNAMES) + list(COMPOUND_SURNAMES), dtype=object)
    pick = rng.integers(len(SURNAMES), size=n)
    compound = rng.random(n) < _COMPOUND_SHARE
    pick[compound] = len(SURNAMES) + rng.integers(len(COMPOUND_SURNAMES),
                                                  size=int(compound.sum()))
    given = np.array(list(GIVEN), dtype=object)
    first = given[rng.integers(len(GIVEN), size=n)]
    second = np.where(rng.random(n) < 0.7, given[rng.integers(len(GIVEN), size=n)], "")
    return (surnames[pick] + first + second).tolist()


def _tags(members: NDArray[np.int16], rng: np.random.Generator) -> NDArray[np.uint8]:
    """A bit mask per household: each tag drawn over the households it fits, at most two."""
    n = len(members)
    draw = rng.random((n, len(TAGS)))
    bits = np.zeros((n, len(TAGS)), dtype=bool)
    for j, tag in enumerate(TAGS):
        fits = (members == 1 if tag in _ALONE else members >= 2 if tag in _FAMILY
                else np.ones(n, dtype=bool))
        share = min(1.0, TAG_RATES[tag] * n / max(int(fits.sum()), 1))
        bits[:, j] = fits & (draw[:, j] < share)
    bits &= np.cumsum(bits, axis=1) <= MAX_TAGS
    weights = (1 << np.arange(len(TAGS))).astype(np.uint8)
    return (bits.astype(np.uint8) * weights).sum(axis=1).astype(np.uint8)


# --- the cached demo file -----------------------------------------------------------------

#: The cache file's columns. No cell of the demo base holds a comma, a quote or a line
#: break, so the file is plain CSV without quoting, and is read back by splitting.
_COLUMNS = ("id", "address", "head", "phone", "members", "tag_bits")


def base_path(cache_dir: Path, grids: GridSet, *, seed: int) -> Path:
    return (Path(cache_dir)
            / f"demo-households-v{DEMO_VERSION}-{grids.digest}-seed{seed}.csv.gz")


def demo_table(cache_dir: Path, grids: GridSet, *, seed: int) -> HouseholdTable:
    """The demo base for ``grids`` as columns, built once into the cache, read back after
    (a cache file that does not read back whole is built again)."""
    path = base_path(cache_dir, grids, seed=seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    with file_lock(path.with_suffix(".lock")):
        if path.exists():
            try:
                return _read(path)
            except (OSError, EOFError, ValueError):
                path.unlink()
        table = generate(grids, seed=seed)
        _write(table, path)
        return table


def demo_households(cache_dir: Path, grids: GridSet, *, seed: int) -> list[Household]:
    """The demo base as models (seconds for the whole district; ``demo_table`` is faster)."""
    return demo_table(cache_dir, grids, seed=seed).households()


def ensure_demo_households(store: HouseholdStore, vault: Vault, grids: GridSet,
                           cache_dir: Path, seed: int) -> int:
    """Load the demo base into an empty store; 0 when the store holds households already."""
    if store.count():
        return 0
    return store.replace_all(demo_table(cache_dir, grids, seed=seed), vault=vault)


def _write(table: HouseholdTable, path: Path) -> None:
    """The cache file, written whole or not at all."""
    lines = map(",".join, zip(table.ids, table.address, table.head, table.phone,
                              table.members.astype(str).tolist(),
                              table.tags.astype(str).tolist(), strict=True))
    text = ",".join(_COLUMNS) + "\n" + "\n".join(lines) + "\n"
    if text.count(",") != (len(_COLUMNS) - 1) * (len(table) + 1) or '"' in text:
        raise ValueError("a demo household's cell holds a comma or a quote")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(gzip.compress(text.encode(), compresslevel=1, mtime=0))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _read(path: Path) -> HouseholdTable:
    """The table ``_write`` wrote; ValueError when the file is not one."""
    cells = gzip.decompress(path.read_bytes()).decode().replace("\n", ",").split(",")
    width = len(_COLUMNS)
    if cells.pop() != "" or len(cells) % width or tuple(cells[:width]) != _COLUMNS:
        raise ValueError(f"{path} is not a demo household file")
    column = {name: cells[width + k::width] for k, name in enumerate(_COLUMNS)}
    return HouseholdTable(ids=column["id"], address=column["address"], head=column["head"],
                          phone=column["phone"],
                          members=np.array(list(map(int, column["members"])), dtype=np.int16),
                          tags=np.array(list(map(int, column["tag_bits"])), dtype=np.uint8))
