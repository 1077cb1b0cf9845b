//! xlsx through calamine's streaming cell reader: one row in memory at a time, and
//! a sheet without a header is abandoned after its first rows.

use std::{
    collections::HashMap,
    io::{Cursor, Read, Seek},
    panic::{AssertUnwindSafe, catch_unwind},
};

use calamine::{DataRef, Reader, SheetType, SheetVisible, Xlsx, XlsxError, XlsxFormulaMetadata};
use chrono::NaiveDate;

use super::{
    Emit, ImportError, Limits, SheetRead,
    cells::Raw,
    layout::{self, Aliases, Formula, Row},
};
use crate::forms::Form;

/// Rows a sheet may declare beyond the data limit (title, headers, totals, signatures).
const FRAME_ROWS: u64 = 100;
/// Excel's last row and column (0-based): 1,048,576 rows, 16,384 columns (XFD).
pub(super) const LAST_ROW: u32 = 1_048_575;
pub(super) const LAST_COL: u32 = 16_383;

/// Runs a step of the third-party parser, which is fed hostile bytes: a panic in
/// it means an unreadable file. Only parser calls are wrapped, never the caller's
/// row handler.
fn guarded<T>(step: impl FnOnce() -> Result<T, XlsxError>) -> Result<T, ImportError> {
    match catch_unwind(AssertUnwindSafe(step)) {
        Ok(r) => r.map_err(unreadable),
        Err(_) => Err(ImportError::Unreadable {
            detail: "malformed workbook".into(),
        }),
    }
}

fn unreadable(e: XlsxError) -> ImportError {
    ImportError::Unreadable {
        detail: e.to_string(),
    }
}

pub(super) fn read(
    form: &Form,
    bytes: &[u8],
    limits: &Limits,
    out: &mut Emit,
) -> Result<Vec<SheetRead>, ImportError> {
    let mut wb = guarded(|| Xlsx::new(Cursor::new(bytes)))?;
    let sheets = wb.sheets_metadata().to_vec();
    let aliases = Aliases::new(form);
    let mut read = Vec::new();
    for sheet in &sheets {
        // Hidden sheets are not what the user meant to upload.
        if sheet.visible != SheetVisible::Visible || sheet.typ != SheetType::WorkSheet {
            continue;
        }
        // Our flat sheet is named flat_<form>: another form's is refused by name.
        if let Some(code) = sheet.name.strip_prefix("flat_")
            && looks_like_form_code(code)
            && code != form.code
        {
            return Err(ImportError::WrongForm {
                expected: form.code.clone(),
                found: code.to_string(),
            });
        }
        let reader = guarded(|| wb.worksheet_cells_reader(&sheet.name))?;
        let dims = reader.dimensions();
        let declared = u64::from(dims.end.0.saturating_sub(dims.start.0)) + 1;
        if declared > limits.max_rows as u64 + FRAME_ROWS {
            return Err(ImportError::TooManyRows {
                limit: limits.max_rows,
            });
        }
        let rows = Rows::new(reader, &sheet.name, limits);
        if let Some(r) = layout::parse_sheet(&aliases, &sheet.name, rows, out)? {
            read.push(r);
        }
    }
    if read.is_empty() {
        return Err(ImportError::NoHeader {
            sheets: sheets.into_iter().map(|s| s.name).collect(),
        });
    }
    Ok(read)
}

/// Takes a sheet's row: (sheet, 0-based row, cells by column); `false` stops.
pub(super) type OnRow<'a> = dyn FnMut(&str, u32, Vec<(u32, Raw)>) -> bool + 'a;

/// Streams the rows of the named sheets (visible worksheets only) to `on_row`, with the checks of
/// [`read`]; stops when `on_row` says so.
pub(super) fn copy(
    bytes: &[u8],
    names: &[String],
    limits: &Limits,
    on_row: &mut OnRow,
) -> Result<(), ImportError> {
    let mut wb = guarded(|| Xlsx::new(Cursor::new(bytes)))?;
    let sheets = wb.sheets_metadata().to_vec();
    for name in names {
        let visible = sheets.iter().any(|s| {
            &s.name == name && s.visible == SheetVisible::Visible && s.typ == SheetType::WorkSheet
        });
        if !visible {
            continue;
        }
        let reader = guarded(|| wb.worksheet_cells_reader(name))?;
        for row in Rows::new(reader, name, limits) {
            let row = row?;
            if !on_row(name, row.index, row.into_cells()) {
                return Ok(());
            }
        }
    }
    Ok(())
}

fn looks_like_form_code(s: &str) -> bool {
    matches!(s.as_bytes(), [a, b, b'a'] if a.is_ascii_digit() && b.is_ascii_digit())
}

/// Cells of a sheet grouped into rows, in file order. A cell beyond Excel's limits, or on a row
/// past the row limit, ends the sheet with an error before anything is kept of it.
pub(super) struct Rows<'a, RS: Read + Seek> {
    reader: calamine::XlsxCellReader<'a, RS>,
    pending: Option<Pending>,
    /// First cells of shared formulas (few, short: a hostile file cannot grow this).
    shared: HashMap<usize, Formula>,
    done: bool,
    sheet: String,
    last_row: u64,
    max_rows: usize,
}

