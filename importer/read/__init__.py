"""Read: a CSV, TSV or workbook export → batches of text rows, streamed.

One entry point, :func:`open_source`; the format's details (sniffing the
encoding, delimiter and header, the CSV reader, workbook cells) are private
modules of this stage.
"""

from importer.read.source import RowBatch, Source, SourceInfo, open_source

__all__ = ["RowBatch", "Source", "SourceInfo", "open_source"]
