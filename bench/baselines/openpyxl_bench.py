#!/usr/bin/env python3
"""What users would otherwise use: openpyxl writing and reading the same 100,000-row sheet.

    openpyxl_bench.py write CELLS OUT.xlsx          # the values benches/files.rs dumped from our export
    openpyxl_bench.py write-styled STYLED OUT.xlsx  # the same cells with their formats, widths, heights, merges
    openpyxl_bench.py read FILE.xlsx                # every cell of every sheet

Each prints "seconds <x>" for its timed part only. Writing loads its input first (untimed), then
uses openpyxl's fastest way: a write-only workbook, one append per row. `write` writes the values
alone; `write-styled` writes what our export writes: every cell with its format (font, borders,
alignment, number format: one Font, Border, Alignment object per format, built once before the
loop), the blank bordered cells, the formulas, the column widths, row heights, hidden rows and
merged cells. Reading uses a read-only workbook with cached values, one pass over every row. All
are what openpyxl's documentation recommends for large files: openpyxl at its best.
"""
import sys
import time

from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter


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


def load_styled(path):
    """The styled dump (benches/files.rs `dump_styled`): formats, widths, merges, then rows."""
    xfs, widths, merges, rows = [], [], [], []
    with open(path, encoding="utf-8") as f:
        for line in f:
            parts = [unescape(p) for p in line.rstrip("\n").split("\t")]
            kind = parts[0]
            if kind == "x":
                xfs.append(parts[1:])
            elif kind == "w":
                widths.append((int(parts[1]), float(parts[2])))
            elif kind == "m":
                merges.append(tuple(int(p) for p in parts[1:5]))
            elif kind == "r":
                rows.append((int(parts[1]), parts[2], parts[3] == "1", []))
            elif kind == "c":
                rows[-1][3].append((int(parts[1]), int(parts[2]), parts[3], parts[4], parts[5]))
    return xfs, widths, merges, rows


def styles_of(xf):
    """A format of the dump as openpyxl's style objects (built once per format)."""
    font, size, bold, italic, underline, border, horizontal, vertical, wrap, num = xf
    thin = Side(style="thin") if border == "1" else Side()
    return (
        Font(name=font, size=float(size), bold=bold == "1", italic=italic == "1",
             underline="single" if underline == "1" else None),
        Border(left=thin, right=thin, top=thin, bottom=thin),
        Alignment(horizontal=horizontal or None, vertical=vertical or None, wrap_text=wrap == "1"),
        num or "General",
    )


def write_styled(styled, out):
    xfs, widths, merges, rows = load_styled(styled)
    started = time.perf_counter()
    styles = [styles_of(xf) for xf in xfs]
    wb = Workbook(write_only=True)
    ws = wb.create_sheet()
    for col, width in widths:
        ws.column_dimensions[get_column_letter(col + 1)].width = width
    for r1, c1, r2, c2 in merges:
        ws.merged_cells.add(f"{get_column_letter(c1 + 1)}{r1 + 1}:{get_column_letter(c2 + 1)}{r2 + 1}")
    written, next_row = 0, 0
    for row, height, hidden, cells in rows:
        while next_row < row:  # rows without cells
            ws.append([])
            next_row += 1
        dims = ws.row_dimensions[row + 1]
        if height:
            dims.height = float(height)
        if hidden:
            dims.hidden = True
        out_row = []
        for col, xf, kind, value, formula in cells:
            while len(out_row) < col:
                out_row.append(None)
            if kind == "n":
                v = float(value)
                value = int(v) if v.is_integer() else v
            elif kind == "f":
                value = "=" + formula
            elif kind == "b":
                value = None
            cell = WriteOnlyCell(ws, value=value)
            font, border, alignment, num = styles[xf]
            cell.font, cell.border, cell.alignment, cell.number_format = font, border, alignment, num
            out_row.append(cell)
            written += 1
        ws.append(out_row)
        next_row += 1
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
    elif len(sys.argv) == 4 and sys.argv[1] == "write-styled":
        write_styled(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 3 and sys.argv[1] == "read":
        read(sys.argv[2])
    else:
        sys.exit(__doc__)
