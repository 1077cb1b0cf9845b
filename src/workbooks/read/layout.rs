//! Finding the header of a sheet and reading its data rows, whatever the container.
//!
//! - Official layout: a cell `kiemke:<form>` marks the hidden key row; the cells to
//!   its right hold field keys. Data starts after the `(1)` numbering row; a label
//!   in the marker's column (`I. Đất`) sets the section of the rows below it;
//!   subtotal rows (`Cộng phần …`) are skipped; `TỔNG CỘNG` ends the table.
//! - Flat layout: the first row (within the first [`SCAN_ROWS`]) where at least two
//!   cells, and at least half of the non-empty ones, name fields by key or label.

use std::collections::HashMap;

use super::{
    CellError, Emit, ImportError, Layout, ParsedRow, SheetRead,
    cells::{Outcome, Raw, convert, nfc},
};
use crate::{
    forms::{FieldDef, Form, Record, Value},
    workbooks::write::{GRAND_TOTAL, MARKER_PREFIX, SUBTOTAL_PREFIX, UNCLASSIFIED},
};

/// Rows searched for a header before a sheet is given up.
pub(super) const SCAN_ROWS: u32 = 50;
/// Rows the official layout may hold between the key row and the numbering row.
const HEAD_ROWS: u32 = 6;
/// Unknown columns named in an error message.
const MAX_LISTED: usize = 20;

/// One row of cells, sorted by column; only non-empty cells are kept.
#[derive(Debug, Clone)]
pub(super) struct Row {
    /// 0-based row index.
    pub index: u32,
    cells: Vec<(u32, Raw)>,
    /// Cells holding a formula (xlsx only), by column, whether or not a value was saved with it.
    formulas: Vec<(u32, Formula)>,
}

/// A cell's formula as the file holds it.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Formula {
    /// The text, without `=`.
    pub text: String,
    /// 0-based (row, column) of the cell the text is written for: the cell itself, or the
    /// first cell of a shared formula (Excel writes a filled-down formula once).
    pub at: (u32, u32),
}

impl Row {
    pub(super) fn new(index: u32, cells: Vec<(u32, Raw)>) -> Row {
        Row::with_formulas(index, cells, Vec::new())
    }

    pub(super) fn with_formulas(
        index: u32,
        mut cells: Vec<(u32, Raw)>,
        formulas: Vec<(u32, Formula)>,
    ) -> Row {
        cells.sort_by_key(|(c, _)| *c);
        Row {
            index,
            cells,
            formulas,
        }
    }

    /// The cells, by column.
    pub(super) fn into_cells(self) -> Vec<(u32, Raw)> {
        self.cells
    }

    fn get(&self, col: u32) -> Option<&Raw> {
        self.cells
            .binary_search_by_key(&col, |(c, _)| *c)
            .ok()
            .and_then(|i| self.cells.get(i))
            .map(|(_, raw)| raw)
    }

    fn text(&self, col: u32) -> Option<&str> {
        self.get(col).and_then(Raw::as_text)
    }
}

/// `0` → `A`, `27` → `AB`.
pub(super) fn column_letter(col: u32) -> String {
    let mut n = col as u64 + 1;
    let mut out = Vec::new();
    while n > 0 {
        let rem = ((n - 1) % 26) as u8;
        out.push(b'A' + rem);
        n = (n - 1) / 26;
    }
    out.iter().rev().map(|&b| b as char).collect()
}

/// Header text in one comparable form: NFC, single spaces, lower case.
fn norm(s: &str) -> String {
    nfc(s)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// Every way a header may name a field of the form: its key, its labels (with or
/// without the unit) and its official column header. A name shared by two fields
/// names neither.
pub(super) struct Aliases<'f> {
    form: &'f Form,
    keys: HashMap<String, &'f FieldDef>,
    names: HashMap<String, Option<&'f FieldDef>>,
}

