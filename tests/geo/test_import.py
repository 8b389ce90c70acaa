"""The same grid imports identically from every format, CRS, datum and encoding it comes in."""

from __future__ import annotations

import json
import os
from pathlib import Path

import geopandas as gpd
import prcoords
import pyogrio
import pyproj
import pytest
import shapely

from geo.catalog import load_grid_set
from geo.crs import CoordSystem
from geo.io import (
    FIXED_GDAL_DATE,
    LAYER,
    FileErrorKind,
    GridFileError,
    UnknownEncodingError,
    UnknownFieldError,
    load_canonical,
    read_grid_file,
    write_grid_file,
)
from geo.model import WGS84, Tier
from geo.validate import import_grids
from tests.geo import factories as f

#: Field names as a Chinese desktop GIS export has them (dBASE truncates names to 10 bytes).
CHINESE_FIELDS = {
    "code": "网格编码",
    "name": "网格名称",
    "tier": "网格层级",
    "parent_code": "parent_cod",
    "households": "户数",
    "residents": "人口",
}
TIER_LABELS = {t.value: t.label_zh for t in Tier}
#: CGCS2000 / 3-degree Gauss-Kruger CM 105E, the projected CRS Chengdu surveys use.
GK = "EPSG:4544"


@pytest.fixture
def grid() -> gpd.GeoDataFrame:
    return f.small_grid()


def assert_same_grid(imported: gpd.GeoDataFrame, original: gpd.GeoDataFrame) -> None:
    assert list(imported.columns) == [
        "code", "name", "tier", "parent_code", "households", "residents", "geometry",
    ]  # fmt: skip
    assert imported.crs == "EPSG:4326"
    mine, theirs = imported.set_index("code"), original.set_index("code")
    assert sorted(mine.index) == sorted(theirs.index)
    for column in ("name", "tier", "parent_code", "households", "residents"):
        assert mine[column].to_dict() == theirs[column].to_dict(), column
    distance = max(f.hausdorff_m(mine.geometry[c], theirs.geometry[c]) for c in theirs.index)
    assert distance <= 0.5


def assert_imports_as(path: Path, original: gpd.GeoDataFrame, **options) -> None:
    result = import_grids(path, **options)
    assert result.problems == []
    assert result.counts == {Tier.TOTAL: 2, Tier.GENERAL: 4, Tier.MICRO: 10}
    assert_same_grid(result.grids, original)


def write_gbk_shapefile(frame: gpd.GeoDataFrame, path: Path, *, ldid: int = 0) -> None:
    """A Shapefile as Chinese desktop GIS writes it: GBK table, no .cpg, no language driver."""
    frame.to_file(path, engine="pyogrio", encoding="GBK")
    path.with_suffix(".cpg").unlink()
    dbf = bytearray(path.with_suffix(".dbf").read_bytes())
    dbf[29] = ldid
    path.with_suffix(".dbf").write_bytes(bytes(dbf))


