//! The official form ("Mẫu số 01a"): the sheet a unit prints, signs and stamps.
//!
//! Rows, top to bottom: unit block and motto, title, cut-off, value unit, the hidden
//! key row (our layout marker), group headers, field headers, the (1) (2) (3)…
//! numbering row, then per section a section row, its records and a subtotal, then
//! the grand total and the signature block. Everything is written in row order, so
//! the sheet streams in constant-memory mode.

use rust_xlsxwriter::{ColNum, Format, Formula, Worksheet, XlsxError, column_number_to_name};

use super::{
    ExportError, GRAND_TOTAL, MARKER_PREFIX, SUBTOTAL_PREFIX, SheetHeader, UNCLASSIFIED,
    frame::{Frame, Head, print_setup, put},
    is_summed, section_rank,
    style::{LINE, NumKind, Styles, as_f64, cell_text, lines, new_workbook, write_date},
};
use crate::forms::{ColumnDef, Derived, FieldDef, Form, Record, Value};

/// Writes the official form of `form` for one unit. `records` must come ordered by
/// [`section_rank`](super::section_rank) then code; they are consumed one at a time.
pub fn official_form<I>(
    form: &Form,
    header: &SheetHeader,
    records: I,
) -> Result<Vec<u8>, ExportError>
where
    I: IntoIterator<Item = Record>,
{
    let mut bytes = Vec::new();
    official_form_to(form, header, records, &mut bytes)?;
    Ok(bytes)
}

/// [`official_form`] written into `out` as the file is assembled (no whole file in memory).
pub fn official_form_to<I, W>(
    form: &Form,
    header: &SheetHeader,
    records: I,
    out: W,
) -> Result<(), ExportError>
where
    I: IntoIterator<Item = Record>,
    W: std::io::Write + Send,
{
    let mut wb = new_workbook()?;
    let ws = wb.add_worksheet_with_constant_memory()?;
    let mut sheet = Sheet::new(form, ws)?;
    sheet.write_head(header)?;
    sheet.write_body(records)?;
    sheet.write_foot(header)?;
    Ok(wb.save_to_writer(out)?)
}

/// The header a column shows: its own header or the field label, with the unit in
/// parentheses unless the header or its group already names it.
pub(crate) fn column_header(field: &FieldDef, def: &ColumnDef) -> String {
    let text = def
        .header
        .as_ref()
        .unwrap_or(&field.label)
        .vi
        .trim()
        .to_string();
    match &field.unit {
        Some(unit) => {
            let tag = format!("({unit})");
            let in_group = def.group.as_ref().is_some_and(|g| g.vi.contains(&tag));
            if text.contains(&tag) || in_group {
                text
            } else {
                format!("{text} {tag}")
            }
        }
        None => text,
    }
}

/// Width that shows a header on at most three lines, never below 12 characters.
fn auto_width(header: &str) -> f64 {
    let longest = header
        .split_whitespace()
        .map(|w| w.chars().count())
        .max()
        .unwrap_or(0);
    let third = header.chars().count().div_ceil(3);
    ((longest.max(third) + 2) as f64).clamp(12.0, 30.0)
}

struct Column<'a> {
    field: &'a FieldDef,
    def: &'a ColumnDef,
    header: String,
    width: f64,
    data: Format,
    /// Format for a decimal that happens to be whole: `12`, not `12.000`.
    whole: Format,
    bold: Format,
    summed: bool,
}

/// A cell of a subtotal or total row: its sheet column, its column of `Sheet::cols`,
/// and the formula with its cached sum (`None`: blank).
type SumCell = (ColNum, usize, Option<(String, i128)>);

/// A cell of a record row of the open table: its sheet column, its column of `Sheet::cols`,
/// and the rule computing it, if any, with the sheet column letter of each input.
struct RowCell<'a> {
    col: ColNum,
    k: usize,
    derived: Option<(Derived<'a>, Vec<(&'a str, String)>)>,
}

