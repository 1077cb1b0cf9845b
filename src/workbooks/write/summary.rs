//! The ward's two consolidated sheets: the summary of results (one row per unit,
//! by section and usage status) and the progress board (one row per unit, by
//! asset type). Inputs are plain structs the database layer fills in; the sheets
//! share the official form's frame, head and total conventions.

use std::collections::{BTreeMap, BTreeSet};

use rust_xlsxwriter::{ColNum, Formula, Worksheet, XlsxError, column_number_to_name};

use super::{
    ExportError, GRAND_TOTAL, SheetHeader, UNCLASSIFIED,
    frame::{Frame, Head, SIGNERS, print_setup},
    style::{LINE, NumKind, Styles, cell_text, lines, new_workbook},
};
use crate::forms::{FieldType, Form};

/// Count and values of a group of assets.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Figures {
    /// Number of assets (records).
    pub count: u64,
    /// Sum of original cost, đồng.
    pub original_cost: i64,
    /// Sum of remaining value, đồng.
    pub remaining_value: i64,
}

/// One unit's line of the summary.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UnitSummary {
    /// Budget-relationship code.
    pub unit_code: String,
    /// Unit name.
    pub unit_name: String,
    /// Figures by section code (`I`, `II`…); on a form without sections use any key
    /// (e.g. `""`): every entry adds to the total. On a sectioned form a key that is
    /// not a section (e.g. `""` for records without one) prints under "Chưa xác định phần".
    pub by_section: BTreeMap<String, Figures>,
    /// Asset count by usage-status code (`1`…`4`); other keys (e.g. `""`) print as "Chưa xác định".
    pub by_status: BTreeMap<String, u64>,
    /// The report's state as people read it (`Đang nhập`, `Đã gửi`, `Đã chấp nhận`…).
    pub state: String,
    /// Whether the report was sent (submitted or accepted): only these count in the total;
    /// the others are listed apart with their own subtotal.
    pub sent: bool,
    /// Physical quantities by [`Measure::key`], in thousandths (`1250500` = 1 250,5 m²).
    pub measures: BTreeMap<String, i64>,
}

/// A physical quantity the summary adds up beside the values, taken from the form
/// definition ([`measures`]): on a form with sections, the counted quantity of each section
/// that fixes its unit (`units = ["m²"]`: land and buildings in m², cars in chiếc); on a
/// form without sections, every area (m²) and length (km) column (road length, land area,
/// floor area…).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Measure {
    /// Key in [`UnitSummary::measures`]: `I/qty_counted` for a section's quantity, else the field key.
    pub key: String,
    /// The section whose records count, if any.
    pub section: Option<String>,
    /// The field added up.
    pub field: String,
    /// The unit of the sum; for a section's quantity, records in another unit are left out.
    pub unit: String,
    /// Column header, with the unit.
    pub header: String,
}

/// The physical quantities of `form`'s summary (see [`Measure`]).
pub fn measures(form: &Form) -> Vec<Measure> {
    if form.has_sections() {
        let qty = "qty_counted";
        form.sections
            .iter()
            .filter_map(|s| {
                // Only a section that fixes its unit can add its quantities up (others
                // count in cái, bộ, chiếc… at once).
                let [unit] = s.units.as_slice() else {
                    return None;
                };
                let unit = unit.clone();
                let what = if unit.ends_with('²') {
                    "Diện tích"
                } else {
                    "Số lượng"
                };
                Some(Measure {
                    key: format!("{}/{qty}", s.code),
                    section: Some(s.code.clone()),
                    field: qty.to_string(),
                    header: format!("{what} ({unit})"),
                    unit,
                })
            })
            .collect()
    } else {
        form.columns
            .iter()
            .filter_map(|def| {
                let f = form.field(&def.field)?;
                matches!(f.kind, FieldType::Area | FieldType::LengthKm).then(|| Measure {
                    key: f.key.clone(),
                    section: None,
                    field: f.key.clone(),
                    unit: f.unit.clone().unwrap_or_default(),
                    header: super::column_header(f, def),
                })
            })
            .collect()
    }
}

/// One unit's line of the progress board.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProgressRow {
    /// Budget-relationship code.
    pub unit_code: String,
    /// Unit name.
    pub unit_name: String,
    /// The asset types the unit registered.
    pub types: Vec<TypeProgress>,
}

