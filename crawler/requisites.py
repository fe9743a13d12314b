"""Page requisites, pure: what a stylesheet loads, what kind a URL is, and what a served file
is when it is not what it claims (a decompression bomb, an SVG with scripts).

Nothing here touches the network or Scrapy: the requisites stage (`pipelines.requisites`)
and the extractors call these on text and bytes they already hold.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from crawler.items import Requisite

#: Extensions of font files (what a stylesheet's `url()` loads for `@font-face`).
FONT_EXTENSIONS = (".woff2", ".woff", ".ttf", ".otf", ".eot")
#: Extensions of images a stylesheet may load (backgrounds, sprites).
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".gif", ".webp", ".avif", ".svg", ".ico", ".bmp")

_COMMENT = re.compile(r"/\*.*?\*/", re.S)
_IMPORT = re.compile(r"""@import\s+(?:url\(\s*)?(?:"([^"]*)"|'([^']*)'|([^\s;)'"]+))""", re.I)
_URL = re.compile(r"""url\(\s*(?:"([^"]*)"|'([^']*)'|([^)'"]*?))\s*\)""", re.I)
_FONT_FACE = re.compile(r"@font-face\s*\{([^}]*)\}", re.I)
#: A stylesheet is read only this far for its references (a 2 GB one is cut before us anyway).
CSS_READ_LIMIT = 4_000_000


def _resolve(ref: str, base: str) -> str | None:
    """`ref` made absolute against `base`; None for data:, blob:, in-page and odd URLs."""
    ref = ref.strip()
    if not ref or ref.startswith(("data:", "blob:", "#", "javascript:", "about:")):
        return None
    try:
        url = urljoin(base, ref)
    except ValueError:
        return None
    return url if url.startswith(("http://", "https://")) else None


def css_references(css: str, base: str) -> tuple[list[str], list[tuple[str, Requisite]]]:
    """(@imported stylesheets, [(url, kind)] of the fonts and images `url()` loads), in order.

    Comments are skipped; data: URIs stay where they are. The text is read up to
    CSS_READ_LIMIT characters.
    """
    css = _COMMENT.sub("", css[:CSS_READ_LIMIT])
    imports: dict[str, None] = {}
    for match in _IMPORT.finditer(css):
        url = _resolve(next(g for g in match.groups() if g is not None), base)
        if url:
            imports.setdefault(url, None)
    fonts = {m.group(0) for face in _FONT_FACE.finditer(css) for m in _URL.finditer(face.group(1))}
    loads: dict[str, Requisite] = {}
    for match in _URL.finditer(css):
        url = _resolve(next(g for g in match.groups() if g is not None), base)
        if not url or url in imports:
            continue
        kind = Requisite.FONT if match.group(0) in fonts else kind_of(url, Requisite.STYLE_IMAGE)
        loads.setdefault(url, kind)
    return list(imports), list(loads.items())


def kind_of(url: str, default: Requisite) -> Requisite:
    """A URL's kind told by its extension (fonts, stylesheets, images), else `default`."""
    path = urlsplit(url).path.lower()
    if path.endswith(FONT_EXTENSIONS):
        return Requisite.FONT
    if path.endswith(".css"):
        return Requisite.STYLESHEET
    if path.endswith(IMAGE_EXTENSIONS):
        return Requisite.STYLE_IMAGE if default == Requisite.STYLE_IMAGE else Requisite.IMAGE
    return default


def srcset_candidates(srcset: str) -> list[tuple[str, str]]:
    """(URL, descriptor) of each candidate of a `srcset`, as the HTML standard splits it: a URL
    runs to the next whitespace (commas inside it stay), its descriptors to the next comma."""
    out: list[tuple[str, str]] = []
    i, n = 0, len(srcset)
    while i < n:
        while i < n and (srcset[i].isspace() or srcset[i] == ","):
            i += 1
        start = i
        while i < n and not srcset[i].isspace():
            i += 1
        url, descriptor = srcset[start:i], ""
        if url.endswith(","):
            url = url.rstrip(",")
        else:
            start = i
            while i < n and srcset[i] != ",":
                i += 1
            descriptor = srcset[start:i].strip()
            i += 1
        if url:
            out.append((url, descriptor))
    return out


def srcset_best(srcset: str) -> str | None:
    """The largest candidate of a `srcset` (by width, else density); None when empty."""
    best: tuple[float, str] | None = None
    for url, descriptor in srcset_candidates(srcset or ""):
        if url.startswith("data:"):
            continue
        match = re.match(r"^([\d.]+)[wx]$", descriptor.split()[0] if descriptor else "")
        try:
            weight = float(match.group(1)) if match else 1.0
        except ValueError:
            weight = 1.0
        if best is None or weight > best[0]:
            best = (weight, url)
    return best[1] if best else None