impl<'f> Aliases<'f> {
    pub(super) fn new(form: &'f Form) -> Aliases<'f> {
        let mut a = Aliases {
            form,
            keys: form.fields.iter().map(|f| (f.key.clone(), f)).collect(),
            names: HashMap::new(),
        };
        for f in &form.fields {
            for alias in &f.aliases {
                a.name(alias, f);
            }
            for label in [&f.label.vi, &f.label.en] {
                a.name(label, f);
                if let Some(unit) = &f.unit {
                    a.name(&format!("{label} ({unit})"), f);
                }
            }
        }
        for def in &form.columns {
            if let Some(f) = form.field(&def.field) {
                a.name(&crate::workbooks::write::column_header(f, def), f);
                if let Some(h) = &def.header {
                    a.name(&h.vi, f);
                    a.name(&h.en, f);
                }
            }
        }
        a
    }

    fn name(&mut self, text: &str, field: &'f FieldDef) {
        let entry = self.names.entry(norm(text)).or_insert(Some(field));
        if entry.is_some_and(|f| f.key != field.key) {
            *entry = None;
        }
    }

    /// The field a misspelt header most likely meant: the name nearest to it once case
    /// and diacritics are folded, within a third of its length in edits.
    fn nearest(&self, text: &str) -> Option<&'f FieldDef> {
        let t = crate::search::fold(text);
        let limit = (t.chars().count() / 3).max(2);
        self.names
            .iter()
            .filter_map(|(name, f)| f.map(|f| (edits(&crate::search::fold(name), &t), f)))
            .filter(|(d, _)| *d <= limit)
            .min_by_key(|(d, f)| (*d, f.key.as_str()))
            .map(|(_, f)| f)
    }

    fn lookup(&self, text: &str) -> Option<&'f FieldDef> {
        let t = norm(text);
        self.keys
            .get(&t)
            .copied()
            .or_else(|| self.names.get(&t).copied().flatten())
    }
}

/// Levenshtein distance in characters.
fn edits(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

/// A recognised header row.
struct Header<'f> {
    layout: Layout,
    /// Column of the marker (official layout): section and total labels live there.
    label_col: u32,
    columns: Vec<(u32, &'f FieldDef)>,
}

fn detect<'f>(a: &Aliases<'f>, sheet: &str, row: &Row) -> Result<Option<Header<'f>>, ImportError> {
    let marker = row.cells.iter().find_map(|(c, raw)| {
        let t = raw.as_text()?;
        let prefix = t.get(..MARKER_PREFIX.len())?;
        prefix
            .eq_ignore_ascii_case(MARKER_PREFIX)
            .then(|| (*c, t.get(MARKER_PREFIX.len()..).unwrap_or("").trim()))
    });
    if let Some((label_col, code)) = marker {
        if code != a.form.code {
            return Err(ImportError::WrongForm {
                expected: a.form.code.clone(),
                found: code.to_string(),
            });
        }
        // Keys are machine-written: exact match only. A column without key was added by a person: ignored.
        let mut columns = Vec::new();
        let mut unknown = Vec::new();
        for (c, raw) in row.cells.iter().filter(|(c, _)| *c != label_col) {
            let Some(t) = raw.as_text().filter(|t| !t.is_empty()) else {
                continue;
            };
            match a.keys.get(t) {
                Some(f) => columns.push((*c, *f)),
                None => unknown.push(named(*c, t)),
            }
        }
        check_columns(sheet, &columns, unknown)?;
        return Ok(Some(Header {
            layout: Layout::Official,
            label_col,
            columns,
        }));
    }
    let mut columns = Vec::new();
    let mut unknown = Vec::new();
    let mut non_empty = 0;
    for (c, raw) in &row.cells {
        if raw.is_empty() {
            continue;
        }
        non_empty += 1;
        match raw.as_text().and_then(|t| a.lookup(t)) {
            Some(f) => columns.push((*c, f)),
            None => {
                let text = raw.as_text().unwrap_or("?");
                let mut name = named(*c, text);
                // The nearest known header, for the first few (a hostile header may have thousands).
                if unknown.len() < MAX_LISTED
                    && let Some(f) = a.nearest(text)
                {
                    name.push_str(&format!(" → «{}»?", f.label.vi));
                }
                unknown.push(name);
            }
        }
    }
    if columns.len() < 2 || columns.len() * 2 < non_empty {
        return Ok(None);
    }
    check_columns(sheet, &columns, unknown)?;
    Ok(Some(Header {
        layout: Layout::Flat,
        label_col: 0,
        columns,
    }))
}

