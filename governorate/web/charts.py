"""Inline SVG drawings computed on the server: the fleet map and the van page's charts (no script, no tiles)."""

from __future__ import annotations

W, H = 600, 160


def bars(values: list[int | float], width: int = W, height: int = H) -> dict:
    top = max(values) if values and max(values) > 0 else 1
    step = width / max(len(values), 1)
    items = []
    for i, value in enumerate(values):
        h = (height - 20) * value / top
        items.append({"x": round(i * step + 1, 1), "y": round(height - 16 - h, 1), "w": round(step - 2, 1),
                      "h": round(h, 1), "value": value, "hour": i})
    return {"w": width, "h": height, "bars": items, "max": top, "total": sum(values)}


def line(points: list[tuple[float, float]], hours: int, width: int = W, height: int = H) -> dict:
    top = max((y for _, y in points), default=0) or 1
    coords = " ".join(f"{round(width * x / hours, 1)},{round(height - 16 - (height - 24) * y / top, 1)}"
                      for x, y in points)
    return {"w": width, "h": height, "points": coords, "max": top, "count": len(points),
            "last": points[-1][1] if points else None}


def _box(lats: list[float], lons: list[float], width: int, height: int, pad: float = 0.05):
    """A square lat/lon box around the points (same scale on both axes, so distances look right near enough at
    Egypt's latitudes): the projection ``xy(lat, lon)``, the frame and its lat/lon grid lines."""
    south, north = min(lats) - pad, max(lats) + pad
    west, east = min(lons) - pad, max(lons) + pad
    span = max(north - south, east - west)
    cy, cx = (north + south) / 2, (east + west) / 2
    south, north, west, east = cy - span / 2, cy + span / 2, cx - span / 2, cx + span / 2
    size = min(width, height) - 20
    ox, oy = (width - size) / 2, (height - size) / 2

    def xy(lat: float, lon: float) -> tuple[float, float]:
        return round(ox + size * (lon - west) / span, 1), round(oy + size * (north - lat) / span, 1)

    grid = []
    step = _nice_step(span)
    lat = (int(south / step) + 1) * step
    while lat < north:
        _, y = xy(lat, west)
        if y > oy + size - 16:  # would sit on the longitude labels
            lat += step
            continue
        grid.append({"x1": ox, "y1": y, "x2": ox + size, "y2": y, "label": f"{lat:.2f}°N", "lx": ox + 2, "ly": y - 2})
        lat += step
    lon = (int(west / step) + 1) * step
    while lon < east:
        x, _ = xy(south, lon)
        grid.append({"x1": x, "y1": oy, "x2": x, "y2": oy + size, "label": f"{lon:.2f}°E", "lx": x + 2,
                     "ly": oy + size - 2})
        lon += step
    return xy, {"x": ox, "y": oy, "size": size}, grid


def fleet_map(vans: list[dict], width: int = 520, height: int = 360) -> dict:
    """Vans placed by latitude/longitude in a box around them (with a lat/lon grid), no map tiles needed."""
    # Only positions on the globe: a van's figures are range-checked on the way in (governorate.admission),
    # and the drawing's loops and divisions are sized by the span, so they must never see anything else.
    placed = [v for v in vans if _on_globe(v["lat"], v["lon"])]
    if not placed:
        return {"w": width, "h": height, "markers": [], "grid": [], "empty": True}
    xy, frame, grid = _box([v["lat"] for v in placed], [v["lon"] for v in placed], width, height)
    markers = []
    for v in placed:
        x, y = xy(v["lat"], v["lon"])
        markers.append({"van": v["van"], "x": x, "y": y, "status": v["status"], "alerts": v["alerts"]})
    return {"w": width, "h": height, "markers": markers, "grid": grid, "empty": False, "frame": frame}


def demand_map(cells: list[dict], width: int = 520, height: int = 400, max_radius: float = 24.0) -> dict:
    """Demand by place: one circle per cell (governorate.performance.demand) at its centre, its area in proportion
    to the requests taken there, on the same tile-free lat/lon box as the fleet map."""
    placed = [c for c in cells if _on_globe(c["lat"], c["lon"]) and c["requests"] > 0]
    if not placed:
        return {"w": width, "h": height, "circles": [], "grid": [], "empty": True}
    xy, frame, grid = _box([c["lat"] for c in placed], [c["lon"] for c in placed], width, height, pad=0.02)
    most = max(c["requests"] for c in placed)
    circles = []
    for c in sorted(placed, key=lambda c: -c["requests"]):  # the big ones first, the small drawn over them
        x, y = xy(c["lat"], c["lon"])
        circles.append({"x": x, "y": y, "r": round(max(3.0, max_radius * (c["requests"] / most) ** 0.5), 1),
                        "requests": c["requests"], "vans": c["vans"], "lat": c["lat"], "lon": c["lon"]})
    return {"w": width, "h": height, "circles": circles, "grid": grid, "empty": False, "frame": frame}


def _on_globe(lat, lon) -> bool:
    return (isinstance(lat, int | float) and isinstance(lon, int | float) and -90 <= lat <= 90
            and -180 <= lon <= 180)


def _nice_step(span: float) -> float:
    """The smallest of 0.01, 0.02, 0.05, 0.1 … (1-2-5 steps) that draws at most 6 grid lines over ``span``."""
    step = 0.01
    while span / step > 6:
        for factor in (2, 2.5, 2):  # 0.01 → 0.02 → 0.05 → 0.1 → …
            step *= factor
            if span / step <= 6:
                break
    return step
