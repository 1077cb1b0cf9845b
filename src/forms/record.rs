//! A form's record as it is stored and shown: read from and written into its `assets` row
//! (the common fields in their own columns, the form's own in the JSON `fields`), its JSON
//! shape, and its check against the form with the JSON path of each problem.

use chrono::{DateTime, Utc};
use sea_orm::Set;
use serde_json::{Map, Value as Json};

use crate::{
    clock,
    entities::asset,
    error::{FieldError, Lang},
    forms::{Form, LegalDoc, Record, Value, validate},
    search,
};

/// Builds the record of a stored asset: core columns by key, then the JSON fields.
pub fn record_of(form: &Form, m: &asset::Model) -> Record {
    let mut r = Record::new();
    let mut put = |k: &str, v: Option<Value>| {
        if let Some(v) = v {
            r.insert(k.to_string(), v);
        }
    };
    put("section", m.section.clone().map(Value::Code));
    put("code", Some(Value::Text(m.code.clone())));
    put("name", Some(Value::Text(m.name.clone())));
    put(
        "unit_of_measure",
        m.unit_of_measure.clone().map(Value::Text),
    );
    put("qty_books", m.qty_books.map(Value::Milli));
    put("qty_counted", m.qty_counted.map(Value::Milli));
    put("qty_difference", m.qty_difference.map(Value::Milli));
    put("original_cost", Some(Value::Money(m.original_cost)));
    put(
        "original_cost_budget",
        Some(Value::Money(m.original_cost_budget)),
    );
    put(
        "original_cost_other",
        Some(Value::Money(m.original_cost_other)),
    );
    put("depreciation", Some(Value::Money(m.depreciation)));
    put("remaining_value", Some(Value::Money(m.remaining_value)));
    put("price_basis", Some(Value::Code(m.price_basis.clone())));
    put("usage_status", Some(Value::Code(m.usage_status.clone())));
    put("origin", m.origin.clone().map(Value::Code));
    put(
        "year_in_use",
        m.year_in_use.map(|y| Value::Int(i64::from(y))),
    );
    put("location", m.location.clone().map(Value::Text));
    put(
        "legal_documents",
        m.legal_documents
            .clone()
            .and_then(|d| serde_json::from_value::<Vec<LegalDoc>>(d).ok())
            .filter(|d| !d.is_empty())
            .map(Value::Docs),
    );
    put("note", m.note.clone().map(Value::Text));
    if let Some(obj) = m.fields.as_object() {
        for (k, v) in obj {
            if let Some(f) = form.field(k)
                && let Ok(Some(value)) = Value::from_json(f, v)
            {
                r.insert(k.clone(), value);
            }
        }
    }
    r
}

/// A text or code value of a record.
pub fn text(r: &Record, k: &str) -> Option<String> {
    match r.get(k) {
        Some(Value::Text(s) | Value::Code(s)) => Some(s.clone()),
        _ => None,
    }
}

fn number(r: &Record, k: &str) -> Option<i64> {
    r.get(k).and_then(Value::number)
}

/// Writes a checked record into an active model (core columns, then the JSON fields).
pub fn fill(form: &Form, r: &Record, a: &mut asset::ActiveModel) {
    a.section = Set(text(r, "section"));
    a.code = Set(text(r, "code").unwrap_or_default());
    a.name = Set(text(r, "name").unwrap_or_default());
    a.search = Set(search::key(
        text(r, "code").as_deref().unwrap_or_default(),
        text(r, "name").as_deref().unwrap_or_default(),
    ));
    a.unit_of_measure = Set(text(r, "unit_of_measure"));
    a.qty_books = Set(number(r, "qty_books"));
    a.qty_counted = Set(number(r, "qty_counted"));
    a.qty_difference = Set(number(r, "qty_difference"));
    a.original_cost = Set(number(r, "original_cost").unwrap_or(0));
    a.original_cost_budget = Set(number(r, "original_cost_budget").unwrap_or(0));
    a.original_cost_other = Set(number(r, "original_cost_other").unwrap_or(0));
    a.depreciation = Set(number(r, "depreciation").unwrap_or(0));
    a.remaining_value = Set(number(r, "remaining_value").unwrap_or(0));
    a.price_basis = Set(text(r, "price_basis").unwrap_or_else(|| "actual".into()));
    a.usage_status = Set(text(r, "usage_status").unwrap_or_default());
    a.origin = Set(text(r, "origin"));
    a.year_in_use = Set(number(r, "year_in_use").and_then(|y| i32::try_from(y).ok()));
    a.location = Set(text(r, "location"));
    a.legal_documents = Set(r.get("legal_documents").map(Value::to_json));
    a.note = Set(text(r, "note"));
    let own: Map<String, Json> = r
        .iter()
        .filter(|(k, _)| !Form::is_core(k) && form.field(k).is_some())
        .map(|(k, v)| (k.clone(), v.to_json()))
        .collect();
    a.fields = Set(Json::Object(own));
}

/// The JSON of a record: common keys at the top level, the form's own under `fields`.
pub fn record_json(record: &Record) -> Map<String, Json> {
    let mut top = Map::new();
    let mut own = Map::new();
    for (k, v) in record {
        if Form::is_core(k) {
            top.insert(k.clone(), v.to_json());
        } else {
            own.insert(k.clone(), v.to_json());
        }
    }
    top.insert("fields".into(), Json::Object(own));
    top
}

/// Checks a record against its form; every problem becomes a field error with its JSON path.
pub fn check_record(
    form: &Form,
    record: &mut Record,
    cutoff: DateTime<Utc>,
    for_submission: bool,
) -> Vec<FieldError> {
    let lang = Lang::current();
    check_issues(form, record, cutoff, for_submission)
        .into_iter()
        .map(|i| FieldError {
            field: if Form::is_core(&i.field) {
                i.field
            } else {
                format!("fields.{}", i.field)
            },
            code: i.code,
            message: i.message.get(lang).to_string(),
        })
        .collect()
}

/// The problems of a record in both languages, keyed by field key.
pub fn check_issues(
    form: &Form,
    record: &mut Record,
    cutoff: DateTime<Utc>,
    for_submission: bool,
) -> Vec<validate::Issue> {
    let ctx = validate::Context {
        cutoff_year: clock::local_year(cutoff),
        for_submission,
    };
    validate::check(form, record, ctx)
}
