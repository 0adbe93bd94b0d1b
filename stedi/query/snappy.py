"""Hadoop's snappy files (`.snappy`, what Spark and Glue write for compressed JSON), decompressed.

DuckDB reads gzip text but no snappy text, and a Hadoop `.snappy` file is not a plain snappy
stream either: it is blocks, each `<uncompressed length>` then one or more
`<compressed length><snappy data>` chunks, the lengths 4-byte big-endian (Hadoop's
BlockCompressorStream). pyarrow's snappy codec decompresses each chunk.
"""

from __future__ import annotations

import struct


class SnappyError(ValueError):
    """Bytes that are not a Hadoop snappy file."""


def hadoop_snappy_decompress(data: bytes) -> bytes:
    import pyarrow as pa

    codec = pa.Codec("snappy")
    out = bytearray()
    position = 0
    while position < len(data):
        if position + 4 > len(data):
            raise SnappyError("a Hadoop snappy file ends inside a block header")
        (expected,) = struct.unpack_from(">I", data, position)
        position += 4
        produced = 0
        while produced < expected:
            if position + 4 > len(data):
                raise SnappyError("a Hadoop snappy file ends inside a chunk header")
            (size,) = struct.unpack_from(">I", data, position)
            position += 4
            chunk = data[position:position + size]
            if len(chunk) != size:
                raise SnappyError("a Hadoop snappy file ends inside a chunk")
            position += size
            piece = codec.decompress(chunk, decompressed_size=_uncompressed_length(chunk), asbytes=True)
            out += piece
            produced += len(piece)
    return bytes(out)


def _uncompressed_length(chunk: bytes) -> int:
    """Snappy's preamble: the uncompressed length as a little-endian varint."""
    result = shift = 0
    for byte in chunk[:5]:
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result
        shift += 7
    raise SnappyError("a snappy chunk without a length")