/// Where one unit stands on one asset type.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TypeProgress {
    /// Form code (`01a`).
    pub form_code: String,
    /// State as people read it (`Đang nhập`, `Đã gửi`, `Đã duyệt`…).
    pub state: String,
    /// Deadline in force (the campaign's, or the unit's extension), as printed: `31/03/2026`.
    pub deadline: String,
    /// Days past the deadline of a report not sent; `None` while not overdue or once sent.
    pub days_overdue: Option<i64>,
    /// When the report was sent, local time as printed (`28/03/2026 14:05`).
    pub submitted_at: Option<String>,
    /// Sent before the deadline; `None` while not sent.
    pub on_time: Option<bool>,
    /// Assets recorded.
    pub record_count: u64,
    /// Sum of original cost, đồng.
    pub original_cost: i64,
    /// Sum of remaining value, đồng.
    pub remaining_value: i64,
}

/// The consolidated summary of `form` across units: each unit's report state, physical
/// quantities and values; the units whose report was sent (submitted or accepted) first,
/// then the others apart, each with a subtotal; the total counts only the sent reports.
pub fn summary(
    form: &Form,
    header: &SheetHeader,
    units: &[UnitSummary],
) -> Result<Vec<u8>, ExportError> {
    let known_section = |k: &String| form.sections.iter().any(|s| &s.code == k);
    let measures = measures(form);
    let mut groups: Vec<(String, Vec<String>, Option<&Measure>)> = form
        .sections
        .iter()
        .map(|s| {
            let m = measures
                .iter()
                .find(|m| m.section.as_ref() == Some(&s.code));
            (
                format!("{}. {}", s.code, s.name.vi),
                vec![s.code.clone()],
                m,
            )
        })
        .collect();
    let strays: Vec<String> = units
        .iter()
        .flat_map(|u| u.by_section.keys())
        .filter(|k| !known_section(k))
        .cloned()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    if form.has_sections() && !strays.is_empty() {
        groups.push((UNCLASSIFIED.to_string(), strays, None));
    }
    let statuses: Vec<(String, String)> = form
        .field("usage_status")
        .map(|f| {
            f.options
                .iter()
                .map(|o| (o.code.clone(), o.label.vi.clone()))
                .collect()
        })
        .unwrap_or_default();
    let stray_status = units
        .iter()
        .flat_map(|u| u.by_status.keys())
        .any(|k| !statuses.iter().any(|(c, _)| c == k));
    let scale = |m: &Measure| NumKind::Decimal(form.field(&m.field).map_or(2, |f| f.scale()));

    let mut cols: Vec<Col> = vec![
        Col::text("Mã đơn vị", 12.0),
        Col::text("Tên đơn vị", 35.0),
        Col::text("Trạng thái báo cáo", 13.0),
    ];
    let figure_heads = [
        ("Số tài sản", 9.0),
        ("Nguyên giá (đồng)", 18.0),
        ("Giá trị còn lại (đồng)", 18.0),
    ];
    if form.has_sections() {
        for (label, _, m) in &groups {
            if let Some(m) = m {
                cols.push(Col::measure(Some(label), &m.header, scale(m)));
            }
            for (h, w) in figure_heads {
                cols.push(Col::sum(Some(label), h, w));
            }
        }
    } else {
        for m in &measures {
            cols.push(Col::measure(Some("Quy mô"), &m.header, scale(m)));
        }
    }
    for (h, w) in figure_heads {
        cols.push(Col::sum(Some("Cộng"), h, w));
    }
    let status_group = "Tình trạng sử dụng (số tài sản)";
    for (_, label) in &statuses {
        cols.push(Col::sum(Some(status_group), label, 16.0));
    }
    if stray_status {
        cols.push(Col::sum(Some(status_group), "Chưa xác định", 12.0));
    }

    let line = |u: &UnitSummary| {
        let mut cells = vec![
            Out::Text(u.unit_code.clone()),
            Out::Text(u.unit_name.clone()),
            Out::Text(u.state.clone()),
        ];
        let measure = |m: &Measure| Out::Milli(u.measures.get(&m.key).copied().unwrap_or(0).into());
        let mut total = Figures::default();
        let mut parts: Vec<usize> = Vec::new();
        if form.has_sections() {
            for (_, keys, m) in &groups {
                if let Some(m) = m {
                    cells.push(measure(m));
                }
                let f = keys
                    .iter()
                    .filter_map(|k| u.by_section.get(k))
                    .fold(Figures::default(), add);
                parts.push(cells.len());
                cells.extend(figure_cells(f));
                total = add(total, &f);
            }
        } else {
            cells.extend(measures.iter().map(measure));
            total = u.by_section.values().fold(Figures::default(), add);
        }
        let totals = figure_cells(total);
        if parts.is_empty() {
            cells.extend(totals);
        } else {
            // "Cộng" adds up the unit's section columns, so it stays right when edited.
            for (k, t) in totals.into_iter().enumerate() {
                let Out::Whole(v) = t else { continue };
                cells.push(Out::RowSum(parts.iter().map(|p| p + k).collect(), v));
            }
        }
        for (code, _) in &statuses {
            cells.push(Out::Whole(
                u.by_status.get(code).copied().unwrap_or(0).into(),
            ));
        }
        if stray_status {
            let n: u64 = u
                .by_status
                .iter()
                .filter(|(k, _)| !statuses.iter().any(|(c, _)| c == *k))
                .map(|(_, n)| n)
                .sum();
            cells.push(Out::Whole(n.into()));
        }
        cells
    };
    let blocks = vec![
        Block {
            heading: Some(SENT_HEADING),
            rows: units.iter().filter(|u| u.sent).map(line).collect(),
            subtotal: Some(SENT_SUBTOTAL),
            in_total: true,
        },
        Block {
            heading: Some(UNSENT_HEADING),
            rows: units.iter().filter(|u| !u.sent).map(line).collect(),
            subtotal: Some(UNSENT_SUBTOTAL),
            in_total: false,
        },
    ];
    let title = format!(
        "Báo cáo tổng hợp kết quả kiểm kê {}",
        form.asset_type.name.vi.to_lowercase()
    );
    let report = Report {
        sheet: format!("tong_hop_{}", form.code),
        title: &title,
        cols: &cols,
        signature: true,
        total_label: SUMMARY_TOTAL,
    };
    report.write(header, blocks)
}

