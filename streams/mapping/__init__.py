"""Debezium record -> canonical customer change -> vendor record. Pure, no I/O past start-up.

Envelope parsing (``envelope``), column values (``column_values``), rows (``column_row``),
normalisers (``normalisers``), the mapping files (``mapping_files``, ``table_mapping``,
``vendor_mapping``), field compilation (``compiled_field``) and the row program
(``row_program``, compiled per table and encodings by ``row_mapper``), canonical validation
(``canonical``), the one decoder (``change_decoder``) and the one vendor-record builder
(``vendor_record``). ``cli`` is ``cdcbridge map``. Nothing here imports ``streams.sync`` or
``streams.platform`` (``cli`` excepted: a command sits above what it runs);
``tests/unit/mapping/test_layering.py`` checks it.
"""

from __future__ import annotations

from streams.mapping.change_decoder import ChangeDecoder, Decoded, decode_change, default_decoder
from streams.mapping.mapping_files import MappingFileError
from streams.mapping.table_mapping import load_table_mapping
from streams.mapping.vendor_mapping import Platform, from_vendor
from streams.mapping.vendor_record import VendorRecordBuilder, upsert_record

__all__ = [
    "ChangeDecoder",
    "Decoded",
    "MappingFileError",
    "Platform",
    "VendorRecordBuilder",
    "decode_change",
    "default_decoder",
    "from_vendor",
    "load_table_mapping",
    "upsert_record",
]
