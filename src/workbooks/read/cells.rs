//! One cell → one typed value of its field.
//!
//! Text goes through `Value::from_text` (which reads `1.234.567`, `12,5`,
//! `dd/mm/yyyy`, option codes and labels, `Có`/`Không`, documents). Numeric cells
//! are read as numbers — never through the text path, where `1.234` would be read
//! as one thousand two hundred thirty-four. Date cells become dates.

use chrono::{Datelike, NaiveDate};
use unicode_normalization::{UnicodeNormalization, is_nfc};

use crate::forms::{
    FieldDef, FieldType, Value,
    value::{ParseError, decimal_to_milli, parse_vn_date, type_error},
};
use crate::workbooks::write::MAX_CELL_CHARS;

/// A cell as the file holds it, before it meets a field.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Raw {
    Empty,
    /// Text, in NFC.
    Text(String),
    Number(f64),
    Bool(bool),
    /// A date-formatted number: its date (when Excel has one) and its serial.
    Date {
        date: Option<NaiveDate>,
        serial: f64,
    },
    /// An ISO 8601 date or date-time as text.
    DateIso(String),
    /// An error value such as `#REF!`.
    Error(String),
}

/// Text in NFC: Vietnamese typed with combining marks ("Unicode tổ hợp") would
/// otherwise not match labels, codes or stored values.
pub(super) fn nfc(s: &str) -> String {
    if is_nfc(s) {
        s.to_string()
    } else {
        s.nfc().collect()
    }
}

impl Raw {
    pub(super) fn text(s: &str) -> Raw {
        if s.is_empty() {
            Raw::Empty
        } else {
            Raw::Text(nfc(s))
        }
    }

    /// The cell as it is copied back into an annotated workbook; none when blank.
    pub(super) fn copied(self) -> Option<super::Copied> {
        use super::Copied;
        Some(match self {
            Raw::Empty => return None,
            Raw::Text(s) | Raw::DateIso(s) | Raw::Error(s) => Copied::Text(s),
            Raw::Number(n) => Copied::Number(n),
            Raw::Bool(b) => Copied::Bool(b),
            Raw::Date { serial, .. } => Copied::Date(serial),
        })
    }

    /// The cell as header or label text, when it is text.
    pub(super) fn as_text(&self) -> Option<&str> {
        match self {
            Raw::Text(s) => Some(s.trim()),
            _ => None,
        }
    }

    pub(super) fn is_empty(&self) -> bool {
        match self {
            Raw::Empty => true,
            Raw::Text(s) => s.trim().is_empty(),
            _ => false,
        }
    }
}

/// What a cell means for its field.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Outcome {
    /// Nothing given.
    Blank,
    /// `<xóa>`: clear the stored value.
    Clear,
    Value(Value),
    Error(ParseError),
}

/// Cell texts that ask for the stored value to be cleared.
const CLEAR_MARKERS: &[&str] = &["<xóa>", "<xoa>", "<clear>"];

/// Reads one cell for `field`.
pub(super) fn convert(field: &FieldDef, raw: &Raw) -> Outcome {
    match raw {
        Raw::Empty => Outcome::Blank,
        Raw::Text(s) => text(field, s),
        Raw::Number(n) => number(field, *n),
        Raw::Bool(b) => match field.kind {
            FieldType::Boolean => Outcome::Value(Value::Bool(*b)),
            _ => from_text(field, if *b { "true" } else { "false" }),
        },
        Raw::Date { date, serial } => match (field.kind, date) {
            (FieldType::Date, Some(d)) => Outcome::Value(Value::Date(*d)),
            (FieldType::Date, None) => Outcome::Error(date_error(field)),
            // A year typed into a date-formatted cell keeps its number; a real date gives its year.
            (FieldType::Year, _) if serial.fract() == 0.0 && (1000.0..=9999.0).contains(serial) => {
                number(field, *serial)
            }
            (FieldType::Year, Some(d)) => Outcome::Value(Value::Int(i64::from(d.year()))),
            (k, _) if k.is_numeric() => number(field, *serial),
            (_, Some(d)) => from_text(field, &d.format("%d/%m/%Y").to_string()),
            (_, None) => number(field, *serial),
        },
        Raw::DateIso(s) => match field.kind {
            FieldType::Date => match s.get(..10).and_then(parse_vn_date) {
                Some(d) => Outcome::Value(Value::Date(d)),
                None => Outcome::Error(date_error(field)),
            },
            _ => text(field, s),
        },
        Raw::Error(e) => Outcome::Error(ParseError {
            code: "cell_error",
            message: crate::forms::Text {
                vi: format!(
                    "Ô «{}» chứa lỗi {e}; sửa công thức hoặc nhập giá trị",
                    field.label.vi
                ),
                en: format!(
                    "The \"{}\" cell holds the error {e}; fix the formula or type the value",
                    field.label.en
                ),
            },
        }),
    }
}

