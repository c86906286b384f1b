"""Render the application icon (wsinspector/resources/wsinspector.svg) into the files installers need.

    python packaging/icons.py [--out build/icons]

writes wsinspector-{16,...,512}.png, wsinspector.ico (Windows), wsinspector.icns (macOS) and a copy of the
SVG. Qt renders the SVG; Qt's own ico and icns writers store a single image per file, so the multi-size
containers are assembled here and then read back with Qt's readers as a check.
"""

from __future__ import annotations

import argparse
import os
import shutil
import struct
import sys
from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
from PySide6.QtGui import QGuiApplication, QImage, QImageReader, QImageWriter, QPainter
from PySide6.QtSvg import QSvgRenderer

ROOT = Path(__file__).resolve().parent.parent
SVG = ROOT / "wsinspector" / "resources" / "wsinspector.svg"
OUT = ROOT / "build" / "icons"
NAME = "wsinspector"

PNG_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
ICO_PNG_FROM = 128  # larger entries are stored as PNG, smaller ones as 32-bit bitmaps (read by every tool)
# icns element types holding PNG data, by pixel size; the @2x types repeat an image at double resolution
ICNS_TYPES = (
    (b"icp4", 16), (b"ic11", 32),
    (b"icp5", 32), (b"ic12", 64),
    (b"icp6", 64),
    (b"ic07", 128), (b"ic13", 256),
    (b"ic08", 256), (b"ic14", 512),
    (b"ic09", 512), (b"ic10", 1024),
)


def render(svg: Path, size: int) -> QImage:
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"icons: cannot read the SVG {svg}")
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    renderer.render(painter)
    painter.end()
    return image.convertToFormat(QImage.Format.Format_ARGB32)


def png_bytes(image: QImage) -> bytes:
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if not image.save(buffer, "PNG"):
        raise SystemExit("icons: Qt could not encode a PNG")
    buffer.close()
    return bytes(data.data())


def dib_bytes(image: QImage) -> bytes:
    """A 32-bit BGRA bitmap as an .ico entry stores it: header with double height, rows bottom-up, AND mask."""
    size = image.width()
    header = struct.pack("<IiiHHIIiiII", 40, size, size * 2, 1, 32, 0, 0, 0, 0, 0, 0)
    bits = bytes(image.constBits())  # ARGB32 is B, G, R, A in memory on little-endian machines
    stride = image.bytesPerLine()
    if sys.byteorder != "little":
        raise SystemExit("icons: bitmap entries are written on little-endian machines only")
    rows = b"".join(bits[y * stride:y * stride + size * 4] for y in reversed(range(size)))
    mask_stride = ((size + 31) // 32) * 4
    return header + rows + bytes(mask_stride * size)  # an all-zero mask: the alpha channel decides


def write_ico(images: dict[int, QImage], path: Path) -> None:
    entries = []
    for size in ICO_SIZES:
        image = images[size]
        entries.append((size, png_bytes(image) if size >= ICO_PNG_FROM else dib_bytes(image)))
    out = bytearray(struct.pack("<HHH", 0, 1, len(entries)))
    offset = 6 + 16 * len(entries)
    for size, data in entries:
        dim = 0 if size >= 256 else size  # 0 means 256
        out += struct.pack("<BBBBHHII", dim, dim, 0, 0, 1, 32, len(data), offset)
        offset += len(data)
    for _, data in entries:
        out += data
    path.write_bytes(bytes(out))


def write_icns(svg: Path, images: dict[int, QImage], path: Path) -> None:
    body = bytearray()
    for kind, size in ICNS_TYPES:
        data = png_bytes(images[size] if size in images else render(svg, size))
        body += kind + struct.pack(">I", len(data) + 8) + data
    path.write_bytes(b"icns" + struct.pack(">I", len(body) + 8) + bytes(body))


def check(path: Path, expected: set[int]) -> None:
    """Read a container back with Qt's image readers: every size must be there and decode."""
    reader = QImageReader(str(path))
    if not reader.canRead():
        raise SystemExit(f"icons: Qt cannot read {path} back ({reader.errorString()})")
    found = set()
    for index in range(reader.imageCount()):
        reader.jumpToImage(index)
        image = reader.read()
        if image.isNull():
            raise SystemExit(f"icons: image {index} of {path} does not decode ({reader.errorString()})")
        found.add(image.width())
    if not expected <= found:
        raise SystemExit(f"icons: {path} lacks sizes {sorted(expected - found)} (has {sorted(found)})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Render the application icon into PNG, .ico and .icns files.")
    parser.add_argument("--svg", type=Path, default=SVG, help=f"the source icon (default {SVG.relative_to(ROOT)})")
    parser.add_argument("--out", type=Path, default=OUT, help=f"output folder (default {OUT.relative_to(ROOT)})")
    args = parser.parse_args(argv)

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # no display needed
    app = QGuiApplication.instance() or QGuiApplication([NAME])  # noqa: F841 (Qt needs it for image plugins)
    formats = {bytes(f.data()).decode() for f in QImageWriter.supportedImageFormats()}
    missing = {"png", "ico", "icns"} - formats
    if missing:
        raise SystemExit(f"icons: Qt lacks the image format plugins {sorted(missing)}")

    args.out.mkdir(parents=True, exist_ok=True)
    images = {size: render(args.svg, size) for size in PNG_SIZES}
    written = []
    for size, image in images.items():
        path = args.out / f"{NAME}-{size}.png"
        path.write_bytes(png_bytes(image))
        written.append(path)
    ico = args.out / f"{NAME}.ico"
    write_ico(images, ico)
    check(ico, set(ICO_SIZES))
    icns = args.out / f"{NAME}.icns"
    write_icns(args.svg, images, icns)
    check(icns, {16, 32, 64, 128, 256, 512, 1024})
    svg_copy = args.out / f"{NAME}.svg"
    shutil.copyfile(args.svg, svg_copy)
    written += [ico, icns, svg_copy]
    for path in written:
        print(f"icons: {path} ({path.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
