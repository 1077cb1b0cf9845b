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
    frame::{Frame, Head, SIGNERS, print_setup},
    is_summed, section_rank,
    style::{NumKind, Styles, as_f64, cell_text, new_workbook, write_date},
};
use crate::forms::{ColumnDef, FieldDef, Form, Record, Value};

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
    let mut wb = new_workbook()?;
    let ws = wb.add_worksheet_with_constant_memory()?;
    let mut sheet = Sheet::new(form, ws)?;
    sheet.write_head(header)?;
    sheet.write_body(records)?;
    sheet.write_foot(header)?;
    Ok(wb.save_to_buffer()?)
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
    letter: String,
    data: Format,
    /// Format for a decimal that happens to be whole: `12`, not `12.000`.
    whole: Format,
    bold: Format,
    summed: bool,
}

struct Sheet<'a> {
    form: &'a Form,
    ws: &'a mut Worksheet,
    st: Styles,
    date: Format,
    cols: Vec<Column<'a>>,
    frame: Frame,
    row: u32,
    /// Section row of the open block (sums run from it to the row above the subtotal).
    block_start: u32,
    /// Running sums of the open block, in thousandths, per column.
    block_sums: Vec<i128>,
    grand_sums: Vec<i128>,
    subtotal_rows: Vec<u32>,
    first_data_row: u32,
    stt: u64,
}

const STT_WIDTH: f64 = 6.0;

