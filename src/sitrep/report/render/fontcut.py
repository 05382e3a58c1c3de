"""Cutting the report's CJK font down to the characters a document shows, as WOFF.

HarfBuzz's subsetter (Debian's ``libharfbuzz-subset0``, which WeasyPrint uses for its PDFs too) cuts
the 8 MB Noto Sans SC in a few milliseconds; where that library is missing, fontTools makes the same
kind of cut in about 0.4 s.  Both keep their default layout features (kerning, ligatures, localised
forms, marks: what the text uses) and give the same bytes for the same characters.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import io
from collections.abc import Callable
from functools import cache

from fontTools.ttLib import TTFont


class _HarfBuzz:
    """The few calls of libharfbuzz-subset a cut needs."""

    # Bound by __init__ from the library (the ``signatures`` there); a c_void_p result is an address or None.
    hb_blob_create: Callable[..., int | None]
    hb_blob_destroy: Callable[..., None]
    hb_blob_get_data: Callable[..., ctypes._Pointer[ctypes.c_char]]
    hb_face_create: Callable[..., int | None]
    hb_face_destroy: Callable[..., None]
    hb_face_reference_blob: Callable[..., int | None]
    hb_set_add: Callable[..., None]
    hb_subset_input_create_or_fail: Callable[..., int | None]
    hb_subset_input_destroy: Callable[..., None]
    hb_subset_input_unicode_set: Callable[..., int | None]
    hb_subset_or_fail: Callable[..., int | None]

    def __init__(self, library: ctypes.CDLL) -> None:
        p, u = ctypes.c_void_p, ctypes.c_uint
        signatures = {
            "hb_blob_create": (p, [ctypes.c_char_p, u, ctypes.c_int, p, p]),
            "hb_blob_destroy": (None, [p]),
            "hb_blob_get_data": (ctypes.POINTER(ctypes.c_char), [p, ctypes.POINTER(u)]),
            "hb_face_create": (p, [p, u]),
            "hb_face_destroy": (None, [p]),
            "hb_face_reference_blob": (p, [p]),
            "hb_set_add": (None, [p, ctypes.c_uint32]),
            "hb_subset_input_create_or_fail": (p, []),
            "hb_subset_input_destroy": (None, [p]),
            "hb_subset_input_unicode_set": (p, [p]),
            "hb_subset_or_fail": (p, [p, p]),
        }
        for name, (result, arguments) in signatures.items():
            function = getattr(library, name)
            function.restype, function.argtypes = result, arguments
            setattr(self, name, function)

    def cut(self, font: bytes, chars: str) -> bytes | None:
        """``font`` cut down to ``chars`` (OpenType bytes), or None when HarfBuzz cannot cut it."""
        # Mode 1 (HB_MEMORY_MODE_READONLY): HarfBuzz reads ``font`` in place; it outlives the blob.
        blob = self.hb_blob_create(font, len(font), 1, None, None)
        face = self.hb_face_create(blob, 0)
        wanted = self.hb_subset_input_create_or_fail()
        try:
            unicodes = self.hb_subset_input_unicode_set(wanted)
            for char in chars:
                self.hb_set_add(unicodes, ord(char))
            cut = self.hb_subset_or_fail(face, wanted)
            if not cut:
                return None
            data = self.hb_face_reference_blob(cut)
            length = ctypes.c_uint()
            result = ctypes.string_at(self.hb_blob_get_data(data, ctypes.byref(length)), length.value)
            self.hb_blob_destroy(data)
            self.hb_face_destroy(cut)
            return result or None
        finally:
            self.hb_subset_input_destroy(wanted)
            self.hb_face_destroy(face)
            self.hb_blob_destroy(blob)


@cache
def harfbuzz() -> _HarfBuzz | None:
    """libharfbuzz-subset, or None when it is not installed (or too old to have these calls)."""
    name = ctypes.util.find_library("harfbuzz-subset")
    try:
        return _HarfBuzz(ctypes.CDLL(name)) if name else None
    except (OSError, AttributeError):
        return None


@cache
def _whole_font() -> bytes:
    from sitrep.report.charts import font_path

    with open(font_path(), "rb") as handle:
        return handle.read()


def _fonttools_cut(font: bytes, chars: str) -> TTFont:
    from fontTools import subset

    # No recomputed bounding boxes (they come from the original font, and take half the time).
    cut = TTFont(io.BytesIO(font), lazy=True, recalcTimestamp=False, recalcBBoxes=False)
    subsetter = subset.Subsetter(subset.Options())
    subsetter.populate(text=chars)
    subsetter.subset(cut)
    return cut


def cut_font(chars: str, *, within: bytes | None = None, use_harfbuzz: bool = True) -> bytes:
    """The report's font cut down to ``chars``, as WOFF bytes; with HarfBuzz unless ``use_harfbuzz``
    is False or the library is missing.  ``within`` is an earlier cut holding all of ``chars``, which
    fontTools cuts much faster than the whole font (HarfBuzz cuts the whole font as fast)."""
    hb = harfbuzz() if use_harfbuzz else None
    cut = hb.cut(_whole_font(), chars) if hb is not None else None
    if cut:
        result = TTFont(io.BytesIO(cut), recalcTimestamp=False, recalcBBoxes=False)
    else:
        result = _fonttools_cut(within or _whole_font(), chars)
    # WOFF (zlib): a sixth smaller than the bare font for a few milliseconds; WOFF2 (Brotli) would
    # save another tenth for 0.4 s.  No fresh timestamp: the same characters give the same bytes.
    result.flavor = "woff"
    buffer = io.BytesIO()
    result.save(buffer)
    return buffer.getvalue()