def chinese_export(grid: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Chinese field names, Chinese tier labels, and codes in a numeric field."""
    out = grid.assign(tier=grid["tier"].map(TIER_LABELS), code=grid["code"].astype("int64"))
    return out.rename(columns=CHINESE_FIELDS)


def test_geojson_wgs84(tmp_path: Path, grid: gpd.GeoDataFrame) -> None:
    grid.to_file(tmp_path / "grids.geojson", engine="pyogrio")
    assert_imports_as(tmp_path / "grids.geojson", grid)


def test_geopackage_cgcs2000_second_layer(tmp_path: Path, grid: gpd.GeoDataFrame) -> None:
    path = tmp_path / "survey.gpkg"
    grid.iloc[:2].to_file(path, layer="streets", engine="pyogrio")
    grid.to_crs("EPSG:4490").to_file(path, layer="网格_cgcs2000", engine="pyogrio")
    assert [name for name, _ in pyogrio.list_layers(path)] == ["streets", "网格_cgcs2000"]
    assert_imports_as(path, grid, layer="网格_cgcs2000")


@pytest.mark.parametrize("ldid", [0x00, 0x57], ids=["no-language-driver", "ansi"])
def test_shapefile_gauss_kruger_gbk_without_cpg(
    tmp_path: Path, grid: gpd.GeoDataFrame, ldid: int
) -> None:
    path = tmp_path / "网格.shp"
    write_gbk_shapefile(chinese_export(grid).to_crs(GK), path, ldid=ldid)
    assert not path.with_suffix(".cpg").exists()
    assert path.with_suffix(".dbf").read_bytes()[29] == ldid
    assert "网格编码" not in pyogrio.read_info(path)["fields"]  # GDAL alone reads mojibake
    assert_imports_as(path, grid, fields=CHINESE_FIELDS)


def test_shapefile_utf8_without_cpg(tmp_path: Path, grid: gpd.GeoDataFrame) -> None:
    path = tmp_path / "grids.shp"
    grid.rename(columns={"parent_code": "parent_cod"}).to_file(path, engine="pyogrio")
    path.with_suffix(".cpg").unlink()
    assert_imports_as(path, grid, fields={"parent_code": "parent_cod"})


def test_shapefile_with_cpg_is_left_to_gdal(tmp_path: Path, grid: gpd.GeoDataFrame) -> None:
    path = tmp_path / "grids.shp"
    chinese_export(grid).to_file(path, engine="pyogrio", encoding="GBK")
    assert path.with_suffix(".cpg").read_text().strip() == "GBK"
    assert_imports_as(path, grid, fields=CHINESE_FIELDS)


def test_encoding_overrides_detection(tmp_path: Path, grid: gpd.GeoDataFrame) -> None:
    path = tmp_path / "grids.shp"
    write_gbk_shapefile(grid.rename(columns={"parent_code": "parent_cod"}), path)
    fields = {"parent_code": "parent_cod"}
    mangled = read_grid_file(path, fields=fields, encoding="big5")
    assert not set(mangled["name"]) & set(grid["name"])
    assert_imports_as(path, grid, fields=fields, encoding="gb18030")


def test_gauss_kruger_t_junctions_stay_closed(tmp_path: Path) -> None:
    """A child corner on its parent's 3 km straight edge in the file is still on it in lon/lat.

    Reprojected vertex by vertex, that edge would bow about 10 cm away from the corner and
    open a sliver of some 200 m² between the tiers.
    """
    x0, y0 = pyproj.Transformer.from_crs(WGS84, GK, always_xy=True).transform(103.9, 30.8)
    west = shapely.box(x0, y0, x0 + 1234, y0 + 2000)
    east = shapely.box(x0 + 1234, y0, x0 + 3000, y0 + 2000)
    rows = [
        ("51011700100100", "总网格", "total", "", shapely.box(x0, y0, x0 + 3000, y0 + 2000)),
        ("51011700100101", "西片", "general", "51011700100100", west),
        ("51011700100102", "东片", "general", "51011700100100", east),
        ("51011700100101001", "西片微网格", "micro", "51011700100101", west),
        ("51011700100102001", "东片微网格", "micro", "51011700100102", east),
    ]
    frame = gpd.GeoDataFrame(
        rows, columns=["code", "name", "tier", "parent_code", "geometry"], crs=GK
    )
    frame.to_file(tmp_path / "gk.gpkg")
    result = import_grids(tmp_path / "gk.gpkg")
    assert result.problems == [] and result.ok


def test_geojson_without_crs_declared_cgcs2000(tmp_path: Path, grid: gpd.GeoDataFrame) -> None:
    path = tmp_path / "grids.geojson"
    path.write_text(grid.to_json(ensure_ascii=False), encoding="utf-8")
    assert "crs" not in json.loads(path.read_text(encoding="utf-8"))
    assert_imports_as(path, grid, crs="EPSG:4490")


@pytest.mark.parametrize(
    ("coords", "offset"),
    [(CoordSystem.GCJ02, prcoords.wgs_gcj), (CoordSystem.BD09, prcoords.wgs_bd)],
)
def test_offset_datums(tmp_path: Path, grid: gpd.GeoDataFrame, coords, offset) -> None:
    path = tmp_path / f"{coords}.geojson"
    grid.assign(geometry=f.per_vertex(grid.geometry.values, offset)).to_file(path)
    assert_imports_as(path, grid, coords=coords)
    unconverted = read_grid_file(path)
    assert f.hausdorff_m(unconverted.geometry.iloc[0], grid.geometry.iloc[0]) > 100


def test_numbers_and_gaps_in_fields(tmp_path: Path, grid: gpd.GeoDataFrame) -> None:
    """Codes read as floats lose ".0", missing parents become "", absent counts become 0.

    Only codes of up to 15 digits survive a float; 17-digit micro-grid codes stay text here,
    which also makes "code" a field of mixed type.
    """
    doc = json.loads(grid.drop(columns=["households", "residents"]).to_json())
    for feature in doc["features"]:
        props = feature["properties"]
        if len(props["code"]) <= 15:
            props["code"] = float(props["code"])
        props["parent_code"] = props["parent_code"] or None
        props["tier"] = {"total": 1, "general": 2, "micro": 3}[props["tier"]]
    path = tmp_path / "grids.geojson"
    path.write_text(json.dumps(doc), encoding="utf-8")
    out = read_grid_file(path)
    assert out["code"].tolist() == grid["code"].tolist()
    assert out["parent_code"].tolist() == grid["parent_code"].tolist()
    assert out["tier"].tolist() == grid["tier"].tolist()
    assert out["households"].tolist() == [0] * len(grid) and out["households"].dtype == "int64"


def test_attribute_table_without_geometry(tmp_path: Path, grid: gpd.GeoDataFrame) -> None:
    path = tmp_path / "table.gpkg"
    pyogrio.write_dataframe(grid.drop(columns="geometry"), path)
    out = read_grid_file(path)
    assert len(out) == len(grid) and out.geometry.isna().all()


def test_unparseable_tier_is_kept_raw(tmp_path: Path, grid: gpd.GeoDataFrame) -> None:
    grid.assign(tier="楼栋").to_file(tmp_path / "grids.geojson")
    assert set(read_grid_file(tmp_path / "grids.geojson")["tier"]) == {"楼栋"}


def error(path: Path, **options) -> GridFileError:
    with pytest.raises(GridFileError) as caught:
        read_grid_file(path, **options)
    assert caught.value.path == path
    return caught.value


def test_missing_mapped_field(tmp_path: Path, grid: gpd.GeoDataFrame) -> None:
    path = tmp_path / "grids.geojson"
    grid.to_file(path)
    err = error(path, fields={"code": "网格编码"})
    assert err.kind is FileErrorKind.MISSING_FIELD and err.fields == ("网格编码",)
    assert "网格编码" in err.message and "parent_code, households" in err.message


def test_mapping_unknown_canonical_field(tmp_path: Path, grid: gpd.GeoDataFrame) -> None:
    grid.to_file(tmp_path / "grids.geojson")
    with pytest.raises(UnknownFieldError) as caught:
        read_grid_file(tmp_path / "grids.geojson", fields={"编码": "code"})
    assert caught.value.field == "编码"


def test_absent_canonical_fields_are_all_named(tmp_path: Path, grid: gpd.GeoDataFrame) -> None:
    path = tmp_path / "grids.geojson"
    grid.drop(columns=["tier", "parent_code"]).to_file(path)
    err = error(path)
    assert err.kind is FileErrorKind.MISSING_FIELD and err.fields == ("tier", "parent_code")
    assert "tier" in str(err) and "parent_code" in str(err)


def test_unknown_layer_and_ambiguous_layers(tmp_path: Path, grid: gpd.GeoDataFrame) -> None:
    path = tmp_path / "two.gpkg"
    grid.to_file(path, layer="a")
    grid.to_file(path, layer="b")
    err = error(path, layer="c")
    assert err.kind is FileErrorKind.UNREADABLE and "'c'" in err.message
    err = error(path)
    assert err.kind is FileErrorKind.UNREADABLE and "(a, b)" in err.message
    assert "--layer NAME" in err.message


def test_unknown_encoding_is_named(tmp_path: Path, grid: gpd.GeoDataFrame) -> None:
    grid.to_file(tmp_path / "grids.geojson", engine="pyogrio")
    with pytest.raises(UnknownEncodingError) as caught:
        read_grid_file(tmp_path / "grids.geojson", encoding="nope")
    assert caught.value.encoding == "nope" and "'nope'" in str(caught.value)


def not_canonical(path: Path) -> GridFileError:
    with pytest.raises(GridFileError) as caught:
        load_canonical(path)
    assert caught.value.path == path
    assert "not a canonical grid file" in caught.value.message
    assert f"grid-dispatch grids import {path} --out OUT.gpkg" in caught.value.message
    return caught.value


def test_raw_export_is_not_canonical(tmp_path: Path, grid: gpd.GeoDataFrame) -> None:
    path = tmp_path / "export.geojson"
    grid.to_file(path, engine="pyogrio")
    assert "no layer 'grids' (layers: export)" in not_canonical(path).message
    with pytest.raises(GridFileError) as caught:
        load_grid_set(path, synthetic=False)
    assert "not a canonical grid file" in str(caught.value)


def test_canonical_layout_is_checked(tmp_path: Path, grid: gpd.GeoDataFrame) -> None:
    path = tmp_path / "grids.gpkg"
    grid.drop(columns=["name", "residents"]).to_crs(GK).to_file(path, layer=LAYER)
    err = not_canonical(path)
    assert err.fields == ("name", "residents")
    assert "no field(s) name, residents" in err.message and f"CRS {GK}, not WGS-84" in err.message


def test_canonical_tier_values_are_checked(tmp_path: Path, grid: gpd.GeoDataFrame) -> None:
    path = tmp_path / "grids.gpkg"
    grid.assign(tier=grid["tier"].map(TIER_LABELS)).to_file(path, layer=LAYER)
    assert "tier values '一般网格', '微网格', '总网格'" in not_canonical(path).message


def test_missing_canonical_file_is_named_once(tmp_path: Path) -> None:
    with pytest.raises(GridFileError) as caught:
        load_canonical(tmp_path / "gone.gpkg")
    assert str(caught.value) == f"{tmp_path / 'gone.gpkg'}: no such file"


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("missing.gpkg", None),
        ("corrupt.gpkg", b"SQLite format 3\x00" + bytes(range(256)) * 8),
        ("corrupt.geojson", b'{"type": "FeatureCollection", "features": [{"type": '),
        ("corrupt.shp", b"\x00\x00\x27\x0a" + b"\xff" * 200),
    ],
    ids=["missing", "corrupt-gpkg", "truncated-geojson", "corrupt-shp"],
)
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_unreadable_files(tmp_path: Path, name: str, content: bytes | None) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    assert error(path).kind is FileErrorKind.UNREADABLE


def test_declared_crs_conflicting_with_file(tmp_path: Path, grid: gpd.GeoDataFrame) -> None:
    path = tmp_path / "grids.gpkg"
    grid.to_crs(GK).to_file(path)
    err = error(path, crs="EPSG:4490")
    assert GK in err.message and "EPSG:4490" in err.message
    assert_imports_as(path, grid, crs=GK)


def test_write_is_byte_reproducible(tmp_path: Path, grid: gpd.GeoDataFrame) -> None:
    first = write_grid_file(grid, tmp_path / "first.gpkg").read_bytes()
    again = write_grid_file(grid, tmp_path / "again.gpkg").read_bytes()
    assert first == again
    reloaded = write_grid_file(load_canonical(tmp_path / "first.gpkg"), tmp_path / "re.gpkg")
    assert reloaded.read_bytes() == first
    assert pyogrio.get_gdal_config_option("OGR_CURRENT_DATE") != FIXED_GDAL_DATE


def test_write_replaces_atomically_and_reads_back(tmp_path: Path, grid: gpd.GeoDataFrame) -> None:
    path = tmp_path / "grids.gpkg"
    write_grid_file(grid.iloc[:3], path)
    write_grid_file(grid, path)
    assert sorted(os.listdir(tmp_path)) == ["grids.gpkg"]
    assert [name for name, _ in pyogrio.list_layers(path)] == [LAYER]
    back = load_canonical(path)
    assert_same_grid(back, grid)
    assert back["code"].tolist() == grid["code"].tolist()
    assert (back.geometry.values == grid.geometry.values).all()