fn text(field: &FieldDef, s: &str) -> Outcome {
    if s.len() > MAX_CELL_CHARS && s.chars().count() > MAX_CELL_CHARS {
        return Outcome::Error(too_long(field, "too_long", MAX_CELL_CHARS));
    }
    let t = s.trim();
    if t.is_empty() {
        return Outcome::Blank;
    }
    let lower = t.to_lowercase();
    if CLEAR_MARKERS.contains(&lower.as_str()) {
        return Outcome::Clear;
    }
    if let Some(max) = field.max_length
        && t.chars().count() > max
    {
        return Outcome::Error(too_long(field, "max_length", max));
    }
    if field.kind == FieldType::Enum {
        // Labels match whatever the case, Vietnamese capitals included.
        if let Some(o) = field.options.iter().find(|o| {
            o.code == t || o.label.vi.to_lowercase() == lower || o.label.en.to_lowercase() == lower
        }) {
            return Outcome::Value(Value::Code(o.code.clone()));
        }
    }
    from_text(field, t)
}

/// Reads what a person typed into a field of a web form by the rules of a text cell
/// (`1.500.000.000`, `0,65`, `15/06/2010`, option labels): one parser for human input.
/// `Ok(None)` means nothing was given.
pub fn human_input(field: &FieldDef, typed: &str) -> Result<Option<Value>, ParseError> {
    match text(field, &nfc(typed)) {
        Outcome::Blank | Outcome::Clear => Ok(None),
        Outcome::Value(v) => Ok(Some(v)),
        Outcome::Error(e) => Err(e),
    }
}

fn from_text(field: &FieldDef, s: &str) -> Outcome {
    match Value::from_text(field, s) {
        Ok(Some(v)) => Outcome::Value(v),
        Ok(None) => Outcome::Blank,
        Err(e) => Outcome::Error(e),
    }
}

fn number(field: &FieldDef, n: f64) -> Outcome {
    let whole = || type_error(&field.label, "số nguyên", "a whole number");
    match field.kind {
        FieldType::Integer | FieldType::Year | FieldType::Money => {
            if !n.is_finite() || n.fract() != 0.0 || n.abs() > 9.0e15 {
                return Outcome::Error(whole());
            }
            Outcome::Value(Value::from_number(field.kind, n as i64))
        }
        k if k.is_decimal() => match float_to_milli(field, n) {
            Ok(m) => Outcome::Value(Value::Milli(m)),
            Err(e) => Outcome::Error(e),
        },
        FieldType::Date => Outcome::Error(date_error(field)),
        _ => from_text(field, &number_text(n)),
    }
}

