//! Checks a record against its form: every field on its own, then the form's
//! cross-field rules in the order the definition declares them. Rules that can
//! derive a missing value (remaining value, difference, a cost split) fill it in.

use std::{
    collections::HashMap,
    sync::{Arc, LazyLock, RwLock},
};

use regex::Regex;

use super::{
    Form,
    definition::{FieldDef, FieldType, RuleDef, RuleKind, Text},
    value::{Record, Value},
};

/// One problem with one field.
#[derive(Debug, Clone, PartialEq)]
pub struct Issue {
    /// Field key.
    pub field: String,
    /// Stable code: a rule code, or `required`, `type`, `min`, `max`, `max_length`, `pattern`, `option`, `not_applicable`, `section_unit`.
    pub code: String,
    /// What is wrong, Vietnamese and English.
    pub message: Text,
}

/// What a check needs to know beyond the record.
#[derive(Debug, Clone, Copy)]
pub struct Context {
    /// Year of the campaign's cut-off instant (local time).
    pub cutoff_year: i32,
    /// Also apply the rules that only bind at submission.
    pub for_submission: bool,
}

/// Whether `s` matches the whole of `pattern`. Compiled patterns are kept for the life of the
/// process (there are a handful, one per patterned field): compiling one costs far more than
/// checking a value, and was a third of the CPU time of an asset write.
fn matches_whole(pattern: &str, s: &str) -> bool {
    // `Arc`, not a cloned `Regex`: a clone starts with an empty match cache.
    static COMPILED: LazyLock<RwLock<HashMap<String, Option<Arc<Regex>>>>> =
        LazyLock::new(Default::default);
    if let Some(re) = COMPILED.read().ok().and_then(|m| m.get(pattern).cloned()) {
        return re.is_some_and(|re| re.is_match(s));
    }
    let re = Regex::new(&format!("^(?:{pattern})$")).ok().map(Arc::new);
    let found = re.as_ref().is_some_and(|re| re.is_match(s));
    if let Ok(mut m) = COMPILED.write() {
        m.insert(pattern.to_string(), re);
    }
    found
}

fn issue(field: &str, code: &str, vi: String, en: String) -> Issue {
    Issue {
        field: field.to_string(),
        code: code.to_string(),
        message: Text { vi, en },
    }
}

/// Checks `record` in place (filling in derivable values) and returns every problem found.
pub fn check(form: &Form, record: &mut Record, ctx: Context) -> Vec<Issue> {
    let mut issues = Vec::new();
    let section = record.get("section").and_then(|v| match v {
        Value::Code(c) => Some(c.clone()),
        _ => None,
    });
    let section = section.as_deref();
    for field in &form.fields {
        check_field(field, record, section, &mut issues);
    }
    // Land and buildings count areas: their unit of measure is fixed by the section.
    if let Some(s) = section.and_then(|s| form.section(s))
        && !s.units.is_empty()
        && let Some(Value::Text(unit)) = record.get("unit_of_measure")
        && !s.units.iter().any(|u| u == unit.trim())
    {
        let allowed = s.units.join(", ");
        issues.push(issue(
            "unit_of_measure",
            "section_unit",
            format!(
                "Phần {} ({}) ghi số lượng theo {allowed}, không theo «{}»",
                s.code,
                s.name.vi,
                unit.trim()
            ),
            format!(
                "Section {} ({}) counts in {allowed}, not in \"{}\"",
                s.code,
                s.name.en,
                unit.trim()
            ),
        ));
    }
    // A field already reported is not judged again by a later rule: one cause, one message.
    let mut broken: std::collections::BTreeSet<String> =
        issues.iter().map(|i| i.field.clone()).collect();
    for rule in &form.rules {
        if !rule.applies_to(section) || rule.fields.iter().any(|f| broken.contains(f)) {
            continue;
        }
        if let Some(i) = check_rule(form, rule, record, ctx) {
            broken.extend(rule.fields.iter().cloned());
            issues.push(i);
        }
    }
    issues
}

