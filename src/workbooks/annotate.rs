//! The error workbook: the user's own upload back with every problem listed and its cells marked.

use super::import::{ImportReport, import_error};
use crate::{
    error::{AppError, AppResult, Lang},
    workbooks::{
        read::{self, Limits},
        write,
    },
};

mod keep_layout;

/// The user's own workbook back with its errors: a first sheet `Lỗi - Errors` lists every
/// listed error (sheet, cell, field, message), each cell a link to the cell in the copy; then
/// the sheets the import read (hidden and other sheets are not), values only, every cell at its
/// own address, the cells in error filled red. A CSV upload comes back as one sheet.
///
/// A workbook in our own official layout ([`ImportReport::official`]) instead comes back whole,
/// its own formatting kept (borders, fonts, widths, merged cells, print setup), the list added as
/// its last sheet and shown first ([`keep_layout`]).
///
/// Otherwise built from the streaming reader ([`read::copy_rows`]) with the import's own limits, written
/// by rust_xlsxwriter in constant-memory mode in one pass. Nothing is ever held as a dense
/// range, so a far cell costs nothing; the list holds at most [`MAX_LISTED_ERRORS`](super::MAX_LISTED_ERRORS) lines.
pub fn annotated_workbook(
    bytes: &[u8],
    report: &ImportReport,
    max_rows: usize,
    lang: Lang,
) -> AppResult<Vec<u8>> {
    use rust_xlsxwriter::{Color, Format, FormatBorder, Url, Workbook as XlsxBook};
    let limits = Limits {
        max_rows,
        ..Limits::default()
    };
    if report.official {
        match keep_layout::annotated(bytes, report, &limits, lang) {
            Ok(book) => return Ok(book),
            // A file the checks refuse gets no answer built from it.
            Err(e @ AppError::Problem { .. }) => return Err(e),
            Err(e) => {
                tracing::warn!("error workbook in the file's own layout: {e}; a plain one instead")
            }
        }
    }
    let fail = |e: rust_xlsxwriter::XlsxError| AppError::Internal(e.to_string());
    let mut book = XlsxBook::new();
    let bold = Format::new().set_bold();
    let wrap = Format::new().set_text_wrap();
    let date = Format::new().set_num_format("dd/mm/yyyy");
    let red = Format::new()
        .set_background_color(Color::RGB(0xFFC7CE))
        .set_border(FormatBorder::Thin)
        .set_border_color(Color::RGB(0xC00000));
    let red_date = red.clone().set_num_format("dd/mm/yyyy");
    // The copies' sheet names, as Excel allows them.
    let names: Vec<(String, String)> = report
        .sheets
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let safe: String = name
                .chars()
                .filter(|c| !"[]:*?/\\".contains(*c))
                .take(31)
                .collect();
            let safe = if safe.is_empty()
                || safe.starts_with('\'')
                || safe.eq_ignore_ascii_case(ERRORS_SHEET)
            {
                format!("Sheet{}", i + 1)
            } else {
                safe
            };
            (name.clone(), safe)
        })
        .collect();
    let mut bad: std::collections::HashSet<(&str, u32, u32)> = std::collections::HashSet::new();
    {
        let ws = book.add_worksheet_with_constant_memory().map_err(fail)?;
        ws.set_name(ERRORS_SHEET).map_err(fail)?;
        for (c, (head, width)) in [
            ("STT", 5.0),
            ("Trang / Sheet", 14.0),
            ("Ô / Cell", 9.0),
            ("Trường / Field", 22.0),
            ("Lỗi / Errors", 90.0),
        ]
        .into_iter()
        .enumerate()
        {
            ws.set_column_width(c as u16, width).map_err(fail)?;
            ws.write_string_with_format(0, c as u16, head, &bold)
                .map_err(fail)?;
        }
        ws.set_freeze_panes(1, 0).map_err(fail)?;
        let mut row = 1u32;
        for (n, e) in report.errors.iter().enumerate() {
            let col = column_index(&e.column_letter);
            if let Some(c) = col {
                bad.insert((e.sheet.as_str(), e.row, c));
            }
            ws.write_number(row, 0, (n + 1) as f64).map_err(fail)?;
            ws.write_string(row, 1, cell_text(&e.sheet)).map_err(fail)?;
            let cell = format!("{}{}", col.map_or("A", |_| e.column_letter.as_str()), e.row);
            match names.iter().find(|(n, _)| n == &e.sheet) {
                Some((_, safe)) => {
                    let target = format!("internal:'{}'!{cell}", safe.replace('\'', "''"));
                    ws.write_url(row, 2, Url::new(target).set_text(&cell))
                        .map_err(fail)?;
                }
                None => {
                    ws.write_string(row, 2, &cell).map_err(fail)?;
                }
            }
            ws.write_string(row, 3, cell_text(&e.field)).map_err(fail)?;
            ws.write_string_with_format(
                row,
                4,
                cell_text(lang.pick(&e.message.vi, &e.message.en)),
                &wrap,
            )
            .map_err(fail)?;
            row += 1;
        }
        if report.error_count > report.errors.len() {
            let more = report.error_count - report.errors.len();
            ws.write_string(
                row,
                4,
                lang.pick(
                    &format!("… và {more} lỗi khác (sửa các lỗi trên rồi nhập lại để xem tiếp)"),
                    &format!(
                        "… and {more} more (fix the errors above and import again to see them)"
                    ),
                ),
            )
            .map_err(fail)?;
        }
    }
    for (i, (_, safe)) in names.iter().enumerate() {
        let ws = book.add_worksheet_with_constant_memory().map_err(fail)?;
        if ws.set_name(safe).is_err() {
            ws.set_name(format!("Sheet{}", i + 1)).map_err(fail)?;
        }
    }
    let mut failed = None;
    let csv = report.file_kind == read::FileKind::Csv;
    read::copy_rows(
        bytes,
        &report.file_name,
        &report.sheets,
        &limits,
        |sheet, r, cells| {
            let Some(i) = names.iter().position(|(n, _)| n == sheet) else {
                return true;
            };
            let Ok(ws) = book.worksheet_from_index(i + 1) else {
                return true;
            };
            let mut marked: Vec<u32> = Vec::new();
            let write = || -> Result<(), rust_xlsxwriter::XlsxError> {
                for (c, v) in cells {
                    if c > MAX_COL {
                        continue;
                    }
                    let is_bad = bad.contains(&(sheet, r + 1, c));
                    if is_bad {
                        marked.push(c);
                    }
                    let c = c as u16;
                    match (v, is_bad) {
                        (read::Copied::Text(t), b) if csv && plain_number(&t).is_some() => {
                            let n = plain_number(&t).unwrap_or_default();
                            match b {
                                true => ws.write_number_with_format(r, c, n, &red)?,
                                false => ws.write_number(r, c, n)?,
                            }
                        }
                        (read::Copied::Text(t), true) => {
                            ws.write_string_with_format(r, c, cell_text(&t), &red)?
                        }
                        (read::Copied::Text(t), false) => ws.write_string(r, c, cell_text(&t))?,
                        (read::Copied::Number(n), true) => {
                            ws.write_number_with_format(r, c, n, &red)?
                        }
                        (read::Copied::Number(n), false) => ws.write_number(r, c, n)?,
                        (read::Copied::Date(n), true) => {
                            ws.write_number_with_format(r, c, n, &red_date)?
                        }
                        (read::Copied::Date(n), false) => {
                            ws.write_number_with_format(r, c, n, &date)?
                        }
                        (read::Copied::Bool(b), true) => {
                            ws.write_boolean_with_format(r, c, b, &red)?
                        }
                        (read::Copied::Bool(b), false) => ws.write_boolean(r, c, b)?,
                    };
                }
                Ok(())
            };
            let done = write();
            // A cell in error left blank (a required value) is marked too.
            let blanks = report
                .errors
                .iter()
                .filter(|e| e.sheet == sheet && e.row == r + 1)
                .filter_map(|e| column_index(&e.column_letter))
                .filter(|c| !marked.contains(c) && *c <= MAX_COL)
                .try_for_each(|c| ws.write_blank(r, c as u16, &red).map(|_| ()));
            match done.and(blanks) {
                Ok(()) => true,
                Err(e) => {
                    failed = Some(e);
                    false
                }
            }
        },
    )
    .map_err(import_error)?;
    if let Some(e) = failed {
        return Err(fail(e));
    }
    book.save_to_buffer().map_err(fail)
}

/// The first sheet of an annotated workbook.
pub const ERRORS_SHEET: &str = "Lỗi - Errors";

/// `A` → 0, `AB` → 27; none for an empty or invalid letter.
fn column_index(letters: &str) -> Option<u32> {
    if letters.is_empty() || letters.len() > 3 {
        return None;
    }
    letters
        .bytes()
        .try_fold(0u32, |n, b| {
            b.is_ascii_uppercase()
                .then(|| n * 26 + u32::from(b - b'A') + 1)
        })
        .map(|n| n - 1)
}

/// Excel's last column (0-based, XFD).
const MAX_COL: u32 = 16_383;

/// A CSV field that is a plain number (`12`, `0`, `1.5`), not a code with leading zeros.
fn plain_number(v: &str) -> Option<f64> {
    let n = v.parse::<f64>().ok()?;
    (n.is_finite() && (!v.starts_with('0') || v == "0" || v.contains('.'))).then_some(n)
}

/// Text cut to what a cell can hold.
fn cell_text(s: &str) -> &str {
    match s.char_indices().nth(write::MAX_CELL_CHARS) {
        Some((at, _)) => &s[..at],
        None => s,
    }
}