/// One table of the sheet: the indices (into `Sheet::cols`) of its columns, in order.
/// Sheet column `i + 1` holds `cols[table[i]]`; column 0 is STT.
type Table = Vec<usize>;

struct Sheet<'a> {
    form: &'a Form,
    ws: &'a mut Worksheet,
    st: Styles,
    date: Format,
    /// Every column of the form definition.
    cols: Vec<Column<'a>>,
    /// Per section rank (then records without a section); one table for a form without sections.
    tables: Vec<Table>,
    /// The table being written.
    table: usize,
    /// The cells of a record row of the open table, worked out when the table opens.
    row_cells: Vec<RowCell<'a>>,
    frame: Frame,
    row: u32,
    /// First data row of the open table (sums run from it to the row above the subtotal).
    block_start: u32,
    /// Running sums of the open block, in thousandths, per column of `cols`, and
    /// whether any record of the block has a value there.
    block_sums: Vec<i128>,
    block_seen: Vec<bool>,
    grand_sums: Vec<i128>,
    grand_seen: Vec<bool>,
    /// Subtotal rows written, with the sheet column of each column of `cols` summed there.
    subtotals: Vec<(u32, Vec<(usize, ColNum)>)>,
    /// Tables printed so far (a field goes into the grand total only when all of them show it).
    printed: Vec<usize>,
    stt: u64,
}

const STT_WIDTH: f64 = 5.0;

