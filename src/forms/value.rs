//! Typed field values and their conversions to and from JSON and sheet cells.
//!
//! Decimals (areas, lengths, quantities) are held as thousandths in an `i64`,
//! money as whole đồng in an `i64`: no float ever carries a stored value.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::{Value as Json, json};
use utoipa::ToSchema;

use super::definition::{FieldDef, FieldType, Text};

/// A legal document backing an asset (certificate, decision, contract…).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LegalDoc {
    /// Document kind code (see the `legal_documents` field's options).
    pub kind: String,
    /// Document number, e.g. `BĐ 123456` or `15/QĐ-UBND`.
    pub number: String,
    /// Date of issue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<NaiveDate>,
}

/// A typed value of one field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// Text.
    Text(String),
    /// Whole number or year.
    Int(i64),
    /// Decimal held as thousandths.
    Milli(i64),
    /// Whole đồng.
    Money(i64),
    /// Calendar date.
    Date(NaiveDate),
    /// Yes / no.
    Bool(bool),
    /// Code of an enum option.
    Code(String),
    /// Legal documents.
    Docs(Vec<LegalDoc>),
}

/// One asset as field key → value; a missing key is an empty field.
pub type Record = BTreeMap<String, Value>;

/// Why a value could not be read.
#[derive(Debug, Clone, PartialEq)]
pub struct ParseError {
    /// Stable code (`type`, `scale`, `date`, …).
    pub code: &'static str,
    /// What the user should fix.
    pub message: Text,
}

fn perr(code: &'static str, vi: String, en: String) -> ParseError {
    ParseError {
        code,
        message: Text { vi, en },
    }
}

impl Value {
    /// The value as a number for rule arithmetic: đồng, whole numbers and years as-is, decimals in thousandths.
    pub fn number(&self) -> Option<i64> {
        match self {
            Value::Int(n) | Value::Milli(n) | Value::Money(n) => Some(*n),
            _ => None,
        }
    }

    /// Rebuilds a number of the field's type from rule arithmetic.
    pub fn from_number(kind: FieldType, n: i64) -> Value {
        match kind {
            FieldType::Money => Value::Money(n),
            k if k.is_decimal() => Value::Milli(n),
            _ => Value::Int(n),
        }
    }

    /// The value as JSON, as the API shows it.
    pub fn to_json(&self) -> Json {
        match self {
            Value::Text(s) | Value::Code(s) => json!(s),
            Value::Int(n) | Value::Money(n) => json!(n),
            Value::Milli(n) => milli_to_json(*n),
            Value::Date(d) => json!(d.format("%Y-%m-%d").to_string()),
            Value::Bool(b) => json!(b),
            Value::Docs(d) => serde_json::to_value(d).unwrap_or(Json::Null),
        }
    }