/// A number as a person would type it: `12`, not `12.0`.
fn number_text(n: f64) -> String {
    if n.is_finite() && n.fract() == 0.0 && n.abs() < 1.0e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

/// A float into thousandths, refusing more decimals than the field keeps. The float
/// is rounded to thousandths first: Excel stores `0.1 + 0.2` as `0.30000000000000004`.
fn float_to_milli(field: &FieldDef, n: f64) -> Result<i64, ParseError> {
    let not_number = || type_error(&field.label, "số", "a number");
    if !n.is_finite() {
        return Err(not_number());
    }
    let m = n * 1000.0;
    let r = m.round();
    if r.abs() > 9.0e15 {
        return Err(not_number());
    }
    let milli = r as i64;
    let text = format!(
        "{}{}.{:03}",
        if milli < 0 { "-" } else { "" },
        (milli / 1000).abs(),
        (milli % 1000).abs()
    );
    if (m - r).abs() > 1e-6 * r.abs().max(1.0) {
        // More than three decimals: the field's own check says how many it keeps.
        return Err(decimal_to_milli(&format!("{n}"), field)
            .err()
            .unwrap_or_else(not_number));
    }
    decimal_to_milli(&text, field)
}

fn date_error(field: &FieldDef) -> ParseError {
    ParseError {
        code: "date",
        ..type_error(&field.label, "ngày dạng dd/mm/yyyy", "a date as dd/mm/yyyy")
    }
}

fn too_long(field: &FieldDef, code: &'static str, max: usize) -> ParseError {
    ParseError {
        code,
        message: crate::forms::Text {
            vi: format!("«{}» dài quá {max} ký tự", field.label.vi),
            en: format!("\"{}\" is longer than {max} characters", field.label.en),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workbooks::write::testutil::{form, test_form};

    fn field(code: &str, key: &str) -> FieldDef {
        let f = if code == "20a" {
            test_form()
        } else {
            form(code)
        };
        f.field(key).unwrap().clone()
    }

    fn value(o: Outcome) -> Value {
        match o {
            Outcome::Value(v) => v,
            other => panic!("expected a value, got {other:?}"),
        }
    }

    fn error(o: Outcome) -> &'static str {
        match o {
            Outcome::Error(e) => e.code,
            other => panic!("expected an error, got {other:?}"),
        }
    }

    #[test]
    fn numeric_cells_are_numbers_never_vietnamese_text() {
        let qty = field("01a", "qty_books");
        assert_eq!(
            value(convert(&qty, &Raw::Number(1.234))),
            Value::Milli(1_234)
        );
        assert_eq!(
            value(convert(&qty, &Raw::Number(-2.5))),
            Value::Milli(-2_500)
        );
        assert_eq!(error(convert(&qty, &Raw::Number(1.2345))), "scale");
        let area = field("01a", "area_office");
        assert_eq!(
            value(convert(&area, &Raw::Number(0.1 + 0.2))),
            Value::Milli(300)
        );
        assert_eq!(
            error(convert(&area, &Raw::Number(1.234))),
            "scale",
            "areas keep 2 decimals"
        );
        let money = field("01a", "original_cost");
        assert_eq!(
            value(convert(&money, &Raw::Number(4.5e9))),
            Value::Money(4_500_000_000)
        );
        assert_eq!(error(convert(&money, &Raw::Number(10.5))), "type");
        assert_eq!(error(convert(&money, &Raw::Number(f64::INFINITY))), "type");
        assert_eq!(error(convert(&money, &Raw::Number(1e300))), "type");
    }

    #[test]
    fn text_cells_read_vietnamese_numbers_labels_and_the_clear_marker() {
        let money = field("01a", "original_cost");
        assert_eq!(
            value(convert(&money, &Raw::text("1.234.567"))),
            Value::Money(1_234_567)
        );
        assert_eq!(convert(&money, &Raw::text("  ")), Outcome::Blank);
        assert_eq!(convert(&money, &Raw::text("<XÓA>")), Outcome::Clear);
        let status = field("01a", "usage_status");
        assert_eq!(
            value(convert(&status, &Raw::text("HƯ HỎNG, KHÔNG SỬ DỤNG ĐƯỢC"))),
            Value::Code("4".into())
        );
        assert_eq!(
            value(convert(&status, &Raw::Number(2.0))),
            Value::Code("2".into())
        );
        let section = field("01a", "section");
        assert_eq!(
            value(convert(&section, &Raw::text("đất"))),
            Value::Code("I".into())
        );
        // "Tài sản" typed with combining marks reads as the precomposed label.
        let decomposed = "Mua sa\u{306}\u{301}m";
        let origin = field("01a", "origin");
        assert_eq!(
            value(convert(&origin, &Raw::text(decomposed))),
            Value::Code("purchased".into())
        );
    }

    #[test]
    fn long_text_is_a_cell_error_not_a_crash() {
        let note = field("01a", "note");
        let huge = "x".repeat(MAX_CELL_CHARS + 1);
        assert_eq!(error(convert(&note, &Raw::text(&huge))), "too_long");
        assert_eq!(
            error(convert(&note, &Raw::text(&"x".repeat(1001)))),
            "max_length"
        );
        assert!(matches!(
            convert(&note, &Raw::text(&"x".repeat(1000))),
            Outcome::Value(_)
        ));
    }

    #[test]
    fn dates_come_from_date_cells_iso_text_or_vietnamese_text() {
        let on = field("20a", "inspected_on");
        let d = NaiveDate::from_ymd_opt(2025, 12, 31).unwrap();
        let cell = Raw::Date {
            date: Some(d),
            serial: 46022.0,
        };
        assert_eq!(value(convert(&on, &cell)), Value::Date(d));
        assert_eq!(
            value(convert(&on, &Raw::text("31/12/2025"))),
            Value::Date(d)
        );
        assert_eq!(
            value(convert(&on, &Raw::DateIso("2025-12-31T00:00:00".into()))),
            Value::Date(d)
        );
        assert_eq!(error(convert(&on, &Raw::Number(46022.0))), "date");
        assert_eq!(error(convert(&on, &Raw::text("31/02/2025"))), "type");
        let year = field("01a", "year_in_use");
        assert_eq!(value(convert(&year, &cell)), Value::Int(2025));
        let typed = Raw::Date {
            date: None,
            serial: 2018.0,
        };
        assert_eq!(value(convert(&year, &typed)), Value::Int(2018));
    }

    #[test]
    fn booleans_and_error_values() {
        let checked = field("20a", "checked");
        assert_eq!(
            value(convert(&checked, &Raw::Bool(true))),
            Value::Bool(true)
        );
        assert_eq!(
            value(convert(&checked, &Raw::text("Không"))),
            Value::Bool(false)
        );
        assert_eq!(
            value(convert(&checked, &Raw::Number(1.0))),
            Value::Bool(true)
        );
        assert_eq!(
            error(convert(&checked, &Raw::Error("#REF!".into()))),
            "cell_error"
        );
    }
}
