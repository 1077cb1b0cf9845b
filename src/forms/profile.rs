//! Export profiles (`profiles/*.toml`, embedded at build time, or a directory named by
//! `KIEMKE_PROFILES_DIR`): how the flat export is laid out for one target — sheet name,
//! column order, headers, a code crosswalk per field and the unit-level columns. The
//! fields themselves, their order and labels come from the form definitions; a profile
//! only says how to present them. See docs/EXPORTS.md, "Export profiles".

use std::{collections::BTreeMap, path::Path, sync::Arc};

use serde::Deserialize;

use super::{DefinitionError, FieldType, Form, Text, bad, toml_files};

include!(concat!(env!("OUT_DIR"), "/embedded_profiles.rs"));

/// The profile used when none is named: the service's own re-importable flat sheet.
pub const DEFAULT_PROFILE: &str = "kiemke";

/// Where a column's value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum Source {
    /// The unit's budget-relationship code (mã đơn vị quan hệ ngân sách).
    #[serde(rename = "unit.code")]
    UnitCode,
    /// The unit's registration code in the national software.
    #[serde(rename = "unit.registration_code")]
    UnitRegistrationCode,
    /// The unit's name.
    #[serde(rename = "unit.name")]
    UnitName,
    /// The asset type code (`01`).
    #[serde(rename = "asset_type")]
    AssetType,
    /// The form code (`01a`).
    #[serde(rename = "form_code")]
    FormCode,
    /// The form's `flat_columns`, in their order.
    #[serde(rename = "fields")]
    Fields,
}

/// One entry of a profile's column list.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileColumn {
    /// Where the values come from.
    pub source: Source,
    /// Header of a unit-level column (ignored for `fields`).
    #[serde(default)]
    pub header: String,
    /// Only in the file of every unit of a ward (where rows of several units meet).
    #[serde(default)]
    pub ward_only: bool,
}

/// How field columns are headed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HeaderStyle {
    /// The field key (`original_cost`): machine-readable, what the importer reads.
    Key,
    /// The field's Vietnamese label, with its unit (`Nguyên giá - Tổng cộng (đồng)`).
    Label,
}

/// Legal documents as two columns; `{label}` is replaced by the field's label.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocumentColumns {
    /// Header of a column of the documents' kinds (none when absent).
    #[serde(default)]
    pub kind: Option<String>,
    /// Header of the numbers column.
    pub number: String,
    /// Header of the dates column.
    pub date: String,
}

/// One export profile.
#[derive(Debug, Clone)]
pub struct Profile {
    /// Name used in URLs (`?profile=national-draft`).
    pub code: String,
    /// What it is, for people.
    pub name: Text,
    /// The target's template is not published: the layout is a guess.
    pub provisional: bool,
    /// Sheet name; `{form}` is the form code.
    pub sheet: String,
    /// How field columns are headed.
    pub headers: HeaderStyle,
    /// Columns in order.
    pub columns: Vec<ProfileColumn>,
    /// Legal documents split into number and date (one text cell when absent).
    pub documents: Option<DocumentColumns>,
    /// Header overrides by field key.
    pub header_overrides: BTreeMap<String, String>,
    /// Per field key: our code → the target's code. Codes not listed are written as they are.
    pub crosswalk: BTreeMap<String, BTreeMap<String, String>>,
}

/// A profile as written in its file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfileFile {
    code: String,
    name: Text,
    #[serde(default)]
    provisional: bool,
    sheet: String,
    field_headers: HeaderStyle,
    columns: Vec<ProfileColumn>,
    #[serde(default)]
    documents: Option<DocumentColumns>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    #[serde(default)]
    crosswalk: BTreeMap<String, BTreeMap<String, String>>,
}

impl Profile {
    /// The sheet name for a form.
    pub fn sheet_name(&self, form: &Form) -> String {
        self.sheet.replace("{form}", &form.code)
    }

    /// The target's code for our `code` of field `key`.
    pub fn crosswalk<'a>(&'a self, key: &str, code: &'a str) -> &'a str {
        self.crosswalk
            .get(key)
            .and_then(|m| m.get(code))
            .map(String::as_str)
            .unwrap_or(code)
    }

    /// Header of a field column.
    pub fn field_header(&self, form: &Form, key: &str) -> String {
        if let Some(h) = self.header_overrides.get(key) {
            return h.clone();
        }
        match (self.headers, form.field(key)) {
            (HeaderStyle::Label, Some(f)) => match &f.unit {
                Some(u) => format!("{} ({u})", f.label.vi),
                None => f.label.vi.clone(),
            },
            _ => key.to_string(),
        }
    }

