//! Formats shared by every sheet: Times New Roman throughout, thin borders on
//! tables, number formats by field type and scale.

use rust_xlsxwriter::{
    ExcelDateTime, Format, FormatAlign, FormatBorder, FormatUnderline, Workbook, Worksheet,
    XlsxError,
};

use crate::forms::{FieldDef, FieldType, Value};

/// The font of Vietnamese administrative documents.
pub(crate) const FONT: &str = "Times New Roman";
const FONT_SIZE: f64 = 11.0;
/// Points per printed line of 11 pt text, with leading.
pub(crate) const LINE: f64 = 15.0;
/// Excel's limit on the characters of one cell.
pub const MAX_CELL_CHARS: usize = 32_767;

pub(crate) fn base() -> Format {
    Format::new().set_font_name(FONT).set_font_size(FONT_SIZE)
}

/// The deflate level of every workbook we write: 3 instead of the writer's 6, saving is three
/// times faster for files about 20 % larger (docs/PERFORMANCE.md).
pub const ZIP_LEVEL: u8 = 3;

/// A workbook whose default cell format (empty cells included) is Times New Roman.
pub(crate) fn new_workbook() -> Result<Workbook, XlsxError> {
    let mut wb = Workbook::new();
    wb.set_default_format(&base(), 20, 64)?;
    wb.set_zip_compression_level(ZIP_LEVEL);
    Ok(wb)
}

/// How a numeric cell is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NumKind {
    /// Whole numbers and money: `#,##0`.
    Whole,
    /// Decimals with this many places.
    Decimal(u32),
    /// Years: `0`, never `2.026`.
    Year,
    /// Dates: `dd/mm/yyyy`.
    Date,
}

impl NumKind {
    pub(crate) fn of(field: &FieldDef) -> Option<NumKind> {
        match field.kind {
            FieldType::Money | FieldType::Integer => Some(NumKind::Whole),
            FieldType::Year => Some(NumKind::Year),
            FieldType::Date => Some(NumKind::Date),
            k if k.is_decimal() => Some(NumKind::Decimal(field.scale())),
            _ => None,
        }
    }

    pub(crate) fn pattern(self) -> &'static str {
        match self {
            NumKind::Whole | NumKind::Decimal(0) => "#,##0",
            NumKind::Decimal(1) => "#,##0.0",
            NumKind::Decimal(2) => "#,##0.00",
            NumKind::Decimal(_) => "#,##0.000",
            NumKind::Year => "0",
            NumKind::Date => "dd/mm/yyyy",
        }
    }
}

/// Cell formats of one table, built once per sheet.
pub(crate) struct Styles {
    pub block: Format,
    pub block_bold: Format,
    pub form_no: Format,
    pub motto: Format,
    pub tagline: Format,
    pub title: Format,
    pub subtitle: Format,
    pub note_right: Format,
    pub header: Format,
    pub numbering: Format,
    pub marker: Format,
    pub text: Format,
    pub center: Format,
    pub label_bold: Format,
    pub blank: Format,
    pub sign_date: Format,
    pub sign_title: Format,
    pub sign_note: Format,
    pub key_header: Format,
    pub team_title: Format,
    pub team_line: Format,
}

impl Styles {
    pub(crate) fn new() -> Styles {
        let centered = base()
            .set_align(FormatAlign::Center)
            .set_align(FormatAlign::VerticalCenter)
            .set_text_wrap();
        let cell = base()
            .set_border(FormatBorder::Thin)
            .set_align(FormatAlign::VerticalCenter);
        Styles {
            block: centered.clone(),
            block_bold: centered.clone().set_bold(),
            form_no: base().set_bold().set_italic().set_align(FormatAlign::Right),
            motto: centered.clone().set_bold(),
            tagline: centered
                .clone()
                .set_bold()
                .set_underline(FormatUnderline::Single),
            title: centered.clone().set_bold().set_font_size(14),
            subtitle: centered.clone().set_italic(),
            note_right: base().set_italic().set_align(FormatAlign::Right),
            header: cell
                .clone()
                .set_bold()
                .set_align(FormatAlign::Center)
                .set_text_wrap(),
            numbering: cell.clone().set_italic().set_align(FormatAlign::Center),
            marker: base().set_font_size(8),
            text: cell.clone().set_text_wrap(),
            center: cell.clone().set_align(FormatAlign::Center),
            // No wrap: a section or total label spills over the empty cells to its right.
            label_bold: cell.clone().set_bold(),
            blank: cell,
            sign_date: centered.clone().set_italic(),
            sign_title: centered.clone().set_bold(),
            sign_note: centered.set_italic(),
            key_header: base().set_bold().set_border(FormatBorder::Thin),
            team_title: base().set_bold().set_align(FormatAlign::Top),
            team_line: base().set_text_wrap().set_align(FormatAlign::Top),
        }
    }

