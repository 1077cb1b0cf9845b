//! The table both ward sheets (the summary, `summary.rs`, and the progress board, `progress.rs`)
//! are written as: one row per unit under grouped column heads, blocks with subtotals, and a total
//! row, every sum a formula with its cached result. It shares the official form's frame, head and
//! total conventions.

use rust_xlsxwriter::{ColNum, Formula, Worksheet, XlsxError, column_number_to_name};

use super::{
    ExportError, SheetHeader,
    frame::{Frame, Head, SIGNERS, print_setup},
    style::{LINE, NumKind, Styles, cell_text, lines, new_workbook},
};

/// What the total row does with a column.
#[derive(Clone, Copy, PartialEq)]
pub(super) enum Total {
    None,
    Sum,
    /// Counts the "Có" cells.
    CountYes,
}

pub(super) struct Col<'a> {
    pub(super) group: Option<&'a str>,
    pub(super) header: &'a str,
    pub(super) width: f64,
    pub(super) total: Total,
    /// Number format of the column's figures.
    pub(super) kind: NumKind,
}

impl<'a> Col<'a> {
    pub(super) fn text(header: &'a str, width: f64) -> Col<'a> {
        Col {
            group: None,
            header,
            width,
            total: Total::None,
            kind: NumKind::Whole,
        }
    }

    pub(super) fn sum(group: Option<&'a str>, header: &'a str, width: f64) -> Col<'a> {
        Col {
            group,
            header,
            width,
            total: Total::Sum,
            kind: NumKind::Whole,
        }
    }

    /// A physical quantity: decimals, summed.
    pub(super) fn measure(group: Option<&'a str>, header: &'a str, kind: NumKind) -> Col<'a> {
        Col {
            group,
            header,
            width: 12.0,
            total: Total::Sum,
            kind,
        }
    }
}

/// One cell of a table row.
#[derive(Clone)]
pub(super) enum Out {
    Blank,
    Text(String),
    Whole(i128),
    /// A decimal, in thousandths.
    Milli(i128),
    /// Yes / no / not yet.
    Yes(Option<bool>),
    /// Sum of other cells of the same row (indexes into the row), with its value.
    RowSum(Vec<usize>, i128),
}

/// Rows of a table under an optional heading, with an optional subtotal.
pub(super) struct Block {
    pub(super) heading: Option<&'static str>,
    pub(super) rows: Vec<Vec<Out>>,
    pub(super) subtotal: Option<&'static str>,
    /// Whether the total row adds this block up.
    pub(super) in_total: bool,
}

/// A ward sheet: its name, title, columns, whether it has a signature block, its total row
/// and its unit note.
pub(super) struct Table<'a> {
    pub(super) sheet: String,
    pub(super) title: &'a str,
    pub(super) cols: &'a [Col<'a>],
    pub(super) signature: bool,
    pub(super) total_label: &'a str,
    /// The note over the table's right end (`Đơn vị tính giá trị: đồng`), if the sheet has money.
    pub(super) unit_note: Option<&'a str>,
}

/// The note of a sheet with money in it.
pub(super) const IN_DONG: Option<&str> = Some("Đơn vị tính giá trị: đồng");

/// A sum as the cached result of its formula.
fn result(kind: NumKind, v: i128) -> String {
    match kind {
        NumKind::Decimal(_) => {
            let sign = if v < 0 { "-" } else { "" };
            let a = v.unsigned_abs();
            format!("{sign}{}.{:03}", a / 1000, a % 1000)
        }
        _ => v.to_string(),
    }
}

