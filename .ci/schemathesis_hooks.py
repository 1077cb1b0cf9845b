"""Schemathesis hooks for kiemke (loaded through .ci/schemathesis.toml).

The import endpoint takes the file itself as the request body (.xlsx or .csv). Its schema
is "an array of byte values", so schemathesis generates lists of integers: send them as
raw bytes. That is random garbage for the importer, which must refuse it with a 4xx.
"""

import ast
import threading

import schemathesis

# CPython before 3.11.8 / 3.12.1 keeps the AST converter's recursion depth in state shared by
# all threads (gh-106905): two threads in `ast.parse` at once can fail with "SystemError: AST
# constructor recursion depth mismatch". Hypothesis parses source to describe lambdas, and
# schemathesis runs two workers, so a CI run once failed on it (a Runtime Error reported for
# GET /api/v1/campaigns, not an answer of the service). One parse at a time.
_AST_PARSE = ast.parse
_AST_PARSE_LOCK = threading.Lock()


def _parse_one_at_a_time(*args, **kwargs):
    with _AST_PARSE_LOCK:
        return _AST_PARSE(*args, **kwargs)


ast.parse = _parse_one_at_a_time

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