/// A column as an error message names it: `F «Ghi chú thêm»`, long headers cut.
fn named(col: u32, header: &str) -> String {
    let mut h: String = header.chars().take(40).collect();
    if h.len() < header.len() {
        h.push('…');
    }
    format!("{} «{h}»", column_letter(col))
}

fn check_columns(
    sheet: &str,
    columns: &[(u32, &FieldDef)],
    unknown: Vec<String>,
) -> Result<(), ImportError> {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (_, f) in columns {
        *seen.entry(f.key.as_str()).or_default() += 1;
    }
    let missing: Vec<String> = ["code", "name"]
        .into_iter()
        .filter(|k| !seen.contains_key(k))
        .map(String::from)
        .collect();
    let mut repeated: Vec<String> = seen
        .iter()
        .filter(|(_, n)| **n > 1)
        .map(|(k, _)| k.to_string())
        .collect();
    repeated.sort();
    // A hostile header may name thousands of columns; the message names the first few.
    let mut unknown = unknown;
    if unknown.len() > MAX_LISTED {
        let more = unknown.len() - MAX_LISTED;
        unknown.truncate(MAX_LISTED);
        unknown.push(format!("… (+{more})"));
    }
    if missing.is_empty() && unknown.is_empty() && repeated.is_empty() {
        Ok(())
    } else {
        Err(ImportError::Columns {
            sheet: sheet.to_string(),
            missing,
            unknown,
            repeated,
        })
    }
}

/// Reads one sheet: finds its header, then its data rows into `out`.
/// `Ok(None)` when the sheet has no header in its first [`SCAN_ROWS`] rows.
pub(super) fn parse_sheet<I>(
    a: &Aliases,
    sheet: &str,
    mut rows: I,
    out: &mut Emit,
) -> Result<Option<SheetRead>, ImportError>
where
    I: Iterator<Item = Result<Row, ImportError>>,
{
    let (header_index, header) = loop {
        let Some(row) = rows.next() else {
            return Ok(None);
        };
        let row = row?;
        if row.index >= SCAN_ROWS {
            return Ok(None);
        }
        if let Some(h) = detect(a, sheet, &row)? {
            break (row.index, h);
        }
    };
    let read = SheetRead {
        sheet: sheet.to_string(),
        layout: header.layout,
        header_row: header_index + 1,
        columns: header
            .columns
            .iter()
            .map(|(c, f)| (f.key.clone(), column_letter(*c)))
            .collect(),
    };
    let mut read = read;
    let mut sink = Sink {
        form: a.form,
        sheet,
        columns: header.columns,
    };
    match header.layout {
        Layout::Official => {
            let later = official(a, &mut sink, header_index, header.label_col, rows, out)?;
            // Fields first met in a later table (one table per section) are placed there.
            for (c, f) in later {
                read.columns
                    .entry(f.key.clone())
                    .or_insert_with(|| column_letter(c));
            }
        }
        Layout::Flat => flat(a, &sink, rows, out)?,
    }
    Ok(Some(read))
}