impl Table<'_> {
    pub(super) fn write(
        &self,
        header: &SheetHeader,
        blocks: Vec<Block>,
    ) -> Result<Vec<u8>, ExportError> {
        let mut wb = new_workbook()?;
        let ws = wb.add_worksheet_with_constant_memory()?;
        self.write_sheet(ws, header, blocks)?;
        Ok(wb.save_to_buffer()?)
    }

    fn write_sheet(
        &self,
        ws: &mut Worksheet,
        header: &SheetHeader,
        blocks: Vec<Block>,
    ) -> Result<(), XlsxError> {
        let st = Styles::new();
        let formats: Vec<(rust_xlsxwriter::Format, rust_xlsxwriter::Format)> = self
            .cols
            .iter()
            .map(|c| (st.number(c.kind, false), st.number(c.kind, true)))
            .collect();
        let whole = st.number(NumKind::Whole, false);
        let whole_bold = st.number(NumKind::Whole, true);
        let mut widths = vec![6.0];
        widths.extend(self.cols.iter().map(|c| c.width));
        let frame = Frame::new(widths);
        ws.set_name(&self.sheet)?;
        frame.set_widths(ws)?;
        print_setup(ws, &frame)?;
        let row = frame.write_top(ws, &st, header, None, self.title, self.unit_note)?;
        let heads: Vec<Head> = self
            .cols
            .iter()
            .map(|c| Head {
                group: c.group,
                header: c.header,
            })
            .collect();
        let first = frame.write_table_head(ws, &st, row, &heads, true)?;
        let letter = |i: usize| column_number_to_name((i + 1) as ColNum);
        let last = self.cols.len() as ColNum;
        // Labels of subtotal and total rows sit over STT and the first two columns.
        let label_end = last.min(2);
        let mut grand = vec![0i128; self.cols.len()];
        // Per summed column: the cells the total row adds up.
        let mut total_refs: Vec<Vec<String>> = vec![Vec::new(); self.cols.len()];
        let mut row = first;
        let single = blocks.len() == 1 && blocks.iter().all(|b| b.subtotal.is_none());
        for block in blocks.into_iter().filter(|b| single || !b.rows.is_empty()) {
            if let Some(h) = block.heading {
                ws.merge_range(row, 0, row, last, h, &st.label_bold)?;
                row += 1;
            }
            let start = row;
            let mut sums = vec![0i128; self.cols.len()];
            for (n, cells) in block.rows.iter().enumerate() {
                ws.write_number_with_format(row, 0, (n + 1) as f64, &st.center)?;
                // Wrapped text needs its lines: a row without height overprints the next one.
                let needed = cells
                    .iter()
                    .zip(self.cols)
                    .filter_map(|(cell, c)| match cell {
                        Out::Text(s) => Some(lines(s, c.width)),
                        _ => None,
                    })
                    .max()
                    .unwrap_or(1);
                if needed > 1 {
                    ws.set_row_height(row, LINE * f64::from(needed.min(27)) + 3.0)?;
                }
                for (i, cell) in cells.iter().enumerate().take(self.cols.len()) {
                    let col = (i + 1) as ColNum;
                    let Some((plain, _)) = formats.get(i) else {
                        continue;
                    };
                    match cell {
                        Out::Blank => {
                            ws.write_blank(row, col, &st.blank)?;
                        }
                        Out::Text(s) => {
                            ws.write_string_with_format(row, col, cell_text(s), &st.text)?;
                        }
                        Out::Whole(v) => {
                            ws.write_number_with_format(row, col, *v as f64, plain)?;
                            sums[i] += v;
                        }
                        Out::Milli(v) => {
                            // Whole quantities without decimals (12 chiếc, 1.350 m²).
                            let f = if v % 1000 == 0 { &whole } else { plain };
                            ws.write_number_with_format(row, col, *v as f64 / 1000.0, f)?;
                            sums[i] += v;
                        }
                        Out::Yes(b) => {
                            let text = match b {
                                Some(true) => "Có",
                                Some(false) => "Không",
                                None => "",
                            };
                            ws.write_string_with_format(row, col, text, &st.center)?;
                            sums[i] += i128::from(*b == Some(true));
                        }
                        Out::RowSum(parts, v) => {
                            let refs: Vec<String> = parts
                                .iter()
                                .map(|p| format!("{}{}", letter(*p), row + 1))
                                .collect();
                            let formula = Formula::new(format!("={}", refs.join("+")))
                                .set_result(v.to_string());
                            ws.write_formula_with_format(row, col, formula, plain)?;
                            sums[i] += v;
                        }
                    }
                }
                row += 1;
            }
            let range =
                |i: usize| format!("{l}{}:{l}{}", start + 1, row.max(start + 1), l = letter(i));
            let aggregate = |c: &Col, i: usize| match c.total {
                Total::None => None,
                _ if row == start => Some("0".to_string()),
                Total::Sum => Some(format!("SUM({})", range(i))),
                Total::CountYes => Some(format!("COUNTIF({},\"Có\")", range(i))),
            };
            match block.subtotal {
                Some(label) => {
                    ws.merge_range(row, 0, row, label_end, label, &st.label_bold)?;
                    for (i, c) in self.cols.iter().enumerate() {
                        let col = (i + 1) as ColNum;
                        if col <= label_end {
                            continue;
                        }
                        let Some(f) = aggregate(c, i) else {
                            ws.write_blank(row, col, &st.blank)?;
                            continue;
                        };
                        let bold = match formats.get(i) {
                            Some(_) if sums[i] % 1000 == 0 => &whole_bold,
                            Some(f) => &f.1,
                            None => &st.blank,
                        };
                        let formula =
                            Formula::new(format!("={f}")).set_result(result(c.kind, sums[i]));
                        ws.write_formula_with_format(row, col, formula, bold)?;
                        if block.in_total {
                            total_refs[i].push(format!("{}{}", letter(i), row + 1));
                        }
                    }
                    row += 1;
                }
                None if block.in_total => {
                    for (i, c) in self.cols.iter().enumerate() {
                        if let Some(f) = aggregate(c, i) {
                            total_refs[i].push(f);
                        }
                    }
                }
                None => {}
            }
            if block.in_total {
                for (g, s) in grand.iter_mut().zip(&sums) {
                    *g += s;
                }
            }
        }
        ws.merge_range(row, 0, row, label_end, self.total_label, &st.label_bold)?;
        for (i, c) in self.cols.iter().enumerate() {
            let col = (i + 1) as ColNum;
            if col <= label_end {
                continue;
            }
            if c.total == Total::None {
                ws.write_blank(row, col, &st.blank)?;
                continue;
            }
            let refs = &total_refs[i];
            let formula = if refs.is_empty() {
                "=0".to_string()
            } else {
                format!("={}", refs.join("+"))
            };
            let bold = match formats.get(i) {
                Some(_) if grand[i] % 1000 == 0 => &whole_bold,
                Some(f) => &f.1,
                None => &st.blank,
            };
            let formula = Formula::new(formula).set_result(result(c.kind, grand[i]));
            ws.write_formula_with_format(row, col, formula, bold)?;
        }
        if self.signature {
            frame.write_signature(ws, &st, row + 2, &header.place, SIGNERS)?;
        }
        Ok(())
    }
}
