"""Schemathesis hooks for kiemke (loaded through .ci/schemathesis.toml).

The import endpoint takes the file itself as the request body (.xlsx or .csv). Its schema
is "an array of byte values", so schemathesis generates lists of integers: send them as
raw bytes. That is random garbage for the importer, which must refuse it with a 4xx.
"""

import schemathesis

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@schemathesis.serializer(XLSX)
def raw_file(ctx, value):
    if isinstance(value, (bytes, bytearray)):
        data = bytes(value)
    elif isinstance(value, list):
        data = bytes(v % 256 for v in value if isinstance(v, int) and not isinstance(v, bool))
    else:
        data = str(value).encode("utf-8")
    return {"data": data, "headers": {"Content-Type": XLSX}}