/// The summary's two parts and their subtotals; the total counts the first only.
pub const SENT_HEADING: &str = "A. Báo cáo đã gửi, đã chấp nhận";
pub const SENT_SUBTOTAL: &str = "Cộng A (đã gửi, đã chấp nhận)";
pub const UNSENT_HEADING: &str =
    "B. Báo cáo chưa gửi (đang nhập, bị trả lại, chưa bắt đầu) — không cộng vào tổng";
pub const UNSENT_SUBTOTAL: &str = "Cộng B (chưa gửi)";
pub const SUMMARY_TOTAL: &str = "TỔNG CỘNG (= A: báo cáo đã gửi, đã chấp nhận)";

/// The progress board: one row per unit, one group of columns per registered form.
pub fn progress_sheet(header: &SheetHeader, rows: &[ProgressRow]) -> Result<Vec<u8>, ExportError> {
    let forms: Vec<String> = rows
        .iter()
        .flat_map(|r| r.types.iter().map(|t| t.form_code.clone()))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let groups: Vec<String> = forms.iter().map(|f| format!("Mẫu số {f}")).collect();
    let mut cols: Vec<Col> = vec![Col::text("Mã đơn vị", 12.0), Col::text("Tên đơn vị", 35.0)];
    for g in &groups {
        cols.push(Col {
            group: Some(g),
            header: "Trạng thái",
            width: 14.0,
            total: Total::None,
            kind: NumKind::Whole,
        });
        cols.push(Col {
            group: Some(g),
            header: "Hạn gửi",
            width: 11.0,
            total: Total::None,
            kind: NumKind::Whole,
        });
        cols.push(Col {
            group: Some(g),
            header: "Số ngày quá hạn",
            width: 9.0,
            total: Total::None,
            kind: NumKind::Whole,
        });
        cols.push(Col {
            group: Some(g),
            header: "Thời điểm gửi",
            width: 17.0,
            total: Total::None,
            kind: NumKind::Whole,
        });
        cols.push(Col {
            group: Some(g),
            header: "Đúng hạn",
            width: 9.0,
            total: Total::CountYes,
            kind: NumKind::Whole,
        });
        cols.push(Col::sum(Some(g), "Số tài sản", 10.0));
        cols.push(Col::sum(Some(g), "Nguyên giá (đồng)", 18.0));
        cols.push(Col::sum(Some(g), "Giá trị còn lại (đồng)", 18.0));
    }
    let lines = rows.iter().map(|r| {
        let mut cells = vec![
            Out::Text(r.unit_code.clone()),
            Out::Text(r.unit_name.clone()),
        ];
        for f in &forms {
            match r.types.iter().find(|t| &t.form_code == f) {
                Some(t) => cells.extend([
                    Out::Text(t.state.clone()),
                    Out::Text(t.deadline.clone()),
                    t.days_overdue.map_or(Out::Blank, |d| Out::Whole(d.into())),
                    Out::Text(t.submitted_at.clone().unwrap_or_default()),
                    Out::Yes(t.on_time),
                    Out::Whole(t.record_count.into()),
                    Out::Whole(t.original_cost.into()),
                    Out::Whole(t.remaining_value.into()),
                ]),
                // Not registered for this type: nothing to report.
                None => cells.extend(std::iter::repeat_n(Out::Blank, 8)),
            }
        }
        cells
    });
    let report = Report {
        sheet: "tien_do".to_string(),
        title: "Theo dõi tiến độ kiểm kê tài sản công",
        cols: &cols,
        signature: false,
        total_label: GRAND_TOTAL,
    };
    report.write(
        header,
        vec![Block {
            heading: None,
            rows: lines.collect(),
            subtotal: None,
            in_total: true,
        }],
    )
}