fn check_field(
    field: &FieldDef,
    record: &mut Record,
    section: Option<&str>,
    issues: &mut Vec<Issue>,
) {
    let key = field.key.as_str();
    let label = &field.label;
    if !field.applies_to(section) {
        if record.contains_key(key) {
            issues.push(issue(
                key,
                "not_applicable",
                format!(
                    "«{}» không áp dụng cho phần {}",
                    label.vi,
                    section.unwrap_or("-")
                ),
                format!(
                    "\"{}\" does not apply to section {}",
                    label.en,
                    section.unwrap_or("-")
                ),
            ));
        }
        return;
    }
    if !record.contains_key(key)
        && let Some(d) = field.default
    {
        record.insert(
            key.to_string(),
            Value::from_number(
                field.kind,
                d * if field.kind.is_decimal() { 1000 } else { 1 },
            ),
        );
    }
    if !record.contains_key(key)
        && let Some(code) = &field.default_code
    {
        record.insert(key.to_string(), Value::Code(code.clone()));
    }
    let Some(value) = record.get(key) else {
        if field.required {
            issues.push(issue(
                key,
                "required",
                format!("Chưa nhập «{}» (bắt buộc)", label.vi),
                format!("\"{}\" is required", label.en),
            ));
        }
        return;
    };
    match value {
        Value::Text(s) => {
            if let Some(max) = field.max_length
                && s.chars().count() > max
            {
                issues.push(issue(
                    key,
                    "max_length",
                    format!("«{}» dài quá {max} ký tự", label.vi),
                    format!("\"{}\" is longer than {max} characters", label.en),
                ));
            }
            if let Some(p) = &field.pattern
                && !matches_whole(p, s)
            {
                let msg = field.pattern_message.clone().unwrap_or_else(|| Text {
                    vi: format!("«{}» không đúng định dạng", label.vi),
                    en: format!("\"{}\" is not in the expected format", label.en),
                });
                issues.push(Issue {
                    field: key.to_string(),
                    code: "pattern".into(),
                    message: msg,
                });
            }
        }
        Value::Code(c) => {
            if field.option(c).is_none() {
                let codes: Vec<String> = field
                    .options
                    .iter()
                    .map(|o| format!("{} ({})", o.code, o.label.vi))
                    .collect();
                issues.push(issue(
                    key,
                    "option",
                    format!(
                        "«{}»: «{c}» không phải lựa chọn hợp lệ; chọn một trong: {}",
                        label.vi,
                        codes.join(", ")
                    ),
                    format!(
                        "\"{}\": \"{c}\" is not a valid option; choose one of: {}",
                        label.en,
                        codes.join(", ")
                    ),
                ));
            }
        }
        Value::Docs(docs) => {
            for d in docs {
                if field.option(&d.kind).is_none() || d.number.trim().is_empty() {
                    issues.push(issue(
                        key,
                        "document",
                        format!(
                            "«{}»: giấy tờ «{}» thiếu số hoặc sai loại",
                            label.vi, d.kind
                        ),
                        format!(
                            "\"{}\": document \"{}\" lacks a number or has an unknown kind",
                            label.en, d.kind
                        ),
                    ));
                }
            }
        }
        Value::Int(_) | Value::Money(_) | Value::Milli(_) => check_bounds(field, value, issues),
        Value::Date(_) | Value::Bool(_) => {}
    }
}

fn check_bounds(field: &FieldDef, value: &Value, issues: &mut Vec<Issue>) {
    let Some(n) = value.number() else { return };
    let to_f = |n: i64| {
        if field.kind.is_decimal() {
            n as f64 / 1000.0
        } else {
            n as f64
        }
    };
    let min = field.min.or(match field.kind {
        FieldType::Money | FieldType::Area | FieldType::LengthKm => Some(0.0),
        FieldType::Year => Some(1800.0),
        _ => None,
    });
    let max = field
        .max
        .or((field.kind == FieldType::Year).then_some(2100.0));
    let label = &field.label;
    // (code, the bound, its word in Vietnamese and in English) of each bound the value breaks.
    let below = min
        .filter(|&min| to_f(n) < min)
        .map(|min| ("min", min, "nhỏ", "least"));
    let above = max
        .filter(|&max| to_f(n) > max)
        .map(|max| ("max", max, "lớn", "most"));
    for (code, bound, vi, en) in below.into_iter().chain(above) {
        issues.push(issue(
            &field.key,
            code,
            format!(
                "«{}» không được {vi} hơn {}",
                label.vi,
                crate::numfmt::vn_number(bound)
            ),
            format!("\"{}\" must be at {en} {bound}", label.en),
        ));
    }
}

fn num(record: &Record, key: &str) -> Option<i64> {
    record.get(key).and_then(Value::number)
}

fn fail(rule: &RuleDef) -> Option<Issue> {
    Some(Issue {
        field: rule.target().to_string(),
        code: rule.code.clone(),
        message: rule.message.clone(),
    })
}

/// A failed rule whose right value is known: the message says it ("= 11.100.000 đồng").
fn fail_expected(form: &Form, rule: &RuleDef, key: &str, expected: i64) -> Option<Issue> {
    let shown = match kind_of(form, key) {
        FieldType::Money => format!("{} đồng", crate::numfmt::vn_money(expected)),
        k if k.is_decimal() => crate::numfmt::vn_number(expected as f64 / 1000.0),
        _ => crate::numfmt::vn_number(expected as f64),
    };
    let mut issue = fail(rule)?;
    issue.message = Text {
        vi: format!("{} (= {shown})", issue.message.vi),
        en: format!("{} (= {shown})", issue.message.en),
    };
    Some(issue)
}