    fn parse(file: &str, text: &str) -> Result<Profile, DefinitionError> {
        let p: ProfileFile = toml::from_str(text).map_err(|e| bad(file, e.to_string()))?;
        Ok(Profile {
            code: p.code,
            name: p.name,
            provisional: p.provisional,
            sheet: p.sheet,
            headers: p.field_headers,
            columns: p.columns,
            documents: p.documents,
            header_overrides: p.headers,
            crosswalk: p.crosswalk,
        })
    }

    /// Checks the profile against the forms: a sheet name Excel accepts, the form's fields
    /// once, crosswalks and header overrides that name existing fields and codes.
    fn check(&self, file: &str, forms: &[&Arc<Form>]) -> Result<(), DefinitionError> {
        let code_ok = !self.code.is_empty()
            && self
                .code
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !code_ok {
            return Err(bad(file, "code must be lower-case letters, digits and '-'"));
        }
        let sample = self.sheet.replace("{form}", "01a");
        if sample.is_empty()
            || sample.chars().count() > 31
            || sample.contains(['[', ']', ':', '*', '?', '/', '\\'])
        {
            return Err(bad(
                file,
                "sheet must be 1 to 31 characters without [ ] : * ? / \\",
            ));
        }
        let fields = self
            .columns
            .iter()
            .filter(|c| c.source == Source::Fields)
            .count();
        if fields != 1 {
            return Err(bad(
                file,
                "columns must hold source = \"fields\" exactly once",
            ));
        }
        for c in &self.columns {
            if c.source != Source::Fields && c.header.trim().is_empty() {
                return Err(bad(file, format!("column {:?} needs a header", c.source)));
            }
        }
        fn field<'a>(
            forms: &'a [&'a Arc<Form>],
            key: &'a str,
        ) -> impl Iterator<Item = &'a super::FieldDef> + 'a {
            forms.iter().filter_map(move |f| f.field(key))
        }
        for key in self.header_overrides.keys() {
            if field(forms, key).next().is_none() {
                return Err(bad(file, format!("header names unknown field {key}")));
            }
        }
        for (key, map) in &self.crosswalk {
            if !field(forms, key).any(|f| f.kind == FieldType::Enum) {
                return Err(bad(
                    file,
                    format!("crosswalk names {key}, which is not a coded field of any form"),
                ));
            }
            for code in map.keys() {
                if !field(forms, key).any(|f| f.option(code).is_some()) {
                    return Err(bad(
                        file,
                        format!("crosswalk.{key} names unknown code {code}"),
                    ));
                }
            }
        }
        Ok(())
    }
}

/// Every export profile, by code.
#[derive(Debug, Clone, Default)]
pub struct Profiles {
    profiles: BTreeMap<String, Arc<Profile>>,
}

impl Profiles {
    /// The profiles built into the binary, parsed but not yet checked against the forms.
    pub fn embedded() -> Result<Self, DefinitionError> {
        Self::from_sources(
            EMBEDDED_PROFILES
                .iter()
                .map(|(n, s)| (n.to_string(), s.to_string())),
        )
    }

    /// Profiles read from a directory (to change a layout without a rebuild). The directory
    /// replaces the built-in set; it must hold the `kiemke` profile.
    pub fn from_dir(dir: &Path) -> Result<Self, DefinitionError> {
        Self::from_sources(toml_files(dir)?)
    }

    /// Parses a set of `(file name, contents)` pairs.
    pub fn from_sources(
        sources: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, DefinitionError> {
        let mut profiles = BTreeMap::new();
        let mut files = BTreeMap::new();
        for (name, text) in sources {
            let p = Profile::parse(&name, &text)?;
            files.insert(p.code.clone(), name.clone());
            if profiles.insert(p.code.clone(), Arc::new(p)).is_some() {
                return Err(bad(&name, "profile code defined twice"));
            }
        }
        if !profiles.contains_key(DEFAULT_PROFILE) {
            return Err(bad(
                "profiles",
                format!("the {DEFAULT_PROFILE} profile is missing"),
            ));
        }
        Ok(Profiles { profiles })
    }

    /// Checks every profile against the forms it will lay out.
    pub(super) fn check(&self, forms: &[&Arc<Form>]) -> Result<(), DefinitionError> {
        for p in self.profiles.values() {
            p.check(&format!("profile {}", p.code), forms)?;
        }
        Ok(())
    }

    /// The profile with this code.
    pub fn get(&self, code: &str) -> Option<&Arc<Profile>> {
        self.profiles.get(code)
    }

    /// Every profile, ordered by code.
    pub fn all(&self) -> impl Iterator<Item = &Arc<Profile>> {
        self.profiles.values()
    }
}
