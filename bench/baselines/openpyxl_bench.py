#!/usr/bin/env python3
"""What users would otherwise use: openpyxl writing and reading the same 100,000-row sheet.

    openpyxl_bench.py write CELLS OUT.xlsx   # the cells benches/files.rs dumped from our export
    openpyxl_bench.py read FILE.xlsx         # every cell of every sheet

Each prints "seconds <x>" for its timed part only. Writing loads the cells first (untimed), then
uses openpyxl's fastest way: a write-only workbook, one append per row. Reading uses a
read-only workbook with cached values, one pass over every row. Both are what openpyxl's
documentation recommends for large files, so the comparison is with openpyxl at its best.
"""
import sys
import time

from openpyxl import Workbook, load_workbook


def unescape(s):
    out, it = [], iter(s)
    for c in it:
        if c != "\\":
            out.append(c)
            continue
        n = next(it, "")
        out.append({"t": "\t", "n": "\n", "r": "\r"}.get(n, n))
    return "".join(out)


def load_cells(path):
    rows = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            row = []
            if line:
                for c in line.split("\t"):
                    if c.startswith("n"):
                        v = float(c[1:])
                        row.append(int(v) if v.is_integer() else v)
                    elif c.startswith("s"):
                        row.append(unescape(c[1:]))
                    else:
                        row.append(None)
            rows.append(row)
    return rows


def write(cells, out):
    rows = load_cells(cells)
    started = time.perf_counter()
    wb = Workbook(write_only=True)
    ws = wb.create_sheet()
    written = 0
    for row in rows:
        ws.append(row)
        written += sum(1 for v in row if v is not None)
    wb.save(out)
    print(f"seconds {time.perf_counter() - started:.4f} cells {written}")


def read(path):
    started = time.perf_counter()
    wb = load_workbook(path, read_only=True, data_only=True)
    cells, total, chars = 0, 0.0, 0
    for ws in wb.worksheets:
        for row in ws.iter_rows(values_only=True):
            for v in row:
                if v is None:
                    continue
                cells += 1
                if isinstance(v, (int, float)):
                    total += v
                elif isinstance(v, str):
                    chars += len(v)
    wb.close()
    print(f"seconds {time.perf_counter() - started:.4f} cells {cells} sum {total} chars {chars}")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "write":
        write(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 3 and sys.argv[1] == "read":
        read(sys.argv[2])
    else:
        sys.exit(__doc__)