fn kind_of(form: &Form, key: &str) -> FieldType {
    form.field(key)
        .map(|f| f.kind)
        .unwrap_or(FieldType::Integer)
}

fn check_rule(form: &Form, rule: &RuleDef, record: &mut Record, ctx: Context) -> Option<Issue> {
    let f = &rule.fields;
    match rule.kind {
        RuleKind::Difference => {
            let (a, b) = (num(record, &f[0])?, num(record, &f[1])?);
            let expected = a.checked_sub(b)?;
            match num(record, &f[2]) {
                None if expected >= 0 || kind_of(form, &f[2]) != FieldType::Money => {
                    record.insert(
                        f[2].clone(),
                        Value::from_number(kind_of(form, &f[2]), expected),
                    );
                    None
                }
                Some(c) if c == expected => None,
                Some(_) if rule.target() == f[2] => fail_expected(form, rule, &f[2], expected),
                _ => fail(rule),
            }
        }
        RuleKind::Sum => {
            let (parts, total_key) = f.split_at(f.len() - 1);
            let total_key = &total_key[0];
            let values: Vec<Option<i64>> = parts.iter().map(|k| num(record, k)).collect();
            let missing: Vec<usize> = (0..parts.len()).filter(|&i| values[i].is_none()).collect();
            let known: i64 = values
                .iter()
                .flatten()
                .fold(0i64, |a, b| a.saturating_add(*b));
            match (num(record, total_key), missing.as_slice()) {
                (None, []) => {
                    record.insert(
                        total_key.clone(),
                        Value::from_number(kind_of(form, total_key), known),
                    );
                    None
                }
                // Only the total given: it is all the first part (e.g. state budget), the rest zero.
                (Some(total), m) if m.len() == parts.len() && parts.len() > 1 => {
                    for (i, k) in parts.iter().enumerate() {
                        let v = if i == 0 { total } else { 0 };
                        record.insert(k.clone(), Value::from_number(kind_of(form, k), v));
                    }
                    None
                }
                (Some(total), [only]) if total >= known => {
                    let k = &parts[*only];
                    record.insert(
                        k.clone(),
                        Value::from_number(kind_of(form, k), total - known),
                    );
                    None
                }
                (Some(total), []) if total == known => None,
                (Some(_), []) if rule.target() == total_key => {
                    fail_expected(form, rule, total_key, known)
                }
                // Too little given to derive anything; only an overshoot is wrong.
                (Some(total), m) if m.len() >= 2 && total >= known => None,
                (None, _) => None,
                _ => fail(rule),
            }
        }
        RuleKind::SumAtMost => {
            let (parts, limit) = f.split_at(f.len() - 1);
            let limit = num(record, &limit[0])?;
            let sum = parts
                .iter()
                .filter_map(|k| num(record, k))
                .fold(0i64, |a, b| a.saturating_add(b));
            (sum > limit).then(|| fail(rule)).flatten()
        }
        RuleKind::NotAfter => {
            let (a, b) = (num(record, &f[0])?, num(record, &f[1])?);
            (a > b).then(|| fail(rule)).flatten()
        }
        RuleKind::NotAfterCutoff => {
            let late = f
                .iter()
                .find(|k| num(record, k).is_some_and(|y| y > i64::from(ctx.cutoff_year)))?;
            Some(Issue {
                field: late.clone(),
                code: rule.code.clone(),
                message: rule.message.clone(),
            })
        }
        RuleKind::AtLeast => {
            let min = rule.value?;
            let low = f.iter().find(|k| num(record, k).is_some_and(|v| v < min))?;
            let conventional = form.rules.iter().any(|r| {
                r.kind == RuleKind::ConventionalPrice && r.fields[0] == *low && flag_set(record, r)
            });
            if conventional {
                return None;
            }
            Some(Issue {
                field: low.clone(),
                code: rule.code.clone(),
                message: rule.message.clone(),
            })
        }
        RuleKind::ConventionalPrice => {
            let price = rule.value?;
            let value = num(record, &f[0]);
            if flag_set(record, rule) {
                (value != Some(price)).then(|| fail(rule)).flatten()
            } else {
                (rule.exclusive && value == Some(price))
                    .then(|| fail(rule))
                    .flatten()
            }
        }
        RuleKind::RequiredOnSubmit => {
            if !ctx.for_submission {
                return None;
            }
            let missing = f.iter().find(|k| !record.contains_key(k.as_str()))?;
            Some(Issue {
                field: missing.clone(),
                code: rule.code.clone(),
                message: rule.message.clone(),
            })
        }
    }
}

fn flag_set(record: &Record, rule: &RuleDef) -> bool {
    let (Some(flag), Some(want)) = (&rule.flag, &rule.flag_value) else {
        return false;
    };
    match record.get(flag) {
        Some(Value::Code(c)) => c == want,
        Some(Value::Bool(b)) => b.to_string() == *want,
        _ => false,
    }
}