    /// Reads a JSON value for `field`. `null` and `""` are empty.
    pub fn from_json(field: &FieldDef, v: &Json) -> Result<Option<Value>, ParseError> {
        if v.is_null() || v.as_str().is_some_and(|s| s.trim().is_empty()) {
            return Ok(None);
        }
        let label = &field.label;
        let value = match field.kind {
            FieldType::Text => match v {
                Json::String(s) => Value::Text(s.trim().to_string()),
                _ => return Err(type_error(label, "chuỗi ký tự", "a string")),
            },
            FieldType::Integer | FieldType::Year => match v.as_i64() {
                Some(n) => Value::Int(n),
                None => return Err(type_error(label, "số nguyên", "a whole number")),
            },
            FieldType::Money => match v.as_i64() {
                Some(n) => Value::Money(n),
                None if v.is_number() => {
                    return Err(perr(
                        "money",
                        format!(
                            "«{}» phải là số đồng nguyên, không có phần thập phân",
                            label.vi
                        ),
                        format!("\"{}\" must be whole đồng, without decimals", label.en),
                    ));
                }
                None => return Err(type_error(label, "số tiền (đồng)", "an amount in đồng")),
            },
            k if k.is_decimal() => match v {
                Json::Number(n) => Value::Milli(decimal_to_milli(&n.to_string(), field)?),
                _ => return Err(type_error(label, "số", "a number")),
            },
            FieldType::Date => match v
                .as_str()
                .and_then(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
            {
                Some(d) => Value::Date(d),
                None => {
                    return Err(type_error(
                        label,
                        "ngày dạng yyyy-mm-dd",
                        "a date as yyyy-mm-dd",
                    ));
                }
            },
            FieldType::Enum => match v {
                Json::String(s) => Value::Code(s.trim().to_string()),
                Json::Number(n) => Value::Code(n.to_string()),
                _ => return Err(type_error(label, "mã lựa chọn", "an option code")),
            },
            FieldType::Boolean => match v.as_bool() {
                Some(b) => Value::Bool(b),
                None => return Err(type_error(label, "true hoặc false", "true or false")),
            },
            FieldType::Documents => match serde_json::from_value::<Vec<LegalDoc>>(v.clone()) {
                Ok(d) if d.is_empty() => return Ok(None),
                Ok(d) => Value::Docs(d),
                Err(_) => {
                    if let Some((i, date)) = bad_document_date(v) {
                        return Err(perr(
                            "date",
                            format!(
                                "«{}»: giấy tờ thứ {} có ngày «{date}» không đúng dạng; ghi ngày dạng yyyy-mm-dd, ví dụ \"2010-05-12\"",
                                label.vi,
                                i + 1
                            ),
                            format!(
                                "\"{}\": document {} has the date \"{date}\", which is not a date; write it as yyyy-mm-dd, e.g. \"2010-05-12\"",
                                label.en,
                                i + 1
                            ),
                        ));
                    }
                    return Err(type_error(
                        label,
                        "danh sách giấy tờ {kind, number, date}, ngày dạng yyyy-mm-dd",
                        "a list of documents {kind, number, date}, dates as yyyy-mm-dd",
                    ));
                }
            },
            _ => unreachable!("every field type is matched above"),
        };
        Ok(Some(value))
    }

    /// Reads the text of a sheet cell for `field`, the way a Vietnamese accountant writes it:
    /// `1.234.567` and `1234567` are the same number, `12,5` is twelve and a half,
    /// dates are `dd/mm/yyyy`, enum cells hold a code or a label.
    pub fn from_text(field: &FieldDef, raw: &str) -> Result<Option<Value>, ParseError> {
        let s = raw.trim();
        if s.is_empty() {
            return Ok(None);
        }
        let label = &field.label;
        let value = match field.kind {
            FieldType::Text => Value::Text(s.to_string()),
            FieldType::Integer | FieldType::Year | FieldType::Money => {
                let milli = decimal_to_milli(&normalise_vn_number(s), field)
                    .map_err(|_| type_error(label, "số nguyên", "a whole number"))?;
                if milli % 1000 != 0 {
                    return Err(type_error(label, "số nguyên", "a whole number"));
                }
                Value::from_number(field.kind, milli / 1000)
            }
            k if k.is_decimal() => Value::Milli(decimal_to_milli(&normalise_vn_number(s), field)?),
            FieldType::Date => match parse_vn_date(s) {
                Some(d) => Value::Date(d),
                None => {
                    return Err(type_error(
                        label,
                        "ngày dạng dd/mm/yyyy",
                        "a date as dd/mm/yyyy",
                    ));
                }
            },
            FieldType::Enum => match field.options.iter().find(|o| {
                o.code == s
                    || o.label.vi.eq_ignore_ascii_case(s)
                    || o.label.en.eq_ignore_ascii_case(s)
            }) {
                Some(o) => Value::Code(o.code.clone()),
                None => Value::Code(s.to_string()),
            },
            FieldType::Boolean => match s.to_lowercase().as_str() {
                "có" | "x" | "1" | "true" | "yes" | "đúng" => Value::Bool(true),
                "không" | "0" | "false" | "no" | "sai" => Value::Bool(false),
                _ => return Err(type_error(label, "Có hoặc Không", "yes or no")),
            },
            FieldType::Documents => Value::Docs(parse_docs(field, s)?),
            _ => unreachable!("every field type is matched above"),
        };
        Ok(Some(value))
    }

    /// The value as text for a sheet cell that holds text (numbers are written as numbers, not through here).
    pub fn to_text(&self, field: &FieldDef) -> String {
        match self {
            Value::Text(s) => s.clone(),
            Value::Code(c) => c.clone(),
            Value::Int(n) | Value::Money(n) => n.to_string(),
            Value::Milli(n) => milli_to_json(*n).to_string(),
            Value::Date(d) => d.format("%d/%m/%Y").to_string(),
            Value::Bool(b) => if *b { "Có" } else { "Không" }.to_string(),
            Value::Docs(docs) => docs
                .iter()
                .map(|d| {
                    let kind = field
                        .option(&d.kind)
                        .map(|o| o.label.vi.as_str())
                        .unwrap_or(&d.kind);
                    match d.date {
                        Some(date) => {
                            format!("{kind} số {} ngày {}", d.number, date.format("%d/%m/%Y"))
                        }
                        None => format!("{kind} số {}", d.number),
                    }
                })
                .collect::<Vec<_>>()
                .join("; "),
        }
    }
}

pub(crate) fn type_error(label: &Text, vi: &str, en: &str) -> ParseError {
    perr(
        "type",
        format!("«{}» phải là {vi}", label.vi),
        format!("\"{}\" must be {en}", label.en),
    )
}

/// Thousandths as a JSON number with no trailing zeros (`12500` → `12.5`).
pub fn milli_to_json(n: i64) -> Json {
    if n % 1000 == 0 {
        json!(n / 1000)
    } else {
        let s = format!(
            "{}{}.{:03}",
            if n < 0 { "-" } else { "" },
            (n / 1000).abs(),
            (n % 1000).abs()
        );
        let s = s.trim_end_matches('0');
        s.parse::<f64>().map(Json::from).unwrap_or(Json::Null)
    }
}

/// `1.234.567,5` → `1234567.5`; `1234567.5` (one dot, not three digits after it) stays.
fn normalise_vn_number(s: &str) -> String {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    let dots = s.matches('.').count();
    let commas = s.matches(',').count();
    let groups_of_three = |sep: char, t: &str| t.split(sep).skip(1).all(|g| g.len() == 3);
    if commas == 1 && (dots == 0 || groups_of_three('.', s.split(',').next().unwrap_or(""))) {
        return s.replace('.', "").replace(',', ".");
    }
    if commas == 0 && dots >= 1 && groups_of_three('.', &s) && (dots > 1 || !s.starts_with("0.")) {
        // A dot followed by exactly three digits is a Vietnamese thousands separator.
        return s.replace('.', "");
    }
    s
}

/// Parses a plain decimal string (`-12.345`, `1e3`) into thousandths, refusing more decimals than the field keeps.
pub fn decimal_to_milli(s: &str, field: &FieldDef) -> Result<i64, ParseError> {
    let scale = if field.kind.is_decimal() {
        field.scale()
    } else {
        0
    };
    let too_precise = || {
        perr(
            "scale",
            format!(
                "«{}» chỉ được có tối đa {scale} chữ số thập phân",
                field.label.vi
            ),
            format!("\"{}\" allows at most {scale} decimals", field.label.en),
        )
    };
    let not_number = || type_error(&field.label, "số", "a number");
    let (neg, body) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let milli: i64 = if body.contains(['e', 'E']) {
        let f: f64 = body.parse().map_err(|_| not_number())?;
        let m = (f * 1000.0).round();
        if !f.is_finite() || m.abs() > 9.0e15 || ((f * 1000.0) - m).abs() > 1e-6 {
            return Err(too_precise());
        }
        m as i64
    } else {
        let (int, frac) = body.split_once('.').unwrap_or((body, ""));
        if int.is_empty() && frac.is_empty()
            || !int.chars().all(|c| c.is_ascii_digit())
            || !frac.chars().all(|c| c.is_ascii_digit())
        {
            return Err(not_number());
        }
        let frac = frac.trim_end_matches('0');
        if frac.len() > 3 {
            return Err(too_precise());
        }
        let int: i64 = if int.is_empty() {
            0
        } else {
            int.parse().map_err(|_| not_number())?
        };
        let frac_milli: i64 = format!("{frac:0<3}").parse().map_err(|_| not_number())?;
        int.checked_mul(1000)
            .and_then(|v| v.checked_add(frac_milli))
            .ok_or_else(not_number)?
    };
    let unit = 10_i64.pow(3 - scale.min(3));
    if milli % unit != 0 {
        return Err(too_precise());
    }
    Ok(if neg { -milli } else { milli })
}

/// `dd/mm/yyyy`, `d/m/yyyy`, `dd-mm-yyyy`, `dd.mm.yyyy` or ISO `yyyy-mm-dd`.
pub fn parse_vn_date(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Some(d);
    }
    let parts: Vec<&str> = s.split(['/', '-', '.']).collect();
    if parts.len() != 3 || parts[2].len() != 4 {
        return None;
    }
    let n = |p: &str| p.parse::<u32>().ok();
    NaiveDate::from_ymd_opt(parts[2].parse().ok()?, n(parts[1])?, n(parts[0])?)
}

