"""Debezium record -> canonical customer change -> vendor record. Pure, no I/O past start-up.

Envelope parsing (``envelope``), column values (``column_values``), rows (``column_row``),
normalisers (``normalisers``), the mapping files (``table_mapping``, ``vendor_mapping``), field
compilation and the row program (``row_mapper``, ``row_program``), canonical validation
(``canonical``) and the one decoder (``change_decoder``). ``cli`` is ``cdcbridge map``.
"""

from __future__ import annotations

from streams.mapping.change_decoder import ChangeDecoder, Decoded, decode_change, default_decoder
from streams.mapping.mapping_files import MappingFileError
from streams.mapping.table_mapping import load_table_mapping
from streams.mapping.vendor_mapping import Platform, from_vendor, to_vendor

__all__ = [
    "ChangeDecoder",
    "Decoded",
    "MappingFileError",
    "Platform",
    "decode_change",
    "default_decoder",
    "from_vendor",
    "load_table_mapping",
    "to_vendor",
]