/// Reads the tables of our official layout. A sheet may hold several (one per
/// section, each under its own hidden key row): a key row met among the data
/// switches to that table's columns. Returns the columns of the later tables.
fn official<'f, I>(
    a: &Aliases<'f>,
    sink: &mut Sink<'_, 'f>,
    marker: u32,
    label_col: u32,
    mut rows: I,
    out: &mut Emit,
) -> Result<Vec<(u32, &'f FieldDef)>, ImportError>
where
    I: Iterator<Item = Result<Row, ImportError>>,
{
    let total = GRAND_TOTAL.to_lowercase();
    let subtotal = SUBTOTAL_PREFIX.to_lowercase();
    let unclassified = UNCLASSIFIED.to_lowercase();
    let mut later = Vec::new();
    let mut section: Option<String> = None;
    // While a table head is read: its key row. The head (group headers, field
    // headers) ends with the (1) (2) (3)… row; without one, data starts 4 rows down.
    let mut head = Some(marker);
    let mut ahead: Vec<Row> = Vec::new();
    let mut queue: std::collections::VecDeque<Row> = std::collections::VecDeque::new();
    let mut data_start = 0;
    loop {
        let row = match queue.pop_front() {
            Some(r) => r,
            None => match rows.next() {
                Some(r) => r?,
                None => match head.take() {
                    Some(m) if !ahead.is_empty() => {
                        data_start = m + 4;
                        queue.extend(ahead.drain(..));
                        continue;
                    }
                    _ => break,
                },
            },
        };
        if let Some(m) = head {
            if row.index > m + HEAD_ROWS {
                ahead.push(row);
                data_start = m + 4;
                head = None;
                queue.extend(ahead.drain(..));
            } else if row.text(label_col) == Some("(1)") {
                data_start = row.index + 1;
                head = None;
                ahead.clear();
            } else {
                ahead.push(row);
            }
            continue;
        }
        if row.index < data_start {
            continue;
        }
        if let Some(label) = row.text(label_col).filter(|l| !l.is_empty()) {
            let lower = label.to_lowercase();
            if lower.starts_with(&total) {
                break;
            }
            if lower.starts_with(MARKER_PREFIX)
                && let Some(h) = detect(a, sink.sheet, &row)?
            {
                later.extend(h.columns.iter().copied());
                sink.columns = h.columns;
                head = Some(row.index);
                continue;
            }
            if lower.starts_with(&subtotal) {
                continue;
            }
            if lower == unclassified {
                section = None;
                continue;
            }
            let token = label
                .split(|c: char| c == '.' || c.is_whitespace())
                .next()
                .unwrap_or("");
            if let Some(s) = sink.form.section(token) {
                section = Some(s.code.clone());
                continue;
            }
        }
        sink.push(&row, section.as_deref(), out)?;
    }
    Ok(later)
}

fn flat<I>(a: &Aliases, sink: &Sink, rows: I, out: &mut Emit) -> Result<(), ImportError>
where
    I: Iterator<Item = Result<Row, ImportError>>,
{
    let mut first = true;
    for row in rows {
        let row = row?;
        // A second header row (labels under keys, or keys under labels) is not data.
        if std::mem::take(&mut first) && is_header_again(a, &sink.columns, &row) {
            continue;
        }
        sink.push(&row, None, out)?;
    }
    Ok(())
}

fn is_header_again(a: &Aliases, columns: &[(u32, &FieldDef)], row: &Row) -> bool {
    let mut named = 0;
    for (c, f) in columns {
        match row.get(*c) {
            None => {}
            Some(raw) if raw.is_empty() => {}
            Some(raw) => match raw.as_text().and_then(|t| a.lookup(t)) {
                Some(g) if g.key == f.key => named += 1,
                _ => return false,
            },
        }
    }
    named > 0
}

/// Turns data rows into parsed rows.
struct Sink<'a, 'f> {
    form: &'a Form,
    sheet: &'a str,
    columns: Vec<(u32, &'f FieldDef)>,
}

impl<'f> Sink<'_, 'f> {
    /// Fields of `row` whose cell holds the formula [`Form::derived`] gives for it, at the
    /// cell's own place (or, for a shared formula, at its first cell's).
    fn our_formulas(&self, row: &Row, record: &Record) -> Vec<&'f str> {
        if row.formulas.is_empty() {
            return Vec::new();
        }
        let section = match record.get("section") {
            Some(Value::Code(s)) => Some(s.as_str()),
            _ => None,
        };
        let letter = |key: &str| {
            self.columns
                .iter()
                .find(|(_, f)| f.key == key)
                .map(|(c, _)| column_letter(*c))
        };
        let mut out = Vec::new();
        for (c, formula) in &row.formulas {
            let Some((_, field)) = self.columns.iter().find(|(col, _)| col == c) else {
                continue;
            };
            let field: &'f FieldDef = field;
            if formula.at.1 != *c {
                continue;
            }
            let ours = self
                .form
                .derived(section)
                .iter()
                .filter(|d| d.field == field.key)
                .filter_map(|d| d.formula(formula.at.0.saturating_add(1), letter))
                .any(|expected| same_formula(&formula.text, &expected));
            if ours {
                out.push(field.key.as_str());
            }
        }
        out
    }

    fn push(&self, row: &Row, section: Option<&str>, out: &mut Emit) -> Result<(), ImportError> {
        let mut record = Record::new();
        let mut clears = Vec::new();
        let mut errors = Vec::new();
        for (c, field) in &self.columns {
            let Some(raw) = row.get(*c) else { continue };
            match convert(field, raw) {
                Outcome::Blank => {}
                Outcome::Clear => clears.push(field.key.clone()),
                Outcome::Value(v) => {
                    record.insert(field.key.clone(), v);
                }
                Outcome::Error(e) => errors.push(CellError {
                    sheet: self.sheet.to_string(),
                    row: row.index.saturating_add(1),
                    column_letter: column_letter(*c),
                    field: field.key.clone(),
                    code: e.code.to_string(),
                    message: e.message,
                }),
            }
        }
        if record.is_empty() && clears.is_empty() && errors.is_empty() {
            return Ok(());
        }
        if let Some(s) = section
            && self.form.has_sections()
            && !record.contains_key("section")
        {
            record.insert("section".into(), Value::Code(s.to_string()));
        }
        // A derived cell that still holds the formula our sheet wrote is not a value the user
        // gave: its cached result may be stale (an editor that does not recalculate, or none
        // saved at all). Its stored value is cleared and validation derives it again from the
        // inputs. A value typed over the formula is kept, and checked against its inputs.
        for key in self.our_formulas(row, &record) {
            record.remove(key);
            errors.retain(|e| e.field != key);
            if !clears.iter().any(|k| k == key) {
                clears.push(key.to_string());
            }
        }
        out.push(ParsedRow {
            sheet: self.sheet.to_string(),
            row_number: row.index.saturating_add(1),
            record,
            clears,
            errors,
        })
    }
}