/// The first document of a JSON list whose `date` is not a `yyyy-mm-dd` date: (index, as sent).
fn bad_document_date(v: &Json) -> Option<(usize, String)> {
    v.as_array()?.iter().enumerate().find_map(|(i, d)| {
        let date = d.get("date").filter(|x| !x.is_null())?;
        let ok = date
            .as_str()
            .is_some_and(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok());
        (!ok).then(|| {
            (
                i,
                date.as_str()
                    .map(String::from)
                    .unwrap_or_else(|| date.to_string()),
            )
        })
    })
}

/// `Giấy chứng nhận QSDĐ số BĐ 123456 ngày 12/05/2010; Quyết định số 15/QĐ-UBND` → documents.
fn parse_docs(field: &FieldDef, s: &str) -> Result<Vec<LegalDoc>, ParseError> {
    let mut docs = Vec::new();
    for part in s.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        let bad = || {
            perr(
                "documents",
                format!(
                    "«{}»: không đọc được «{part}»; viết «<loại giấy tờ> số <số> ngày dd/mm/yyyy»",
                    field.label.vi
                ),
                format!(
                    "\"{}\": cannot read \"{part}\"; write \"<kind> số <number> ngày dd/mm/yyyy\"",
                    field.label.en
                ),
            )
        };
        let (kind_text, rest) = part.split_once(" số ").ok_or_else(bad)?;
        let (number, date) = match rest.rsplit_once(" ngày ") {
            Some((n, d)) => (n.trim(), Some(parse_vn_date(d).ok_or_else(bad)?)),
            None => (rest.trim(), None),
        };
        let kind_text = kind_text.trim();
        let kind = field
            .options
            .iter()
            .find(|o| o.code == kind_text || o.label.vi.eq_ignore_ascii_case(kind_text))
            .map(|o| o.code.clone())
            .unwrap_or_else(|| kind_text.to_string());
        docs.push(LegalDoc {
            kind,
            number: number.to_string(),
            date,
        });
    }
    Ok(docs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(kind: FieldType, scale: Option<u32>) -> FieldDef {
        toml::from_str::<FieldDef>(&format!(
            "key = \"x\"\nlabel = {{ vi = \"X\", en = \"X\" }}\ntype = \"{}\"\n{}",
            serde_json::to_value(kind).unwrap().as_str().unwrap(),
            scale.map(|s| format!("scale = {s}")).unwrap_or_default()
        ))
        .unwrap()
    }

    #[test]
    fn vietnamese_thousands_separators_in_text_are_read_as_one_number() {
        let money = field(FieldType::Money, None);
        let area = field(FieldType::Area, None);
        for (f, text, want) in [
            (&money, "1.234.567", Value::Money(1_234_567)),
            (&money, "1234567", Value::Money(1_234_567)),
            (&area, "1.250,5", Value::Milli(1_250_500)),
            (&area, "12,75", Value::Milli(12_750)),
        ] {
            assert_eq!(Value::from_text(f, text).unwrap(), Some(want), "{text}");
        }
    }

    #[test]
    fn a_decimal_with_more_places_than_the_field_keeps_is_refused() {
        let area = field(FieldType::Area, None);
        assert_eq!(decimal_to_milli("12.345", &area).unwrap_err().code, "scale");
        assert_eq!(decimal_to_milli("12.34", &area).unwrap(), 12_340);
        let km = field(FieldType::LengthKm, None);
        assert_eq!(decimal_to_milli("1.235", &km).unwrap(), 1_235);
    }

    #[test]
    fn thousandths_print_as_the_shortest_json_number() {
        assert_eq!(milli_to_json(12_500), json!(12.5));
        assert_eq!(milli_to_json(3_000), json!(3));
        assert_eq!(milli_to_json(-1_250), json!(-1.25));
    }

    #[test]
    fn dates_are_read_day_first() {
        assert_eq!(
            parse_vn_date("05/03/2026"),
            NaiveDate::from_ymd_opt(2026, 3, 5)
        );
        assert_eq!(
            parse_vn_date("2026-03-05"),
            NaiveDate::from_ymd_opt(2026, 3, 5)
        );
        assert_eq!(parse_vn_date("31/02/2026"), None);
    }
}