fn add(a: Figures, b: &Figures) -> Figures {
    Figures {
        count: a.count.saturating_add(b.count),
        original_cost: a.original_cost.saturating_add(b.original_cost),
        remaining_value: a.remaining_value.saturating_add(b.remaining_value),
    }
}

fn figure_cells(f: Figures) -> [Out; 3] {
    [
        Out::Whole(f.count.into()),
        Out::Whole(f.original_cost.into()),
        Out::Whole(f.remaining_value.into()),
    ]
}

/// What the total row does with a column.
#[derive(Clone, Copy, PartialEq)]
enum Total {
    None,
    Sum,
    /// Counts the "Có" cells.
    CountYes,
}

struct Col<'a> {
    group: Option<&'a str>,
    header: &'a str,
    width: f64,
    total: Total,
    /// Number format of the column's figures.
    kind: NumKind,
}

impl<'a> Col<'a> {
    fn text(header: &'a str, width: f64) -> Col<'a> {
        Col {
            group: None,
            header,
            width,
            total: Total::None,
            kind: NumKind::Whole,
        }
    }

    fn sum(group: Option<&'a str>, header: &'a str, width: f64) -> Col<'a> {
        Col {
            group,
            header,
            width,
            total: Total::Sum,
            kind: NumKind::Whole,
        }
    }

    /// A physical quantity: decimals, summed.
    fn measure(group: Option<&'a str>, header: &'a str, kind: NumKind) -> Col<'a> {
        Col {
            group,
            header,
            width: 12.0,
            total: Total::Sum,
            kind,
        }
    }
}

/// One cell of a report row.
#[derive(Clone)]
enum Out {
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

/// Rows of a report under an optional heading, with an optional subtotal.
struct Block {
    heading: Option<&'static str>,
    rows: Vec<Vec<Out>>,
    subtotal: Option<&'static str>,
    /// Whether the total row adds this block up.
    in_total: bool,
}

struct Report<'a> {
    sheet: String,
    title: &'a str,
    cols: &'a [Col<'a>],
    signature: bool,
    total_label: &'a str,
}

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