/// Formulas compared as Excel would treat them: case, spaces and a leading `=` aside.
fn same_formula(found: &str, ours: &str) -> bool {
    let norm = |s: &str| -> String {
        s.trim()
            .trim_start_matches('=')
            .chars()
            .filter(|c| !c.is_whitespace())
            .flat_map(char::to_uppercase)
            .collect()
    };
    norm(found) == norm(ours)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workbooks::write::testutil::form;

    #[test]
    fn column_letters_run_like_excel() {
        assert_eq!(column_letter(0), "A");
        assert_eq!(column_letter(25), "Z");
        assert_eq!(column_letter(26), "AA");
        assert_eq!(column_letter(16_383), "XFD");
    }

    #[test]
    fn every_field_is_named_by_its_key_and_label_and_code_and_name_unambiguously() {
        for code in ["01a", "02a", "18a"] {
            let form = form(code);
            let a = Aliases::new(&form);
            for f in &form.fields {
                assert_eq!(a.lookup(&f.key).map(|g| &g.key), Some(&f.key));
                assert_eq!(
                    a.lookup(&f.label.vi.to_uppercase()).map(|g| &g.key),
                    Some(&f.key),
                    "{code} {}",
                    f.key
                );
            }
            assert_eq!(
                a.lookup("Tên tài sản").map(|f| f.key.as_str()),
                Some("name")
            );
        }
        let form = form("01a");
        let a = Aliases::new(&form);
        assert_eq!(
            a.lookup("Giá trị còn lại (đồng)").map(|f| f.key.as_str()),
            Some("remaining_value")
        );
        assert_eq!(
            a.lookup("  Diện tích xây dựng\n(m²) ")
                .map(|f| f.key.as_str()),
            Some("footprint_area")
        );
    }
}