    /// Bordered numeric format, bold for total rows.
    pub(crate) fn number(&self, kind: NumKind, bold: bool) -> Format {
        let f = self.blank.clone().set_num_format(kind.pattern());
        if bold { f.set_bold() } else { f }
    }
}

/// A date cell when Excel can hold the date (1900–9999), else `dd/mm/yyyy` text.
pub(crate) fn write_date(
    ws: &mut Worksheet,
    row: u32,
    col: u16,
    date: chrono::NaiveDate,
    date_fmt: &Format,
    text_fmt: &Format,
) -> Result<(), XlsxError> {
    use chrono::Datelike;
    let excel = u16::try_from(date.year())
        .ok()
        .and_then(|y| ExcelDateTime::from_ymd(y, date.month() as u8, date.day() as u8).ok());
    match excel {
        Some(d) => ws.write_datetime_with_format(row, col, d, date_fmt)?,
        None => {
            ws.write_string_with_format(row, col, date.format("%d/%m/%Y").to_string(), text_fmt)?
        }
    };
    Ok(())
}

/// A number held by a value, as Excel stores it (decimals from thousandths).
pub(crate) fn as_f64(value: &Value) -> Option<f64> {
    match value {
        Value::Int(n) | Value::Money(n) => Some(*n as f64),
        Value::Milli(n) => Some(*n as f64 / 1000.0),
        _ => None,
    }
}

/// Text cut to what one cell can hold. Validated records never come near the
/// limit; a draft that does must not make the whole export fail.
pub(crate) fn cell_text(s: &str) -> std::borrow::Cow<'_, str> {
    if s.len() <= MAX_CELL_CHARS {
        return s.into();
    }
    match s.char_indices().nth(MAX_CELL_CHARS) {
        Some((i, _)) => s[..i].to_string().into(),
        None => s.into(),
    }
}

/// Lines a text needs in a column `width` characters wide (greedy word wrap).
pub(crate) fn lines(text: &str, width: f64) -> u32 {
    let cap = (width - 1.0).max(1.0) as usize;
    let mut total = 0u32;
    for para in text.split('\n') {
        let mut n = 1u32;
        let mut used = 0usize;
        for word in para.split_whitespace() {
            let len = word.chars().count();
            if used == 0 {
                used = len;
            } else if used + 1 + len <= cap {
                used += 1 + len;
            } else {
                n += 1;
                used = len;
            }
            while used > cap {
                n += 1;
                used -= cap;
            }
        }
        total += n;
    }
    total.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn number_formats_follow_the_field_scale() {
        assert_eq!(NumKind::Whole.pattern(), "#,##0");
        assert_eq!(NumKind::Decimal(2).pattern(), "#,##0.00");
        assert_eq!(NumKind::Decimal(3).pattern(), "#,##0.000");
        assert_eq!(NumKind::Year.pattern(), "0");
        assert_eq!(NumKind::Date.pattern(), "dd/mm/yyyy");
    }

    #[test]
    fn word_wrap_counts_lines_like_a_narrow_column() {
        assert_eq!(lines("Theo sổ kế toán", 30.0), 1);
        assert_eq!(lines("Theo sổ kế toán", 8.0), 2);
        assert_eq!(lines("Theo sổ kế toán", 6.0), 3);
        assert_eq!(lines("", 10.0), 1);
        assert_eq!(lines("abcdefghijklmnopqrstuvwxyz", 11.0), 3);
    }

    #[test]
    fn overlong_text_is_cut_at_the_cell_limit_on_a_character_boundary() {
        let s = "ă".repeat(MAX_CELL_CHARS + 5);
        assert_eq!(cell_text(&s).chars().count(), MAX_CELL_CHARS);
        assert_eq!(cell_text("abc"), "abc");
    }
}