impl Report<'_> {
    fn write(&self, header: &SheetHeader, blocks: Vec<Block>) -> Result<Vec<u8>, ExportError> {
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
        let row = frame.write_top(
            ws,
            &st,
            header,
            None,
            self.title,
            Some("Đơn vị tính giá trị: đồng"),
        )?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workbooks::write::testutil::{at, find, form, formulas, num, values, ward_header};

    fn unit(
        code: &str,
        land: (u64, i64, i64),
        cars: (u64, i64, i64),
        statuses: &[(&str, u64)],
        sent: bool,
    ) -> UnitSummary {
        let fig = |(count, original_cost, remaining_value)| Figures {
            count,
            original_cost,
            remaining_value,
        };
        UnitSummary {
            unit_code: code.into(),
            unit_name: format!("Đơn vị {code}"),
            by_section: [("I".to_string(), fig(land)), ("III".to_string(), fig(cars))].into(),
            by_status: statuses.iter().map(|(k, n)| (k.to_string(), *n)).collect(),
            state: if sent { "Đã gửi" } else { "Đang nhập" }.into(),
            sent,
            // 1 250,5 m² of land per land record; one car per car record.
            measures: [
                ("I/qty_counted".to_string(), land.0 as i64 * 1_250_500),
                ("III/qty_counted".to_string(), cars.0 as i64 * 1_000),
            ]
            .into(),
        }
    }

    #[test]
    fn the_physical_quantities_come_from_the_form_definition() {
        let keys = |code: &str| -> Vec<(String, String)> {
            measures(&form(code))
                .into_iter()
                .map(|m| (m.key, m.header))
                .collect()
        };
        let m01 = keys("01a");
        assert!(m01.contains(&("I/qty_counted".into(), "Diện tích (m²)".into())));
        assert!(m01.contains(&("II/qty_counted".into(), "Diện tích (m²)".into())));
        assert!(
            m01.contains(&("III/qty_counted".into(), "Số lượng (chiếc)".into())),
            "{m01:?}"
        );
        assert!(
            !m01.iter().any(|(k, _)| k == "IV/qty_counted"),
            "other fixed assets count in cái, bộ, chiếc… at once: no sum"
        );
        let m02 = keys("02a");
        assert!(
            m02.contains(&("length_km".into(), "Chiều dài (km)".into())),
            "{m02:?}"
        );
        assert!(m02.iter().any(|(k, _)| k == "land_area"));
        assert!(keys("18a").iter().any(|(k, _)| k == "floor_area"));
    }

    #[test]
    fn summary_totals_sent_reports_and_lists_drafts_apart_with_states_and_quantities() {
        let form = form("01a");
        let units = vec![
            unit(
                "1012345",
                (2, 5_000, 4_000),
                (1, 800, 400),
                &[("1", 2), ("4", 1)],
                true,
            ),
            unit(
                "1012346",
                (1, 1_000, 1_000),
                (0, 0, 0),
                &[("1", 1), ("", 1)],
                false,
            ),
            unit("1012347", (1, 700, 700), (2, 100, 50), &[("1", 3)], true),
        ];
        let bytes = summary(&form, &ward_header(), &units).unwrap();
        let v = values(&bytes, "tong_hop_01a");
        assert!(at(&v, 4, 0).starts_with("BÁO CÁO TỔNG HỢP KẾT QUẢ KIỂM KÊ TÀI SẢN CÔNG"));
        let (g, c_land) = find(&v, "I. Đất").unwrap();
        let (_, c_cars) = find(&v, "III. Xe ô tô").unwrap();
        let (_, c_sum) = find(&v, "Cộng").unwrap();
        let (_, c_status) = find(&v, "Tình trạng sử dụng (số tài sản)").unwrap();
        let (_, c_state) = find(&v, "Trạng thái báo cáo").unwrap();
        assert_eq!(at(&v, g + 1, c_land), "Diện tích (m²)");
        assert_eq!(at(&v, g + 1, c_land + 1), "Số tài sản");
        assert_eq!(at(&v, g + 1, c_cars), "Số lượng (chiếc)");
        assert_eq!(
            at(&v, g + 1, c_status),
            "Còn sử dụng được, đang sử dụng đúng mục đích"
        );
        assert!(
            find(&v, "Chưa xác định").is_some(),
            "a status outside the list gets a column"
        );
        // A: the two sent units, their subtotal; B: the draft apart; the total is A's.
        let a = g + 3;
        assert_eq!(at(&v, a, 0), SENT_HEADING);
        assert_eq!(
            (at(&v, a + 1, 1), at(&v, a + 1, c_state)),
            ("1012345".into(), "Đã gửi".into())
        );
        assert_eq!(at(&v, a + 2, 1), "1012347");
        assert_eq!(num(&v, a + 1, c_land), Some(2_501.0), "m² of land");
        assert_eq!(num(&v, a + 1, c_land + 1), Some(2.0));
        assert_eq!(num(&v, a + 1, c_cars + 2), Some(800.0));
        assert_eq!(num(&v, a + 2, c_cars), Some(2.0), "vehicles");
        assert_eq!(
            num(&v, a + 1, c_sum + 1),
            Some(5_800.0),
            "unit total across sections"
        );
        assert_eq!(num(&v, a + 1, c_status + 3), Some(1.0), "status 4");
        let sub_a = a + 3;
        assert_eq!(at(&v, sub_a, 0), SENT_SUBTOTAL);
        assert_eq!(num(&v, sub_a, c_sum + 1), Some(6_600.0));
        assert_eq!(num(&v, sub_a, c_land), Some(3_751.5));
        let b = sub_a + 1;
        assert_eq!(at(&v, b, 0), UNSENT_HEADING);
        assert_eq!(
            (at(&v, b + 1, 1), at(&v, b + 1, c_state)),
            ("1012346".into(), "Đang nhập".into())
        );
        assert_eq!(at(&v, b + 2, 0), UNSENT_SUBTOTAL);
        assert_eq!(num(&v, b + 2, c_sum + 1), Some(1_000.0));
        let total = b + 3;
        assert_eq!(at(&v, total, 0), SUMMARY_TOTAL);
        assert_eq!(num(&v, total, c_sum), Some(6.0), "assets of sent reports");
        assert_eq!(num(&v, total, c_sum + 1), Some(6_600.0), "drafts left out");
        assert_eq!(num(&v, total, c_land), Some(3_751.5));
        assert_eq!(num(&v, total, c_status), Some(5.0));
        let f = formulas(&bytes, "tong_hop_01a");
        assert!(f.get_value((a + 1, c_sum + 1)).unwrap().contains('+'));
        assert!(f.get_value((sub_a, c_sum + 1)).unwrap().starts_with("SUM("));
        let letter = rust_xlsxwriter::column_number_to_name((c_sum + 1) as u16);
        assert_eq!(
            f.get_value((total, c_sum + 1)).unwrap(),
            &format!("{letter}{}", sub_a + 1),
            "the total is the subtotal of A"
        );
        assert!(find(&v, "THỦ TRƯỞNG ĐƠN VỊ").is_some());
    }

    #[test]
    fn progress_board_groups_columns_by_form_and_counts_units_on_time() {
        let t = |form: &str, state: &str, on_time: Option<bool>, n: u64| TypeProgress {
            form_code: form.into(),
            state: state.into(),
            deadline: "31/03/2026".into(),
            days_overdue: on_time.is_none().then_some(4),
            submitted_at: on_time.map(|_| "28/03/2026 14:05".into()),
            on_time,
            record_count: n,
            original_cost: n as i64 * 1_000,
            remaining_value: n as i64 * 500,
        };
        let rows = vec![
            ProgressRow {
                unit_code: "1012345".into(),
                unit_name: "UBND phường".into(),
                types: vec![
                    t("01a", "Đã gửi", Some(true), 10),
                    t("18a", "Đang nhập", None, 2),
                ],
            },
            ProgressRow {
                unit_code: "1012346".into(),
                unit_name: "Trường Mầm non".into(),
                types: vec![t("01a", "Đã gửi", Some(false), 5)],
            },
        ];
        let bytes = progress_sheet(&ward_header(), &rows).unwrap();
        let v = values(&bytes, "tien_do");
        let (g, c01) = find(&v, "Mẫu số 01a").unwrap();
        let (_, c18) = find(&v, "Mẫu số 18a").unwrap();
        assert!(c18 > c01);
        assert_eq!(at(&v, g + 1, c01), "Trạng thái");
        assert_eq!(at(&v, g + 1, c01 + 1), "Hạn gửi");
        assert_eq!(at(&v, g + 1, c01 + 2), "Số ngày quá hạn");
        let first = g + 3;
        assert_eq!(at(&v, first, c01), "Đã gửi");
        assert_eq!(at(&v, first, c01 + 1), "31/03/2026");
        assert_eq!(num(&v, first, c01 + 2), None, "sent: not overdue");
        assert_eq!(at(&v, first, c18), "Đang nhập");
        assert_eq!(num(&v, first, c18 + 2), Some(4.0), "4 days overdue");
        assert_eq!(at(&v, first, c01 + 3), "28/03/2026 14:05");
        assert_eq!(at(&v, first, c01 + 4), "Có");
        assert_eq!(at(&v, first + 1, c01 + 4), "Không");
        assert_eq!(at(&v, first + 1, c18), "", "not registered for 18a");
        let total = first + 2;
        assert_eq!(num(&v, total, c01 + 4), Some(1.0), "one unit on time");
        assert_eq!(num(&v, total, c01 + 5), Some(15.0));
        assert_eq!(num(&v, total, c01 + 6), Some(15_000.0));
        assert_eq!(num(&v, total, c18 + 5), Some(2.0));
        assert!(
            formulas(&bytes, "tien_do")
                .get_value((total, c01 + 4))
                .unwrap()
                .starts_with("COUNTIF(")
        );
        // The ward names itself once, not as its own superior body.
        let ward = SheetHeader {
            unit_name: "UBND phường Tam Thanh".into(),
            superior_body: "UBND PHƯỜNG TAM THANH".into(),
            ..ward_header()
        };
        let v = values(&progress_sheet(&ward, &rows).unwrap(), "tien_do");
        assert_eq!(at(&v, 0, 0), "UBND PHƯỜNG TAM THANH");
        assert_ne!(at(&v, 1, 0), "UBND phường Tam Thanh");
    }
}
