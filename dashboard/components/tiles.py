"""Background tile presets. None by default: the map works with no request off its own host."""

from __future__ import annotations

import dash_leaflet as dl

from dashboard.settings import Settings, TilePreset

_PRESETS = {
    TilePreset.OSM: ("https://tile.openstreetmap.org/{z}/{x}/{y}.png",
                     "© OpenStreetMap contributors"),
    # Tianditu vector tiles (CGCS2000 ≈ WGS-84 at metre level); needs the site's key.
    TilePreset.TIANDITU: ("https://t0.tianditu.gov.cn/vec_w/wmts?SERVICE=WMTS&REQUEST=GetTile"
                          "&VERSION=1.0.0&LAYER=vec&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
                          "&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk=%s", "© 天地图"),
    # Amap tiles are GCJ-02: the overlays are shifted to match (see runtime.payloads).
    TilePreset.AMAP: ("https://webrd01.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1"
                      "&style=8&x={x}&y={y}&z={z}", "© 高德地图"),
}


def tile_layers(settings: Settings) -> list:
    preset = settings.tiles
    if preset is TilePreset.NONE:
        return []
    if preset is TilePreset.LOCAL:
        return [dl.TileLayer(url="/tiles/{z}/{x}/{y}.png", maxZoom=19, opacity=0.6)]
    url, attribution = _PRESETS[preset]
    if preset is TilePreset.TIANDITU:
        url = url % settings.tianditu_key
    if settings.tiles_url:
        url = settings.tiles_url
    return [dl.TileLayer(url=url, attribution=attribution, maxZoom=18, opacity=0.6)]