impl<'a> Sheet<'a> {
    fn new(form: &'a Form, ws: &'a mut Worksheet) -> Result<Sheet<'a>, ExportError> {
        let st = Styles::new();
        let cols: Vec<Column> = form
            .columns
            .iter()
            .filter_map(|def| form.field(&def.field).map(|field| (def, field)))
            .map(|(def, field)| {
                let kind = NumKind::of(field);
                let header = column_header(field, def);
                Column {
                    field,
                    def,
                    width: def.width.unwrap_or_else(|| auto_width(&header)),
                    header,
                    data: match kind {
                        Some(k) => st.number(k, false),
                        None => st.text.clone(),
                    },
                    whole: match kind {
                        Some(NumKind::Decimal(_)) => st.number(NumKind::Whole, false),
                        Some(k) => st.number(k, false),
                        None => st.text.clone(),
                    },
                    bold: match kind {
                        Some(k) => st.number(k, true),
                        None => st.label_bold.clone(),
                    },
                    summed: is_summed(field),
                }
            })
            .collect();
        let index_of = |def: &ColumnDef| cols.iter().position(|c| std::ptr::eq(c.def, def));
        let table_of = |section: Option<&str>| -> Table {
            form.table_columns(section)
                .into_iter()
                .filter_map(index_of)
                .collect()
        };
        let tables: Vec<Table> = if form.has_sections() {
            form.sections
                .iter()
                .map(|s| table_of(Some(&s.code)))
                .chain([table_of(None)])
                .collect()
        } else {
            vec![(0..cols.len()).collect()]
        };
        // A sheet column is as wide as the widest column any table puts there.
        let mut widths = vec![STT_WIDTH];
        for t in &tables {
            for (i, &k) in t.iter().enumerate() {
                let w = cols.get(k).map_or(0.0, |c| c.width);
                match widths.get_mut(i + 1) {
                    Some(x) => *x = f64::max(*x, w),
                    None => widths.push(w),
                }
            }
        }
        let frame = Frame::new(widths);
        ws.set_name(&form.code)?;
        frame.set_widths(ws)?;
        print_setup(ws, &frame)?;
        let n = cols.len();
        Ok(Sheet {
            form,
            ws,
            date: st.number(NumKind::Date, false),
            st,
            cols,
            tables,
            table: 0,
            row_cells: Vec::new(),
            frame,
            row: 0,
            block_start: 0,
            block_sums: vec![0; n],
            block_seen: vec![false; n],
            grand_sums: vec![0; n],
            grand_seen: vec![false; n],
            subtotals: Vec::new(),
            printed: Vec::new(),
            stt: 0,
        })
    }

    fn columns(&self) -> impl Iterator<Item = (ColNum, usize, &Column<'a>)> {
        self.tables
            .get(self.table)
            .into_iter()
            .flatten()
            .enumerate()
            .filter_map(|(i, &k)| self.cols.get(k).map(|c| ((i + 1) as ColNum, k, c)))
    }

    /// Last sheet column of the open table.
    fn last_col(&self) -> ColNum {
        self.tables.get(self.table).map_or(0, |t| t.len() as ColNum)
    }

    fn write_head(&mut self, header: &SheetHeader) -> Result<(), XlsxError> {
        let form_no = format!("Mẫu số {}", self.form.code);
        self.row = self.frame.write_top(
            self.ws,
            &self.st,
            header,
            Some(&form_no),
            &self.form.title.vi,
            Some("Đơn vị tính giá trị: đồng"),
        )?;
        if !self.form.has_sections() {
            self.row_cells = self.row_cells(None);
            self.table_head(true)?;
            self.block_start = self.row;
            self.printed.push(0);
        }
        Ok(())
    }

    /// The hidden key row (our layout marker), then the group headers, field headers
    /// and numbering row of the open table.
    fn table_head(&mut self, repeat: bool) -> Result<(), XlsxError> {
        // The marker row: hidden, machine-read; each key sits in its column, so the
        // mapping survives columns being moved or inserted.
        let row = self.row;
        self.ws.set_row_hidden(row)?;
        let tag = format!("{MARKER_PREFIX}{}", self.form.code);
        self.ws
            .write_string_with_format(row, 0, &tag, &self.st.marker)?;
        let keys: Vec<(ColNum, &str)> = self
            .columns()
            .map(|(col, _, c)| (col, c.def.field.as_str()))
            .collect();
        for (col, key) in keys {
            self.ws
                .write_string_with_format(row, col, key, &self.st.marker)?;
        }
        let texts: Vec<(Option<String>, String)> = self
            .columns()
            .map(|(_, _, c)| (c.def.group.as_ref().map(|g| g.vi.clone()), c.header.clone()))
            .collect();
        let heads: Vec<Head> = texts
            .iter()
            .map(|(group, header)| Head {
                group: group.as_deref(),
                header,
            })
            .collect();
        self.row = self
            .frame
            .write_table_head(self.ws, &self.st, row + 1, &heads, repeat)?;
        Ok(())
    }

    fn write_body<I>(&mut self, records: I) -> Result<(), ExportError>
    where
        I: IntoIterator<Item = Record>,
    {
        let n_sections = self.form.sections.len();
        let mut current: Option<usize> = None;
        for (i, record) in records.into_iter().enumerate() {
            if self.form.has_sections() {
                let rank = section_rank(self.form, &record);
                match current {
                    Some(c) if c == rank => {}
                    Some(c) if rank < c => {
                        return Err(ExportError::Unordered {
                            position: i + 1,
                            section: self.section_name(rank),
                            after: self.section_name(c),
                        });
                    }
                    _ => {
                        if let Some(c) = current {
                            self.close_block(c)?;
                        }
                        // Sections without records still print, with blank subtotals.
                        for s in current.map_or(0, |c| c + 1)..rank.min(n_sections) {
                            self.open_block(s)?;
                            self.close_block(s)?;
                        }
                        self.open_block(rank)?;
                        current = Some(rank);
                    }
                }
            }
            self.record_row(&record)?;
        }
        if self.form.has_sections() {
            if let Some(c) = current {
                self.close_block(c)?;
            }
            for s in current.map_or(0, |c| c + 1)..n_sections {
                self.open_block(s)?;
                self.close_block(s)?;
            }
        }
        Ok(())
    }

    fn section_name(&self, rank: usize) -> String {
        self.form
            .sections
            .get(rank)
            .map_or_else(|| "-".to_string(), |s| s.code.clone())
    }

    /// A section's own table: a blank line after the previous one, its head, then
    /// the section row (`I. Đất`) across the table.
    fn open_block(&mut self, rank: usize) -> Result<(), XlsxError> {
        if !self.printed.is_empty() {
            self.row += 1;
        }
        self.table = rank.min(self.tables.len().saturating_sub(1));
        self.printed.push(self.table);
        let section = self.form.sections.get(rank).map(|s| s.code.clone());
        self.row_cells = self.row_cells(section.as_deref());
        self.table_head(false)?;
        let label = match self.form.sections.get(rank) {
            Some(s) => match &s.unit_of_measure {
                Some(u) => format!("{}. {} (đơn vị tính: {u})", s.code, s.name.vi),
                None => format!("{}. {}", s.code, s.name.vi),
            },
            None => UNCLASSIFIED.to_string(),
        };
        put(
            self.ws,
            self.row,
            (0, self.last_col()),
            &label,
            &self.st.label_bold,
        )?;
        self.block_start = self.row + 1;
        self.block_sums.iter_mut().for_each(|s| *s = 0);
        self.block_seen.iter_mut().for_each(|s| *s = false);
        self.stt = 0;
        self.row += 1;
        Ok(())
    }

    fn close_block(&mut self, rank: usize) -> Result<(), XlsxError> {
        let label = match self.form.sections.get(rank) {
            Some(s) => format!("{SUBTOTAL_PREFIX} {}", s.code),
            None => format!("{SUBTOTAL_PREFIX} chưa xác định"),
        };
        let (first, last) = (self.block_start + 1, self.row);
        let cells: Vec<SumCell> = self
            .columns()
            .map(|(col, k, c)| {
                let seen = self.block_seen.get(k).copied().unwrap_or(false);
                let sum = self.block_sums.get(k).copied().unwrap_or(0);
                let letter = column_number_to_name(col);
                let cell = (c.summed && seen && last >= first)
                    .then(|| (format!("=SUM({letter}{first}:{letter}{last})"), sum));
                (col, k, cell)
            })
            .collect();
        for k in 0..self.cols.len() {
            if let (Some(g), Some(s)) = (self.grand_sums.get_mut(k), self.block_sums.get(k)) {
                *g += s;
            }
            if let (Some(g), Some(s)) = (self.grand_seen.get_mut(k), self.block_seen.get(k)) {
                *g |= s;
            }
        }
        let summed = cells
            .iter()
            .filter(|(_, _, cell)| cell.is_some())
            .map(|(col, k, _)| (*k, *col))
            .collect();
        self.subtotals.push((self.row, summed));
        self.sums_row(&label, cells)
    }

    /// A subtotal or total row: its label over the first columns, then in each
    /// summed column with values a formula with its cached result; other cells blank.
    fn sums_row(&mut self, label: &str, cells: Vec<SumCell>) -> Result<(), XlsxError> {
        let row = self.row;
        // The label spans STT and the text columns that follow it (code, name).
        let span = cells
            .iter()
            .take_while(|(_, k, cell)| {
                cell.is_none() && self.cols.get(*k).is_some_and(|c| !c.summed)
            })
            .take(2)
            .count() as ColNum;
        put(self.ws, row, (0, span), label, &self.st.label_bold)?;
        for (col, k, cell) in cells.into_iter().filter(|(col, _, _)| *col > span) {
            let bold = self.cols.get(k).map_or(&self.st.blank, |c| &c.bold);
            match cell {
                Some((formula, sum)) => {
                    let formula = Formula::new(formula).set_result(milli_text(sum));
                    self.ws.write_formula_with_format(row, col, formula, bold)?;
                }
                None => {
                    self.ws.write_blank(row, col, &self.st.blank)?;
                }
            }
        }
        self.row += 1;
        Ok(())
    }

    /// The cells of a record row of the open table, in sheet order, each with the rule that
    /// computes it from others, if any ([`Self::derived_cells`]), and the sheet column of each
    /// of the rule's inputs: worked out once per table, not per row.
    fn row_cells(&self, section: Option<&str>) -> Vec<RowCell<'a>> {
        let derived = self.derived_cells(section);
        let cols: &[Column<'a>] = &self.cols;
        let letter = |key: &str| {
            let j = cols.iter().position(|c| c.def.field == key)?;
            Some(column_number_to_name(self.col_of(j)?))
        };
        self.columns()
            .map(|(col, k, c)| RowCell {
                col,
                k,
                derived: derived.iter().find(|d| d.field == c.def.field).map(|d| {
                    let inputs = d
                        .plus
                        .iter()
                        .chain(&d.minus)
                        .filter_map(|key| Some((*key, letter(key)?)))
                        .collect();
                    (d.clone(), inputs)
                }),
            })
            .collect()
    }

    /// Which cells of the open table are computed from others ([`Form::derived`] for
    /// `section`): only those whose every input is in the table too.
    fn derived_cells(&self, section: Option<&str>) -> Vec<Derived<'a>> {
        let form: &'a Form = self.form;
        let table = self.tables.get(self.table).cloned().unwrap_or_default();
        let has = |key: &str| {
            table
                .iter()
                .any(|&k| self.cols.get(k).is_some_and(|c| c.def.field == key))
        };
        form.derived(section)
            .into_iter()
            .filter(|d| has(d.field) && d.plus.iter().chain(&d.minus).all(|k| has(k)))
            .collect()
    }

    /// The sheet column of column `k` of `cols` in the open table.
    fn col_of(&self, k: usize) -> Option<ColNum> {
        self.tables
            .get(self.table)?
            .iter()
            .position(|&j| j == k)
            .map(|i| (i + 1) as ColNum)
    }

    fn record_row(&mut self, record: &Record) -> Result<(), XlsxError> {
        self.stt += 1;
        let row = self.row;
        self.ws
            .write_number_with_format(row, 0, self.stt as f64, &self.st.center)?;
        // The plan is taken out for the row (the cells write through `self`) and put back.
        let cells = std::mem::take(&mut self.row_cells);
        let lines_needed = self.record_cells(&cells, record, row);
        self.row_cells = cells;
        let lines_needed = lines_needed?;
        // Wrapped text needs its lines: a row without height overprints the next one.
        if lines_needed > 1 {
            self.ws
                .set_row_height(row, LINE * f64::from(lines_needed.min(27)) + 3.0)?;
        }
        self.row += 1;
        Ok(())
    }

    /// The cells of a record row after STT; returns the lines its wrapped text needs.
    fn record_cells(
        &mut self,
        cells: &[RowCell<'a>],
        record: &Record,
        row: u32,
    ) -> Result<u32, XlsxError> {
        let mut lines_needed = 1;
        for cell in cells {
            let (col, k) = (cell.col, cell.k);
            let Some(c) = self.cols.get(k) else { continue };
            let value = record.get(&c.def.field);
            if c.summed
                && let Some(v) = value
            {
                if let Some(s) = self.block_sums.get_mut(k) {
                    *s += milli_of(v);
                }
                if let Some(s) = self.block_seen.get_mut(k) {
                    *s = true;
                }
            }
            let Some(value) = value else {
                self.ws.write_blank(row, col, &c.data)?;
                continue;
            };
            let owned: String;
            let text: &str = match value {
                Value::Int(_) | Value::Money(_) | Value::Milli(_) => {
                    let n = as_f64(value).unwrap_or_default();
                    let format = match value {
                        Value::Milli(m) if m % 1000 == 0 => &c.whole,
                        _ => &c.data,
                    };
                    // A derived cell is a formula over its inputs (cached: the stored value), so
                    // that editing a quantity or a cost in Excel or LibreOffice updates it.
                    let formula = cell.derived.as_ref().and_then(|(d, inputs)| {
                        d.formula(row + 1, |key| {
                            record.get(key)?;
                            inputs
                                .iter()
                                .find(|(k, _)| *k == key)
                                .map(|(_, letter)| letter.clone())
                        })
                    });
                    match formula {
                        Some(f) => {
                            let f = Formula::new(format!("={f}"))
                                .set_result(milli_text(milli_of(value)));
                            self.ws.write_formula_with_format(row, col, f, format)?;
                        }
                        None => {
                            self.ws.write_number_with_format(row, col, n, format)?;
                        }
                    }
                    continue;
                }
                Value::Date(d) => {
                    write_date(self.ws, row, col, *d, &self.date, &self.st.text)?;
                    continue;
                }
                Value::Code(code) => c
                    .field
                    .option(code)
                    .map_or(code.as_str(), |o| o.label.vi.as_str()),
                Value::Text(s) => s.as_str(),
                Value::Bool(_) | Value::Docs(_) => {
                    owned = value.to_text(c.field);
                    owned.as_str()
                }
            };
            let text = cell_text(text);
            lines_needed = lines_needed.max(lines(&text, c.width));
            self.ws
                .write_string_with_format(row, col, text.as_ref(), &c.data)?;
        }
        Ok(lines_needed)
    }

    fn write_foot(&mut self, header: &SheetHeader) -> Result<(), XlsxError> {
        let cells: Vec<SumCell> = if self.form.has_sections() {
            // Under the last table, a field every printed table shows: the sum of its subtotals.
            self.columns()
                .map(|(col, k, c)| {
                    let everywhere = self
                        .printed
                        .iter()
                        .all(|t| self.tables.get(*t).is_some_and(|t| t.contains(&k)));
                    let refs: Vec<String> =
                        self.subtotals
                            .iter()
                            .filter_map(|(r, cells)| {
                                cells.iter().find(|(j, _)| *j == k).map(|(_, at)| {
                                    format!("{}{}", column_number_to_name(*at), r + 1)
                                })
                            })
                            .collect();
                    let cell = (c.summed && everywhere && !refs.is_empty()).then(|| {
                        (
                            format!("={}", refs.join("+")),
                            self.grand_sums.get(k).copied().unwrap_or(0),
                        )
                    });
                    (col, k, cell)
                })
                .collect()
        } else {
            let (first, last) = (self.block_start + 1, self.row);
            self.columns()
                .map(|(col, k, c)| {
                    let seen = self.block_seen.get(k).copied().unwrap_or(false);
                    let letter = column_number_to_name(col);
                    let cell = (c.summed && seen && last >= first).then(|| {
                        (
                            format!("=SUM({letter}{first}:{letter}{last})"),
                            self.block_sums.get(k).copied().unwrap_or(0),
                        )
                    });
                    (col, k, cell)
                })
                .collect()
        };
        self.sums_row(GRAND_TOTAL, cells)?;
        self.frame
            .write_team_and_signature(self.ws, &self.st, self.row + 1, header)?;
        Ok(())
    }
}

/// A value in thousandths, as a sum adds it up (text adds nothing, as in Excel).
fn milli_of(value: &Value) -> i128 {
    match value {
        Value::Int(n) | Value::Money(n) => i128::from(*n) * 1000,
        Value::Milli(n) => i128::from(*n),
        _ => 0,
    }
}

/// Thousandths as the shortest decimal text (`12500` → `12.5`), the cached result of a sum.
fn milli_text(n: i128) -> String {
    let sign = if n < 0 { "-" } else { "" };
    let (int, frac) = (n.abs() / 1000, n.abs() % 1000);
    if frac == 0 {
        format!("{sign}{int}")
    } else {
        let frac = format!("{frac:03}");
        format!("{sign}{int}.{}", frac.trim_end_matches('0'))
    }
}

#[cfg(test)]
mod tests;
