//! Change lists: what changed between two versions of a report's records (added, removed,
//! and changed field by field), keyed by asset code.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use utoipa::ToSchema;

/// One field that changed between two versions of a record.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct FieldChange {
    /// Field key (`fields.x` for a form's own field).
    pub field: String,
    /// Value before.
    #[schema(value_type = Option<Object>)]
    pub before: Option<Json>,
    /// Value after.
    #[schema(value_type = Option<Object>)]
    pub after: Option<Json>,
}

/// One record that changed.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct RecordChange {
    /// Asset code.
    pub code: String,
    /// Field-level changes.
    pub fields: Vec<FieldChange>,
}

/// What changed between two sets of records.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct Changes {
    /// Codes of records added.
    pub added: Vec<String>,
    /// Codes of records removed.
    pub removed: Vec<String>,
    /// Records changed, with their fields.
    pub changed: Vec<RecordChange>,
}

fn flatten(record: &Json) -> BTreeMap<String, Json> {
    let mut out = BTreeMap::new();
    if let Some(obj) = record.as_object() {
        for (k, v) in obj {
            match (k.as_str(), v) {
                ("asset_id", _) => {}
                ("fields", Json::Object(inner)) => {
                    for (ik, iv) in inner {
                        out.insert(format!("fields.{ik}"), iv.clone());
                    }
                }
                _ => {
                    out.insert(k.clone(), v.clone());
                }
            }
        }
    }
    out
}

/// Added, removed and changed records (field by field) between two record lists, keyed by asset code.
pub fn diff(before: &[Json], after: &[Json]) -> Changes {
    let key = |r: &Json| r["code"].as_str().unwrap_or_default().to_string();
    let old: BTreeMap<String, &Json> = before.iter().map(|r| (key(r), r)).collect();
    let new: BTreeMap<String, &Json> = after.iter().map(|r| (key(r), r)).collect();
    let mut changes = Changes::default();
    for (code, r) in &new {
        match old.get(code) {
            None => changes.added.push(code.clone()),
            Some(o) => {
                let (a, b) = (flatten(o), flatten(r));
                let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
                keys.sort();
                keys.dedup();
                let fields: Vec<FieldChange> = keys
                    .into_iter()
                    .filter(|k| a.get(*k) != b.get(*k))
                    .map(|k| FieldChange {
                        field: k.clone(),
                        before: a.get(k).cloned(),
                        after: b.get(k).cloned(),
                    })
                    .collect();
                if !fields.is_empty() {
                    changes.changed.push(RecordChange {
                        code: code.clone(),
                        fields,
                    });
                }
            }
        }
    }
    changes.removed = old
        .keys()
        .filter(|c| !new.contains_key(*c))
        .cloned()
        .collect();
    changes
}
