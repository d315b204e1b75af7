"""Render HTML pages in headless Chromium (Debian's `chromium`, installed by `make install`) for the tests.

`dump_dom` returns the DOM after the page's scripts ran (what a browser shows, not the file's text); `screenshot`
returns the decoded pixels of a PNG screenshot (stdlib only: zlib and the five PNG row filters), so a test can
check that a chart's colours were actually painted; `print_to_pdf` prints a page as staff would. Each run gets a
fresh profile directory and every network feature Chromium starts by itself is switched off.
"""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
import zlib
from dataclasses import dataclass
from pathlib import Path

FLAGS = (
    "--headless",
    "--no-sandbox",  # the tests run as root
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)
TIMEOUT_S = 120


def chromium() -> str:
    """The Chromium binary: $MUNIBOND_CHROMIUM, else `chromium` on the PATH, else /usr/bin/chromium."""
    found = os.environ.get("MUNIBOND_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(found).is_file():
        raise FileNotFoundError(
            f"{found}: headless Chromium is not installed (`make install` installs Debian's chromium as root)"
        )
    return found


def _run(page: Path, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    profile.mkdir(parents=True, exist_ok=False)  # a fresh profile every time
    return subprocess.run(
        [chromium(), *FLAGS, f"--user-data-dir={profile}", *args, page.resolve().as_uri()],
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=True,
    )


def dump_dom(page: Path, work: Path) -> str:
    """The serialized DOM of `page` once loaded and its scripts have run."""
    return _run(page, work / "profile-dom", "--dump-dom").stdout


def print_to_pdf(page: Path, work: Path) -> bytes:
    """`page` printed to PDF as Chromium prints it (no header or footer)."""
    out = work / "printed.pdf"
    _run(page, work / "profile-pdf", "--no-pdf-header-footer", f"--print-to-pdf={out}")
    return out.read_bytes()


def pdf_pages(pdf: bytes) -> int:
    """The number of page objects in a PDF Chromium wrote (`/Type /Page`, not `/Pages`)."""
    return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", pdf))


@dataclass(frozen=True)
class Pixels:
    width: int
    height: int
    rows: list[bytes]  # RGB or RGBA bytes per row
    channels: int

    def colours(self) -> set[tuple[int, int, int]]:
        """Every distinct RGB colour of the image."""
        n = self.channels
        return {tuple(row[i : i + 3]) for row in self.rows for i in range(0, len(row), n)}  # type: ignore[misc]

    def count_near(self, rgb: tuple[int, int, int], tolerance: int = 6) -> int:
        """How many pixels are within `tolerance` of `rgb` on every channel."""
        n, total = self.channels, 0
        for row in self.rows:
            for i in range(0, len(row), n):
                if all(abs(row[i + c] - rgb[c]) <= tolerance for c in range(3)):
                    total += 1
        return total


def screenshot(page: Path, work: Path, *, width: int = 900, height: int = 1000) -> Pixels:
    """A screenshot of `page` at `width` x `height`, decoded."""
    out = work / "screenshot.png"
    _run(page, work / "profile-png", f"--window-size={width},{height}", f"--screenshot={out}")
    return decode_png(out.read_bytes())


def decode_png(data: bytes) -> Pixels:
    """The pixels of an 8-bit RGB or RGBA, non-interlaced PNG (what Chromium writes)."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG file")
    offset, idat, header = 8, bytearray(), b""
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind = data[offset + 4 : offset + 8]
        body = data[offset + 8 : offset + 8 + length]
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            idat += body
        offset += 12 + length
    width, height, depth, colour, _compression, _filter, interlace = struct.unpack(">IIBBBBB", header)
    channels = {2: 3, 6: 4}.get(colour)
    if depth != 8 or channels is None or interlace:
        raise ValueError(f"unsupported PNG (depth {depth}, colour type {colour}, interlace {interlace})")
    raw = zlib.decompress(bytes(idat))
    stride = width * channels
    rows: list[bytes] = []
    previous = bytearray(stride)
    for y in range(height):
        kind = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for x in range(stride):
            left = line[x - channels] if x >= channels else 0
            up = previous[x]
            corner = previous[x - channels] if x >= channels else 0
            if kind == 1:
                line[x] = (line[x] + left) & 0xFF
            elif kind == 2:
                line[x] = (line[x] + up) & 0xFF
            elif kind == 3:
                line[x] = (line[x] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                predictor = left if pa <= pb and pa <= pc else up if pb <= pc else corner
                line[x] = (line[x] + predictor) & 0xFF
            elif kind != 0:
                raise ValueError(f"unknown PNG filter {kind} in row {y}")
        rows.append(bytes(line))
        previous = line
    return Pixels(width, height, rows, channels)