impl<'a> Sheet<'a> {
    fn new(form: &'a Form, ws: &'a mut Worksheet) -> Result<Sheet<'a>, ExportError> {
        let st = Styles::new();
        let cols: Vec<Column> = form
            .columns
            .iter()
            .filter_map(|def| form.field(&def.field).map(|field| (def, field)))
            .enumerate()
            .map(|(i, (def, field))| {
                let kind = NumKind::of(field);
                Column {
                    field,
                    def,
                    header: column_header(field, def),
                    letter: column_number_to_name((i + 1) as ColNum),
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
        let mut widths = vec![STT_WIDTH];
        widths.extend(
            cols.iter()
                .map(|c| c.def.width.unwrap_or_else(|| auto_width(&c.header))),
        );
        let frame = Frame::new(widths);
        ws.set_name(&form.code)?;
        frame.set_widths(ws)?;
        print_setup(ws);
        let n = cols.len();
        Ok(Sheet {
            form,
            ws,
            date: st.number(NumKind::Date, false),
            st,
            cols,
            frame,
            row: 0,
            block_start: 0,
            block_sums: vec![0; n],
            grand_sums: vec![0; n],
            subtotal_rows: Vec::new(),
            first_data_row: 0,
            stt: 0,
        })
    }

    fn write_head(&mut self, header: &SheetHeader) -> Result<(), XlsxError> {
        let form_no = format!("Mẫu số {}", self.form.code);
        let mut row = self.frame.write_top(
            self.ws,
            &self.st,
            header,
            Some(&form_no),
            &self.form.title.vi,
            Some("Đơn vị tính giá trị: đồng"),
        )?;
        // The marker row: hidden, machine-read; each key sits in its column, so the
        // mapping survives columns being moved or inserted.
        self.ws.set_row_hidden(row)?;
        let tag = format!("{MARKER_PREFIX}{}", self.form.code);
        self.ws
            .write_string_with_format(row, 0, &tag, &self.st.marker)?;
        for (i, c) in self.cols.iter().enumerate() {
            self.ws.write_string_with_format(
                row,
                (i + 1) as ColNum,
                &c.def.field,
                &self.st.marker,
            )?;
        }
        row += 1;
        let heads: Vec<Head> = self
            .cols
            .iter()
            .map(|c| Head {
                group: c.def.group.as_ref().map(|g| g.vi.as_str()),
                header: &c.header,
            })
            .collect();
        row = self
            .frame
            .write_table_head(self.ws, &self.st, row, &heads)?;
        self.row = row;
        self.first_data_row = row;
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
                        // Sections without records still print, with a zero subtotal.
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

    fn open_block(&mut self, rank: usize) -> Result<(), XlsxError> {
        let label = match self.form.sections.get(rank) {
            Some(s) => format!("{}. {}", s.code, s.name.vi),
            None => UNCLASSIFIED.to_string(),
        };
        self.ws
            .write_string_with_format(self.row, 0, &label, &self.st.label_bold)?;
        for col in 1..=self.frame.last_col() {
            self.ws.write_blank(self.row, col, &self.st.blank)?;
        }
        self.block_start = self.row;
        self.block_sums.iter_mut().for_each(|s| *s = 0);
        self.stt = 0;
        self.row += 1;
        Ok(())
    }

    fn close_block(&mut self, rank: usize) -> Result<(), XlsxError> {
        let label = match self.form.sections.get(rank) {
            Some(s) => format!("{SUBTOTAL_PREFIX} {}", s.code),
            None => format!("{SUBTOTAL_PREFIX} chưa xác định"),
        };
        // The range starts on the (blank) section row so that it is never empty.
        let (first, last) = (self.block_start + 1, self.row);
        let section = self.form.sections.get(rank).map(|s| s.code.as_str());
        // A column that does not apply to the section (car columns under "I. Đất") stays blank.
        let cells: Vec<Option<(String, i128)>> = self
            .cols
            .iter()
            .zip(&self.block_sums)
            .map(|(c, sum)| {
                (section.is_none() || c.field.applies_to(section))
                    .then(|| (format!("=SUM({l}{first}:{l}{last})", l = c.letter), *sum))
            })
            .collect();
        for (g, s) in self.grand_sums.iter_mut().zip(&self.block_sums) {
            *g += s;
        }
        self.subtotal_rows.push(self.row);
        self.sums_row(&label, cells)
    }

    /// A subtotal or total row: its label, then in each summed column a formula
    /// with its cached result (`cells` holds one per column; others stay blank).
    fn sums_row(
        &mut self,
        label: &str,
        cells: Vec<Option<(String, i128)>>,
    ) -> Result<(), XlsxError> {
        let row = self.row;
        self.ws
            .write_string_with_format(row, 0, label, &self.st.label_bold)?;
        for (i, (c, cell)) in self.cols.iter().zip(cells).enumerate() {
            let col = (i + 1) as ColNum;
            if let (true, Some((formula, sum))) = (c.summed, cell) {
                let formula = Formula::new(formula).set_result(milli_text(sum));
                self.ws
                    .write_formula_with_format(row, col, formula, &c.bold)?;
            } else {
                self.ws.write_blank(row, col, &self.st.blank)?;
            }
        }
        self.row += 1;
        Ok(())
    }

    fn record_row(&mut self, record: &Record) -> Result<(), XlsxError> {
        self.stt += 1;
        let row = self.row;
        self.ws
            .write_number_with_format(row, 0, self.stt as f64, &self.st.center)?;
        for (i, c) in self.cols.iter().enumerate() {
            let col = (i + 1) as ColNum;
            let value = record.get(&c.def.field);
            if c.summed {
                self.block_sums[i] += value.map_or(0, milli_of);
            }
            let Some(value) = value else {
                self.ws.write_blank(row, col, &c.data)?;
                continue;
            };
            match value {
                Value::Int(_) | Value::Money(_) | Value::Milli(_) => {
                    let n = as_f64(value).unwrap_or_default();
                    let format = match value {
                        Value::Milli(m) if m % 1000 == 0 => &c.whole,
                        _ => &c.data,
                    };
                    self.ws.write_number_with_format(row, col, n, format)?;
                }
                Value::Date(d) => write_date(self.ws, row, col, *d, &self.date, &self.st.text)?,
                Value::Code(code) => {
                    let label = c
                        .field
                        .option(code)
                        .map_or(code.as_str(), |o| o.label.vi.as_str());
                    self.ws
                        .write_string_with_format(row, col, cell_text(label), &c.data)?;
                }
                Value::Text(s) => {
                    self.ws
                        .write_string_with_format(row, col, cell_text(s), &c.data)?;
                }
                Value::Bool(_) | Value::Docs(_) => {
                    let text = value.to_text(c.field);
                    self.ws
                        .write_string_with_format(row, col, cell_text(&text), &c.data)?;
                }
            }
        }
        self.row += 1;
        Ok(())
    }

    fn write_foot(&mut self, header: &SheetHeader) -> Result<(), XlsxError> {
        let (first, row) = (self.first_data_row + 1, self.row);
        let cells: Vec<(String, i128)> = self
            .cols
            .iter()
            .enumerate()
            .map(|(i, c)| {
                if self.form.has_sections() {
                    let refs: Vec<String> = self
                        .subtotal_rows
                        .iter()
                        .map(|r| format!("{}{}", c.letter, r + 1))
                        .collect();
                    (format!("={}", refs.join("+")), self.grand_sums[i])
                } else if row >= first {
                    (
                        format!("=SUM({l}{first}:{l}{row})", l = c.letter),
                        self.block_sums[i],
                    )
                } else {
                    ("=0".to_string(), 0)
                }
            })
            .collect();
        self.sums_row(GRAND_TOTAL, cells.into_iter().map(Some).collect())?;
        self.frame
            .write_signature(self.ws, &self.st, row + 2, &header.place, SIGNERS)?;
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
