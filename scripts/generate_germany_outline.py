"""Derive the small outline of Germany that `lobu.shared.germany_map` draws.

Source: Natural Earth 1:50m "Admin 0 – Countries" (version 4.1.0, public domain), as
redistributed in TopoJSON by the npm package `world-atlas` 2.0.2 (file
`countries-50m.json`, ISC licence for the packaging). Germany is the feature with the
ISO 3166-1 numeric id 276. The rings are decoded from the TopoJSON arcs, simplified with
Douglas-Peucker (tolerance below) and rounded to three decimals (about 100 m), which
keeps the file at a few kilobytes. Natural Earth has no Länder borders at 1:50m in
world-atlas, so the map shows the national outline only.

Usage (npm fetches the package; nothing else touches the network):

    python scripts/generate_germany_outline.py            # runs `npm pack world-atlas@2.0.2`
    python scripts/generate_germany_outline.py path/to/countries-50m.json
"""

from __future__ import annotations

import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

PACKAGE = "world-atlas@2.0.2"
GERMANY = "276"
TOLERANCE_DEGREES = 0.02  # about 2 km: invisible at the size the pages draw the map
TARGET = Path(__file__).resolve().parents[1] / "shared/src/lobu/shared/data/germany.json"

Point = tuple[float, float]


def fetch_topology() -> dict[str, Any]:
    """Fetch world-atlas with npm into a temporary folder and read countries-50m.json."""
    with tempfile.TemporaryDirectory() as folder:
        command = ["npm", "pack", PACKAGE, "--silent"]  # npm from PATH, fixed arguments
        subprocess.run(command, cwd=folder, check=True)  # noqa: S603
        archive = next(Path(folder).glob("world-atlas-*.tgz"))
        with tarfile.open(archive) as tar:
            member = tar.extractfile("package/countries-50m.json")
            if member is None:
                raise SystemExit(f"{PACKAGE} has no countries-50m.json")
            return json.load(member)


def decode_arcs(topology: dict[str, Any]) -> list[list[Point]]:
    """The topology's arcs as absolute (lon, lat) points (undo the delta quantisation)."""
    transform = topology["transform"]
    (kx, ky), (dx, dy) = transform["scale"], transform["translate"]
    arcs: list[list[Point]] = []
    for arc in topology["arcs"]:
        x = y = 0
        points: list[Point] = []
        for step_x, step_y in arc:
            x, y = x + step_x, y + step_y
            points.append((x * kx + dx, y * ky + dy))
        arcs.append(points)
    return arcs


def ring(indexes: list[int], arcs: list[list[Point]]) -> list[Point]:
    """One ring from arc indexes (a negative index ~i is arc i reversed)."""
    points: list[Point] = []
    for index in indexes:
        arc = arcs[index] if index >= 0 else arcs[~index][::-1]
        points.extend(arc if not points else arc[1:])
    return points


def simplify(points: list[Point], tolerance: float) -> list[Point]:
    """Douglas-Peucker: drop the points closer than `tolerance` to the line they sit on."""
    if len(points) < 3:
        return points
    (x1, y1), (x2, y2) = points[0], points[-1]
    length = ((x2 - x1) ** 2 + (y2 - y1) ** 2) ** 0.5
    best, far = 0.0, 0
    for i, (x, y) in enumerate(points[1:-1], start=1):
        if length == 0:
            distance = ((x - x1) ** 2 + (y - y1) ** 2) ** 0.5
        else:
            distance = abs((y2 - y1) * x - (x2 - x1) * y + x2 * y1 - y2 * x1) / length
        if distance > best:
            best, far = distance, i
    if best <= tolerance:
        return [points[0], points[-1]]
    return simplify(points[: far + 1], tolerance)[:-1] + simplify(points[far:], tolerance)


def germany_rings(topology: dict[str, Any]) -> list[list[Point]]:
    """Germany's outer rings (mainland and islands), simplified; tiny islets dropped."""
    arcs = decode_arcs(topology)
    countries = topology["objects"]["countries"]["geometries"]
    feature = next(item for item in countries if str(item.get("id")) == GERMANY)
    polygons = feature["arcs"] if feature["type"] == "MultiPolygon" else [feature["arcs"]]
    rings = []
    for polygon in polygons:
        # A closed ring: simplify its two halves so that the end points stay fixed.
        outer = ring(polygon[0], arcs)
        half = len(outer) // 2
        simple = simplify(outer[: half + 1], TOLERANCE_DEGREES)[:-1]
        simple += simplify(outer[half:], TOLERANCE_DEGREES)
        if len(simple) >= 4:
            rings.append([(round(x, 3), round(y, 3)) for x, y in simple])
    return rings


def main() -> None:
    """Write shared/src/lobu/shared/data/germany.json."""
    if len(sys.argv) > 1:
        topology = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    else:
        topology = fetch_topology()
    rings = germany_rings(topology)
    document = {
        "source": "Natural Earth 1:50m Admin 0 - Countries, v4.1.0, via npm world-atlas 2.0.2",
        "licence": "Natural Earth: public domain; world-atlas packaging: ISC",
        "generator": "scripts/generate_germany_outline.py",
        "tolerance_degrees": TOLERANCE_DEGREES,
        "rings": rings,
    }
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    TARGET.write_text(json.dumps(document, separators=(",", ":")) + "\n", encoding="utf-8")
    points = sum(len(item) for item in rings)
    print(f"{TARGET}: {len(rings)} rings, {points} points")


if __name__ == "__main__":
    main()