# -- what a served file is --------------------------------------------------------------------


def image_size(body: bytes) -> tuple[str, int, int] | None:
    """(format, width, height) an image's header declares (PNG, GIF, JPEG, WebP), else None.

    Read from the first bytes only: nothing is decoded.
    """
    head = body[:65536]
    if head.startswith(b"\x89PNG\r\n\x1a\n") and head[12:16] == b"IHDR" and len(head) >= 24:
        width, height = struct.unpack(">II", head[16:24])
        return "PNG", width, height
    if head[:6] in (b"GIF87a", b"GIF89a") and len(head) >= 10:
        width, height = struct.unpack("<HH", head[6:10])
        return "GIF", width, height
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP" and len(head) >= 30:
        chunk = head[12:16]
        if chunk == b"VP8X":
            width = 1 + int.from_bytes(head[24:27], "little")
            height = 1 + int.from_bytes(head[27:30], "little")
            return "WebP", width, height
        if chunk == b"VP8 " and len(head) >= 30:
            width, height = struct.unpack("<HH", head[26:30])
            return "WebP", width & 0x3FFF, height & 0x3FFF
        if chunk == b"VP8L" and len(head) >= 25:
            bits = int.from_bytes(head[21:25], "little")
            return "WebP", (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if head.startswith(b"\xff\xd8"):
        return _jpeg_size(head)
    return None


def _jpeg_size(head: bytes) -> tuple[str, int, int] | None:
    """Width and height of a JPEG's first start-of-frame segment."""
    i = 2
    while i + 9 < len(head):
        if head[i] != 0xFF:
            return None
        marker = head[i + 1]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            i += 2
            continue
        length = int.from_bytes(head[i + 2 : i + 4], "big")
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", head[i + 5 : i + 9])
            return "JPEG", width, height
        i += 2 + length
    return None


_SVG = re.compile(rb"<svg[\s>]", re.I)
_SVG_ACTIVE = re.compile(
    rb"<script[\s>/]|\son[a-z]+\s*=|javascript:|<foreignObject[\s>]|<!ENTITY", re.I
)


def svg_active(body: bytes) -> str | None:
    """What makes an SVG active content (scripts, event handlers, javascript: links, embedded
    HTML, entity declarations), else None. Scanned as bytes: the XML is never parsed, so an
    entity bomb expands nowhere."""
    head = body[:4096]
    if not _SVG.search(head) and b"<?xml" not in head[:100]:
        return None
    found = sorted(
        {
            m.group(0).strip().lower().rstrip(b"=").decode("ascii", "replace").strip()
            for m in _SVG_ACTIVE.finditer(body[:CSS_READ_LIMIT])
        }
    )
    if not found:
        return None
    return ", ".join(_name(f) for f in found[:4])


def _name(token: str) -> str:
    if token.startswith("<script"):
        return "<script>"
    if token.startswith("<foreignobject"):
        return "<foreignObject>"
    if token.startswith("<!entity"):
        return "<!ENTITY>"
    if token.startswith("javascript"):
        return "javascript: URL"
    return f"{token.split('=')[0].strip()} handler"


def inspect(body: bytes, max_pixels: int) -> tuple[bool, str] | None:
    """(refuse?, reason) for a served file that is not a plain image, else None.

    A raster image whose header declares more than `max_pixels` is a decompression bomb
    (refused: a viewer would inflate it to gigabytes); an SVG with active content is kept as
    served (an <img> never runs it) and noted.
    """
    size = image_size(body)
    if size is not None:
        kind, width, height = size
        if width * height > max_pixels:
            return True, (
                f"decompression bomb: {kind} of {width}×{height} pixels is over "
                f"REQUISITES_MAX_PIXELS ({max_pixels})"
            )
        return None
    active = svg_active(body)
    if active:
        return False, f"SVG with active content ({active}): stored as served, never run here"
    return None


@dataclass
class Budget:
    """The bytes a page's requisites may take: reserved before each download, settled after.

    Reservations never add up to more than `limit`, so the downloads of one page stay within
    it even when several run at once.
    """

    limit: int
    used: int = 0
    reserved: int = 0

    def reserve(self, wanted: int) -> int:
        """Up to `wanted` bytes of what is left (0: nothing is)."""
        grant = max(0, min(wanted, self.limit - self.used - self.reserved))
        self.reserved += grant
        return grant

    def settle(self, granted: int, spent: int) -> None:
        """A download that was granted `granted` bytes took `spent`."""
        self.reserved -= granted
        self.used += min(spent, granted) if granted else spent