impl<'a, RS: Read + Seek> Rows<'a, RS> {
    pub(super) fn new(
        reader: calamine::XlsxCellReader<'a, RS>,
        sheet: &str,
        limits: &Limits,
    ) -> Rows<'a, RS> {
        Rows {
            reader,
            pending: None,
            shared: HashMap::new(),
            done: false,
            sheet: sheet.to_string(),
            last_row: limits.max_rows as u64 + FRAME_ROWS,
            max_rows: limits.max_rows,
        }
    }

    fn check(&self, r: u32, c: u32) -> Result<(), ImportError> {
        if r > LAST_ROW || c > LAST_COL {
            return Err(ImportError::CellOutOfRange {
                sheet: self.sheet.clone(),
                row: u64::from(r) + 1,
                column: u64::from(c) + 1,
            });
        }
        if u64::from(r) >= self.last_row {
            return Err(ImportError::TooManyRows {
                limit: self.max_rows,
            });
        }
        Ok(())
    }
}

/// A cell read ahead: it starts the next row.
type Pending = (u32, u32, Raw, Option<Formula>);

/// Shared formulas remembered per sheet, and the longest text kept: ours are short.
const MAX_SHARED: usize = 1024;
const MAX_SHARED_TEXT: usize = 256;

impl<RS: Read + Seek> Rows<'_, RS> {
    /// The formula of a cell, with the place its text is written for.
    fn formula(&mut self, pos: (u32, u32), meta: Option<XlsxFormulaMetadata>) -> Option<Formula> {
        match meta? {
            XlsxFormulaMetadata::Normal { formula } => Some(Formula {
                text: formula,
                at: pos,
            }),
            XlsxFormulaMetadata::Shared {
                shared_index,
                formula,
                ..
            } => {
                let f = Formula {
                    text: formula,
                    at: pos,
                };
                if f.text.len() <= MAX_SHARED_TEXT
                    && (self.shared.len() < MAX_SHARED || self.shared.contains_key(&shared_index))
                {
                    self.shared.insert(shared_index, f.clone());
                }
                Some(f)
            }
            XlsxFormulaMetadata::SharedDerived { shared_index } => {
                self.shared.get(&shared_index).cloned()
            }
            _ => None,
        }
    }
}

impl<RS: Read + Seek> Iterator for Rows<'_, RS> {
    type Item = Result<Row, ImportError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let mut index = None;
        let mut cells = Vec::new();
        let mut formulas = Vec::new();
        let keep = |cells: &mut Vec<(u32, Raw)>,
                    formulas: &mut Vec<(u32, Formula)>,
                    c: u32,
                    raw: Raw,
                    f: Option<Formula>| {
            if raw != Raw::Empty {
                cells.push((c, raw));
            }
            if let Some(f) = f {
                formulas.push((c, f));
            }
        };
        if let Some((r, c, raw, f)) = self.pending.take() {
            index = Some(r);
            keep(&mut cells, &mut formulas, c, raw, f);
        }
        loop {
            match guarded(|| self.reader.next_cell_with_formula_metadata()) {
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
                Ok(None) => {
                    self.done = true;
                    return index.map(|i| Ok(Row::with_formulas(i, cells, formulas)));
                }
                Ok(Some(cell)) => {
                    let (r, c) = cell.pos;
                    if let Err(e) = self.check(r, c) {
                        self.done = true;
                        return Some(Err(e));
                    }
                    let raw = raw(&cell.value);
                    let formula = self.formula(cell.pos, cell.formula);
                    if raw == Raw::Empty && formula.is_none() {
                        continue;
                    }
                    match index {
                        Some(i) if i != r => {
                            self.pending = Some((r, c, raw, formula));
                            return Some(Ok(Row::with_formulas(i, cells, formulas)));
                        }
                        _ => {
                            index = Some(r);
                            keep(&mut cells, &mut formulas, c, raw, formula);
                        }
                    }
                }
            }
        }
    }
}

fn raw(value: &DataRef) -> Raw {
    match value {
        DataRef::Empty => Raw::Empty,
        DataRef::String(s) | DataRef::DurationIso(s) => Raw::text(s),
        DataRef::SharedString(s) => Raw::text(s),
        DataRef::Float(f) => Raw::Number(*f),
        DataRef::Int(n) => Raw::Number(*n as f64),
        DataRef::Bool(b) => Raw::Bool(*b),
        DataRef::DateTime(dt) if dt.is_datetime() => {
            let (y, m, d, ..) = dt.to_ymd_hms_milli();
            Raw::Date {
                date: NaiveDate::from_ymd_opt(i32::from(y), u32::from(m), u32::from(d)),
                serial: dt.as_f64(),
            }
        }
        DataRef::DateTime(dt) => Raw::Number(dt.as_f64()),
        DataRef::DateTimeIso(s) => Raw::DateIso(s.clone()),
        DataRef::Error(e) => Raw::Error(e.to_string()),
    }
}
