//! Form definitions: loaded from `forms/*.toml` (embedded at build time, or a
//! directory named by `KIEMKE_FORMS_DIR`), checked once at start-up, then used
//! by validation, storage, the API schema, exports and imports.

pub mod definition;
pub mod profile;
pub mod record;
pub mod validate;
pub mod value;

use std::{collections::BTreeMap, path::Path, sync::Arc};

pub use definition::*;
pub use profile::{DEFAULT_PROFILE, Profile, Profiles};
pub use value::{LegalDoc, Record, Value};

include!(concat!(env!("OUT_DIR"), "/embedded_forms.rs"));

/// Keys of the fields every asset stores in its own database column.
/// Every other field lives in the asset's JSON `fields` document.
pub const CORE_KEYS: &[&str] = &[
    "section",
    "code",
    "name",
    "unit_of_measure",
    "qty_books",
    "qty_counted",
    "qty_difference",
    "original_cost",
    "original_cost_budget",
    "original_cost_other",
    "depreciation",
    "remaining_value",
    "price_basis",
    "usage_status",
    "origin",
    "year_in_use",
    "location",
    "legal_documents",
    "note",
];

/// A form ready for use: common and own fields merged, references checked.
#[derive(Debug, Clone)]
pub struct Form {
    /// `01a` … `19a`.
    pub code: String,
    /// Version of the definition file.
    pub version: String,
    /// How sure we are of the content.
    pub provenance: Provenance,
    /// The asset type the form records.
    pub asset_type: AssetTypeDef,
    /// Title printed on the sheet.
    pub title: Text,
    /// Sections, in order (may be empty).
    pub sections: Vec<SectionDef>,
    /// Every field: `section` (when the form has sections), the common fields, then the form's own.
    pub fields: Vec<FieldDef>,
    /// Common rules, then the form's own.
    pub rules: Vec<RuleDef>,
    /// Columns of the official sheet.
    pub columns: Vec<ColumnDef>,
    /// Column order of the flat upload sheet.
    pub flat_columns: Vec<String>,
    index: BTreeMap<String, usize>,
}

impl Form {
    /// The field with this key.
    pub fn field(&self, key: &str) -> Option<&FieldDef> {
        self.index.get(key).map(|&i| &self.fields[i])
    }

    /// Whether `key` is stored in its own database column.
    pub fn is_core(key: &str) -> bool {
        CORE_KEYS.contains(&key)
    }

    /// The section with this code.
    pub fn section(&self, code: &str) -> Option<&SectionDef> {
        self.sections.iter().find(|s| s.code == code)
    }

    /// Columns of one table of the official sheet. A form without sections has one
    /// table of every column; a section's table holds the columns it lists (all that
    /// apply when it lists none); `None` (records without a known section) holds the
    /// columns that apply to every section.
    pub fn table_columns(&self, section: Option<&str>) -> Vec<&ColumnDef> {
        let applies = |c: &&ColumnDef| self.field(&c.field).is_some_and(|f| f.applies_to(section));
        match section.and_then(|s| self.section(s)) {
            _ if !self.has_sections() => self.columns.iter().collect(),
            Some(s) if !s.columns.is_empty() => s
                .columns
                .iter()
                .filter_map(|k| self.columns.iter().find(|c| &c.field == k))
                .collect(),
            _ => self.columns.iter().filter(applies).collect(),
        }
    }

    /// Whether the form divides its records into sections.
    pub fn has_sections(&self) -> bool {
        !self.sections.is_empty()
    }

    /// Fields computed from others in a record of `section`, by the form's rules: a
    /// `difference` rule's result (`Chênh lệch` = books − counted, `Giá trị còn lại` =
    /// cost − depreciation) and a `sum` rule's last part (`Nguồn khác` = total − budget).
    /// The official sheet writes them as formulas; the importer recomputes a cell that
    /// still holds that formula.
    pub fn derived(&self, section: Option<&str>) -> Vec<Derived<'_>> {
        let mut out = Vec::new();
        for rule in self.rules.iter().filter(|r| r.applies_to(section)) {
            let f: Vec<&str> = rule.fields.iter().map(String::as_str).collect();
            match (rule.kind, f.as_slice()) {
                (RuleKind::Difference, [a, b, c]) => out.push(Derived {
                    field: c,
                    plus: vec![a],
                    minus: vec![b],
                }),
                (RuleKind::Sum, [parts @ .., last_part, total]) if !parts.is_empty() => {
                    out.push(Derived {
                        field: last_part,
                        plus: vec![total],
                        minus: parts.to_vec(),
                    });
                }
                _ => {}
            }
        }
        out
    }
}

/// A field computed from others: `field = Σ plus − Σ minus` (see [`Form::derived`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Derived<'f> {
    /// The computed field.
    pub field: &'f str,
    /// Fields added.
    pub plus: Vec<&'f str>,
    /// Fields subtracted.
    pub minus: Vec<&'f str>,
}

impl Derived<'_> {
    /// The formula of the derived cell on sheet row `row` (1-based), given the column
    /// letter of each input; `None` when an input has no column. `F15-G15`, without `=`.
    pub fn formula(&self, row: u32, letter: impl Fn(&str) -> Option<String>) -> Option<String> {
        let cell = |k: &&str| letter(k).map(|l| format!("{l}{row}"));
        let plus: Option<Vec<String>> = self.plus.iter().map(cell).collect();
        let minus: Option<Vec<String>> = self.minus.iter().map(cell).collect();
        Some(format!("{}-{}", plus?.join("+"), minus?.join("-")))
    }
}

/// All forms, by form code, and the asset-type catalogue they make up.
#[derive(Debug, Clone)]
pub struct Registry {
    forms: BTreeMap<String, Arc<Form>>,
    /// Version of `common.toml`.
    pub common_version: String,
    /// Export profiles of the flat layout (`profiles/*.toml`).
    profiles: Profiles,
}

/// A definition file that cannot be used, with the reason.
#[derive(Debug, thiserror::Error)]
#[error("form definition {file}: {reason}")]
pub struct DefinitionError {
    /// File name.
    pub file: String,
    /// What is wrong.
    pub reason: String,
}

/// Every `*.toml` file of `dir` as `(file name, contents)`: the sources of a forms or a
/// profiles directory that replaces the built-in set.
fn toml_files(dir: &Path) -> Result<Vec<(String, String)>, DefinitionError> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| bad(&dir.display().to_string(), e.to_string()))?;
    let mut sources = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().is_some_and(|x| x == "toml") {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let text = std::fs::read_to_string(&path).map_err(|e| bad(&name, e.to_string()))?;
            sources.push((name, text));
        }
    }
    Ok(sources)
}

fn bad(file: &str, reason: impl Into<String>) -> DefinitionError {
    DefinitionError {
        file: file.to_string(),
        reason: reason.into(),
    }
}

impl Registry {
    /// The definitions built into the binary.
    pub fn embedded() -> Result<Self, DefinitionError> {
        Self::from_sources(
            EMBEDDED_FORMS
                .iter()
                .map(|(n, s)| (n.to_string(), s.to_string())),
        )
    }

    /// Definitions read from a directory (to replace the built-in ones without a rebuild).
    pub fn from_dir(dir: &Path) -> Result<Self, DefinitionError> {
        Self::from_sources(toml_files(dir)?)
    }

    /// Parse and check a set of `(file name, contents)` pairs.
    pub fn from_sources(
        sources: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, DefinitionError> {
        let mut common: Option<CommonFile> = None;
        let mut files = Vec::new();
        for (name, text) in sources {
            if name == "common.toml" {
                common = Some(toml::from_str(&text).map_err(|e| bad(&name, e.to_string()))?);
            } else {
                let f: FormFile = toml::from_str(&text).map_err(|e| bad(&name, e.to_string()))?;
                files.push((name, f));
            }
        }
        let common = common.ok_or_else(|| bad("common.toml", "missing"))?;
        check_common(&common)?;
        let mut forms = BTreeMap::new();
        for (name, file) in files {
            let form = resolve(&name, &common, file)?;
            if forms.insert(form.code.clone(), Arc::new(form)).is_some() {
                return Err(bad(&name, "form code defined twice"));
            }
        }
        let mut types = std::collections::BTreeSet::new();
        for f in forms.values() {
            if !types.insert(f.asset_type.code.clone()) {
                return Err(bad(
                    &f.code,
                    format!("asset type {} has two forms", f.asset_type.code),
                ));
            }
        }
        Ok(Registry {
            forms,
            common_version: common.version,
            profiles: Profiles::embedded().unwrap_or_default(),
        })
    }

    /// The same forms with these export profiles, checked against the forms.
    pub fn with_profiles(mut self, profiles: Profiles) -> Result<Self, DefinitionError> {
        profiles.check(&self.forms.values().collect::<Vec<_>>())?;
        self.profiles = profiles;
        Ok(self)
    }

    /// The export profiles.
    pub fn profiles(&self) -> &Profiles {
        &self.profiles
    }

    /// The form with this code (`01a`).
    pub fn form(&self, code: &str) -> Option<&Arc<Form>> {
        self.forms.get(code)
    }

    /// The form recording this asset type (`01`).
    pub fn form_for_type(&self, type_code: &str) -> Option<&Arc<Form>> {
        self.forms.values().find(|f| f.asset_type.code == type_code)
    }

    /// The asset type named in a URL either by its code (`01`) or by its form's code (`01a`).
    /// Anything else comes back as given (and is then not found).
    pub fn type_code(&self, type_or_form: &str) -> String {
        match self.form(type_or_form) {
            Some(f) => f.asset_type.code.clone(),
            None => type_or_form.to_string(),
        }
    }

    /// Every form, ordered by code.
    pub fn forms(&self) -> impl Iterator<Item = &Arc<Form>> {
        self.forms.values()
    }
}

fn section_field(sections: &[SectionDef]) -> FieldDef {
    FieldDef {
        key: "section".into(),
        label: Text {
            vi: "Phần".into(),
            en: "Section".into(),
        },
        kind: FieldType::Enum,
        unit: None,
        scale: None,
        required: true,
        min: None,
        max: None,
        max_length: None,
        pattern: None,
        pattern_message: None,
        options: sections
            .iter()
            .map(|s| EnumOption {
                code: s.code.clone(),
                label: s.name.clone(),
            })
            .collect(),
        sections: vec![],
        aliases: Vec::new(),
        help: None,
        default: None,
        default_code: None,
    }
}

fn resolve(name: &str, common: &CommonFile, file: FormFile) -> Result<Form, DefinitionError> {
    let code_ok = file.form_code.len() == 3
        && file.form_code.ends_with('a')
        && file.form_code[..2] == file.asset_type.code;
    if !code_ok {
        return Err(bad(
            name,
            "form_code must be the two-digit asset type code followed by 'a'",
        ));
    }
    let mut fields = Vec::new();
    if !file.sections.is_empty() {
        fields.push(section_field(&file.sections));
    }
    fields.extend(common.fields.iter().cloned());
    for f in &file.fields {
        if Form::is_core(&f.key) {
            return Err(bad(
                name,
                format!(
                    "field {} is a common field; change it in common.toml",
                    f.key
                ),
            ));
        }
    }
    fields.extend(file.fields.iter().cloned());
    let mut index = BTreeMap::new();
    let section_codes: Vec<&str> = file.sections.iter().map(|s| s.code.as_str()).collect();
    for (i, f) in fields.iter().enumerate() {
        check_field(name, f, &section_codes)?;
        if index.insert(f.key.clone(), i).is_some() {
            return Err(bad(name, format!("field {} declared twice", f.key)));
        }
    }
    for key in CORE_KEYS {
        if *key != "section" && !index.contains_key(*key) {
            return Err(bad(
                name,
                format!("common field {key} is missing from common.toml"),
            ));
        }
    }
    let mut rules: Vec<RuleDef> = common.rules.clone();
    for entry in file.rules {
        rules.push(match entry {
            RuleEntry::Own(rule) => rule,
            RuleEntry::Shared(code) => shared_rule(name, common, &code)?,
        });
    }
    for r in &rules {
        check_rule(name, r, &index, &fields, &section_codes)?;
    }
    let columns = place_columns(name, common, &file.columns, file.column_widths)?;
    for c in &columns {
        if !index.contains_key(&c.field) {
            return Err(bad(name, format!("column names unknown field {}", c.field)));
        }
    }
    let mut placed = std::collections::BTreeSet::new();
    for c in &columns {
        if !placed.insert(c.field.as_str()) {
            return Err(bad(name, format!("column {} is placed twice", c.field)));
        }
    }
    let mut sections = file.sections;
    for s in &mut sections {
        s.columns = section_columns(name, common, s)?;
    }
    for s in &sections {
        for key in &s.columns {
            let applies = index
                .get(key)
                .and_then(|&i| fields.get(i))
                .is_some_and(|f| f.applies_to(Some(&s.code)));
            if !columns.iter().any(|c| &c.field == key) || !applies {
                return Err(bad(
                    name,
                    format!(
                        "section {} lists {key}, which is not a column that applies to it",
                        s.code
                    ),
                ));
            }
        }
    }
    let flat_columns = if file.flat_columns.is_empty() {
        fields.iter().map(|f| f.key.clone()).collect()
    } else {
        file.flat_columns.clone()
    };
    for k in &flat_columns {
        if !index.contains_key(k) {
            return Err(bad(name, format!("flat column names unknown field {k}")));
        }
    }
    for must in ["code", "name"] {
        if !flat_columns.iter().any(|k| k == must) || !columns.iter().any(|c| c.field == must) {
            return Err(bad(name, format!("layouts must include the {must} column")));
        }
    }
    Ok(Form {
        code: file.form_code,
        version: file.version,
        provenance: file.provenance,
        asset_type: file.asset_type,
        title: file.title,
        sections,
        fields,
        rules,
        columns,
        flat_columns,
        index,
    })
}

/// How a form names the common columns: `common` (all of them), `common.<part>` (the
/// columns of one part, e.g. `common.head`) or `common.<field>` (one column).
const COMMON_PREFIX: &str = "common";

/// The common columns `reference` names, in `common.toml`'s order; `None` when it names
/// none (an unknown part or field, or not `common…` at all).
fn common_columns<'c>(common: &'c CommonFile, reference: &str) -> Option<Vec<&'c CommonColumn>> {
    let picked: Vec<&CommonColumn> = match reference.strip_prefix(COMMON_PREFIX)? {
        "" => common.columns.iter().collect(),
        rest => {
            let key = rest.strip_prefix('.')?;
            common
                .columns
                .iter()
                .filter(|c| c.part.as_deref() == Some(key) || c.field == key)
                .collect()
        }
    };
    (!picked.is_empty()).then_some(picked)
}

/// The names a form may `use`, for error messages: `common` and each `common.<part>`.
fn common_parts(common: &CommonFile) -> String {
    let mut parts = vec![COMMON_PREFIX.to_string()];
    for c in &common.columns {
        if let Some(p) = &c.part {
            let name = format!("{COMMON_PREFIX}.{p}");
            if !parts.contains(&name) {
                parts.push(name);
            }
        }
    }
    parts.join(", ")
}

/// The official sheet's columns of a form: its `[[columns]]` entries with each `use`
/// replaced by the common columns it names (their header, group and width as common.toml
/// gives them, the narrow widths on a narrow form; one common column may change them).
fn place_columns(
    name: &str,
    common: &CommonFile,
    entries: &[ColumnEntry],
    widths: ColumnWidths,
) -> Result<Vec<ColumnDef>, DefinitionError> {
    let mut out = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        let n = i + 1;
        match (&e.field, &e.uses) {
            (Some(field), None) => out.push(ColumnDef {
                field: field.clone(),
                group: e.group.clone(),
                header: e.header.clone(),
                width: e.width,
            }),
            (None, Some(reference)) => {
                let picked = common_columns(common, reference).ok_or_else(|| {
                    bad(
                        name,
                        format!(
                            "columns entry {n}: use = {reference:?} names no common column of \
                             common.toml; use one of {} or common.<field>",
                            common_parts(common)
                        ),
                    )
                })?;
                let one = reference
                    .strip_prefix("common.")
                    .is_some_and(|k| common.columns.iter().any(|c| c.field == k));
                let changes = e.group.is_some() || e.header.is_some() || e.width.is_some();
                if changes && !one {
                    return Err(bad(
                        name,
                        format!(
                            "columns entry {n}: use = {reference:?} places several columns, so it \
                             cannot change their header, group or width; place them one by one \
                             (use = \"common.<field>\") to change one"
                        ),
                    ));
                }
                for c in picked {
                    let width = match widths {
                        ColumnWidths::Normal => c.width,
                        ColumnWidths::Narrow => c.narrow_width.or(c.width),
                    };
                    out.push(ColumnDef {
                        field: c.field.clone(),
                        group: e.group.clone().or_else(|| c.group.clone()),
                        header: e.header.clone().or_else(|| c.header.clone()),
                        width: e.width.or(width),
                    });
                }
            }
            (Some(field), Some(reference)) => {
                return Err(bad(
                    name,
                    format!(
                        "columns entry {n} has both field = {field:?} and use = {reference:?}; \
                         give one of them"
                    ),
                ));
            }
            (None, None) => {
                return Err(bad(
                    name,
                    format!("columns entry {n} needs field = \"…\" or use = \"common…\""),
                ));
            }
        }
    }
    Ok(out)
}

/// A section's `columns` with each `common…` name replaced by the fields of the common
/// columns it names.
fn section_columns(
    name: &str,
    common: &CommonFile,
    section: &SectionDef,
) -> Result<Vec<String>, DefinitionError> {
    let mut out = Vec::new();
    for key in &section.columns {
        if key == COMMON_PREFIX || key.starts_with("common.") {
            let picked = common_columns(common, key).ok_or_else(|| {
                bad(
                    name,
                    format!(
                        "section {} lists {key:?}, which names no common column of common.toml; \
                         use one of {} or common.<field>",
                        section.code,
                        common_parts(common)
                    ),
                )
            })?;
            out.extend(picked.into_iter().map(|c| c.field.clone()));
        } else {
            out.push(key.clone());
        }
    }
    Ok(out)
}

/// The `[[shared_rules]]` entry of common.toml with this code.
fn shared_rule(name: &str, common: &CommonFile, code: &str) -> Result<RuleDef, DefinitionError> {
    common
        .shared_rules
        .iter()
        .find(|r| r.code == code)
        .cloned()
        .ok_or_else(|| {
            let known: Vec<&str> = common
                .shared_rules
                .iter()
                .map(|r| r.code.as_str())
                .collect();
            bad(
                name,
                format!(
                    "rules: use = {code:?} names no shared rule of common.toml (shared rules: {})",
                    if known.is_empty() {
                        "none".to_string()
                    } else {
                        known.join(", ")
                    }
                ),
            )
        })
}

/// Checks of common.toml's own columns and shared rules that need no form: each column
/// names a common field once, no part is named like a field, shared rule codes are unique
/// and differ from the common rules'.
fn check_common(common: &CommonFile) -> Result<(), DefinitionError> {
    let file = "common.toml";
    let keys: Vec<&str> = common.fields.iter().map(|f| f.key.as_str()).collect();
    let mut seen = std::collections::BTreeSet::new();
    for c in &common.columns {
        if !keys.contains(&c.field.as_str()) {
            return Err(bad(
                file,
                format!("column names {}, which is not a common field", c.field),
            ));
        }
        if !seen.insert(c.field.as_str()) {
            return Err(bad(file, format!("column {} is declared twice", c.field)));
        }
        if let Some(p) = &c.part
            && keys.contains(&p.as_str())
        {
            return Err(bad(
                file,
                format!("column part {p} has the name of a field; give the part another name"),
            ));
        }
    }
    let mut codes = std::collections::BTreeSet::new();
    for r in common.rules.iter().chain(&common.shared_rules) {
        if !codes.insert(r.code.as_str()) {
            return Err(bad(file, format!("rule {} is declared twice", r.code)));
        }
    }
    Ok(())
}

fn check_field(name: &str, f: &FieldDef, sections: &[&str]) -> Result<(), DefinitionError> {
    let key_ok = !f.key.is_empty()
        && f.key
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !key_ok {
        return Err(bad(
            name,
            format!("field key {:?} must be snake_case ASCII", f.key),
        ));
    }
    if let Some(code) = &f.default_code
        && f.option(code).is_none()
    {
        return Err(bad(
            name,
            format!("field {} defaults to unknown option {code}", f.key),
        ));
    }
    if f.kind == FieldType::Enum && f.options.is_empty() {
        return Err(bad(name, format!("enum field {} has no options", f.key)));
    }
    if f.kind.is_decimal() && f.scale() > 3 {
        return Err(bad(
            name,
            format!("field {} keeps more than 3 decimals", f.key),
        ));
    }
    if let Some(p) = &f.pattern {
        regex::Regex::new(p).map_err(|e| bad(name, format!("field {} pattern: {e}", f.key)))?;
    }
    known_sections(name, &format!("field {}", f.key), &f.sections, sections)
}

/// Refuses a field or a rule (`what`: "field area") that lists a section the form does not have.
fn known_sections(
    name: &str,
    what: &str,
    listed: &[String],
    sections: &[&str],
) -> Result<(), DefinitionError> {
    match listed.iter().find(|s| !sections.contains(&s.as_str())) {
        Some(s) => Err(bad(name, format!("{what} names unknown section {s}"))),
        None => Ok(()),
    }
}

fn check_rule(
    name: &str,
    r: &RuleDef,
    index: &BTreeMap<String, usize>,
    fields: &[FieldDef],
    sections: &[&str],
) -> Result<(), DefinitionError> {
    let need = match r.kind {
        RuleKind::Difference => 3..=3,
        RuleKind::Sum | RuleKind::SumAtMost => 2..=usize::MAX,
        RuleKind::NotAfter => 2..=2,
        RuleKind::ConventionalPrice => 1..=1,
        RuleKind::NotAfterCutoff | RuleKind::AtLeast | RuleKind::RequiredOnSubmit => 1..=usize::MAX,
    };
    if !need.contains(&r.fields.len()) {
        return Err(bad(
            name,
            format!("rule {} has the wrong number of fields", r.code),
        ));
    }
    for k in r
        .fields
        .iter()
        .chain(r.flag.iter())
        .chain(r.report_on.iter())
    {
        let Some(&i) = index.get(k) else {
            return Err(bad(
                name,
                format!("rule {} names unknown field {k}", r.code),
            ));
        };
        let numeric = fields[i].kind.is_numeric() || fields[i].kind == FieldType::Year;
        let needs_number =
            !matches!(r.kind, RuleKind::RequiredOnSubmit) && r.flag.as_deref() != Some(k);
        if needs_number && !numeric && Some(k) != r.report_on.as_ref() {
            return Err(bad(name, format!("rule {} needs a number in {k}", r.code)));
        }
    }
    if matches!(r.kind, RuleKind::AtLeast | RuleKind::ConventionalPrice) && r.value.is_none() {
        return Err(bad(name, format!("rule {} needs a value", r.code)));
    }
    if r.kind == RuleKind::ConventionalPrice && (r.flag.is_none() || r.flag_value.is_none()) {
        return Err(bad(
            name,
            format!("rule {} needs flag and flag_value", r.code),
        ));
    }
    known_sections(name, &format!("rule {}", r.code), &r.sections, sections)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_definitions_load_all_19_forms() {
        let r = Registry::embedded().expect("built-in forms are valid");
        assert_eq!(r.forms().count(), 19);
        let f = r.form("01a").unwrap();
        assert_eq!(f.sections.len(), 4);
        assert!(f.field("license_plate").is_some());
        assert_eq!(r.form_for_type("18").unwrap().code, "18a");
    }

    #[test]
    fn land_and_buildings_count_in_square_metres_and_other_units_are_refused() {
        let r = Registry::embedded().unwrap();
        let form = r.form("01a").unwrap();
        let ctx = validate::Context {
            cutoff_year: 2026,
            for_submission: false,
        };
        let record = |section: &str, unit: &str| -> Record {
            [
                ("section", Value::Code(section.into())),
                ("code", Value::Text("A-1".into())),
                ("name", Value::Text("Tài sản".into())),
                ("unit_of_measure", Value::Text(unit.into())),
                ("original_cost", Value::Money(20_000_000)),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect()
        };
        let codes = |section: &str, unit: &str| -> Vec<String> {
            validate::check(form, &mut record(section, unit), ctx)
                .into_iter()
                .filter(|i| i.field == "unit_of_measure")
                .map(|i| i.code)
                .collect()
        };
        assert_eq!(codes("II", "cái"), vec!["section_unit"]);
        assert_eq!(codes("I", "ha"), vec!["section_unit"]);
        assert!(codes("I", "m²").is_empty());
        assert!(codes("II", " m² ").is_empty());
        assert!(codes("IV", "bộ").is_empty(), "other sections take any unit");
        let issue = validate::check(form, &mut record("II", "cái"), ctx)
            .into_iter()
            .find(|i| i.code == "section_unit")
            .unwrap();
        assert_eq!(
            issue.message.vi,
            "Phần II (Nhà) ghi số lượng theo m², không theo «cái»"
        );
    }

    #[test]
    fn licence_plates_are_checked_with_the_definition_pattern() {
        let r = Registry::embedded().unwrap();
        let plate = r.form("01a").unwrap().field("license_plate").unwrap();
        let re = regex::Regex::new(&format!("^(?:{})$", plate.pattern.as_ref().unwrap())).unwrap();
        for ok in ["12A-345.67", "12A-3456", "80B-123.45", "12LD-123.45"] {
            assert!(re.is_match(ok), "{ok}");
        }
        for bad in ["ABC", "12A 345.67", "1A-345.67"] {
            assert!(!re.is_match(bad), "{bad}");
        }
    }

    #[test]
    fn a_definition_naming_an_unknown_field_is_refused_with_the_file_name() {
        let common = EMBEDDED_FORMS
            .iter()
            .find(|(n, _)| *n == "common.toml")
            .unwrap()
            .1;
        let broken = EMBEDDED_FORMS
            .iter()
            .find(|(n, _)| *n == "03a.toml")
            .unwrap()
            .1
            .replacen(
                "[[columns]]\nuse = \"common\"",
                "[[columns]]\nuse = \"common\"\n\n[[columns]]\nfield = \"nonexistent\"",
                1,
            );
        let err = Registry::from_sources([
            ("common.toml".to_string(), common.to_string()),
            ("03a.toml".to_string(), broken),
        ])
        .unwrap_err();
        assert_eq!(err.file, "03a.toml");
        assert!(err.reason.contains("nonexistent"), "{}", err.reason);
    }

    /// The built-in files, with `name` replaced by `text`.
    fn sources_with(name: &str, text: String) -> Vec<(String, String)> {
        EMBEDDED_FORMS
            .iter()
            .map(|(n, s)| {
                let s = if *n == name {
                    text.clone()
                } else {
                    s.to_string()
                };
                (n.to_string(), s)
            })
            .collect()
    }

    fn embedded(name: &str) -> &'static str {
        EMBEDDED_FORMS
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, s)| *s)
            .expect("embedded file")
    }

    fn refusal(name: &str, text: String) -> DefinitionError {
        Registry::from_sources(sources_with(name, text)).expect_err("refused")
    }

    #[test]
    fn the_common_columns_are_placed_where_a_form_names_them_with_its_widths() {
        let r = Registry::embedded().unwrap();
        let fields = |code: &str| -> Vec<String> {
            r.form(code)
                .unwrap()
                .columns
                .iter()
                .map(|c| c.field.clone())
                .collect()
        };
        let width = |code: &str, field: &str| {
            r.form(code)
                .unwrap()
                .columns
                .iter()
                .find(|c| c.field == field)
                .and_then(|c| c.width)
        };
        // use = "common": every common column, in common.toml's order.
        let common: Vec<String> = ["code", "name", "location", "unit_of_measure", "qty_books"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(fields("03a")[..5], common[..]);
        assert_eq!(fields("03a").len(), 18);
        assert_eq!(fields("03a"), fields("19a"));
        // 01a: the head part, its own columns, then the values and tail parts, narrow.
        assert_eq!(fields("01a")[..7], fields("03a")[..7]);
        assert_eq!(fields("01a")[7], "land_certificate_no");
        assert_eq!(fields("01a")[28..], fields("03a")[7..]);
        assert_eq!(
            (width("03a", "code"), width("01a", "code")),
            (Some(15.0), Some(8.0))
        );
        assert_eq!(
            (width("03a", "qty_books"), width("01a", "qty_books")),
            (None, Some(9.0))
        );
        // One common column placed alone keeps what it does not change.
        let name = r.form("02a").unwrap().columns[1].clone();
        assert_eq!(
            name.header.map(|h| h.vi),
            Some("Tên tuyến đường".to_string())
        );
        assert_eq!(name.width, Some(15.0));
        // A section's list expands common.head etc. into the fields.
        let land = r.form("01a").unwrap().section("I").unwrap().columns.clone();
        assert_eq!(land[..7], fields("03a")[..7]);
        assert_eq!(land.last().map(String::as_str), Some("note"));
        // The shared rule runs where the form takes it in.
        let rules: Vec<&str> = r
            .form("02a")
            .unwrap()
            .rules
            .iter()
            .map(|r| r.code.as_str())
            .collect();
        assert_eq!(
            rules[rules.len() - 2..],
            [
                "surface_within_subgrade",
                "infrastructure_conventional_price"
            ]
        );
    }

    #[test]
    fn a_bad_reference_to_the_common_columns_or_rules_is_refused_naming_file_and_key() {
        let form = embedded("03a.toml");
        // The 03a form with the first `from` replaced by `to`, and why it is refused.
        let uses_common = "[[columns]]\nuse = \"common\"";
        let price = "use = \"infrastructure_conventional_price\"";
        // (what is replaced, by what, what the reason names)
        let cases: [(&str, &str, &[&str]); 6] = [
            (
                uses_common,
                "[[columns]]\nuse = \"common.middle\"",
                &["\"common.middle\"", "common.head"],
            ),
            (
                uses_common,
                "[[columns]]\nuse = \"everything\"",
                &["columns entry 1", "everything"],
            ),
            (
                uses_common,
                "[[columns]]\nuse = \"common\"\nwidth = 9",
                &["several columns"],
            ),
            (
                uses_common,
                "[[columns]]\nuse = \"common\"\nfield = \"code\"",
                &["both field"],
            ),
            (
                price,
                "use = \"infrastructure_price\"",
                &[
                    "\"infrastructure_price\"",
                    "infrastructure_conventional_price",
                ],
            ),
            (
                price,
                "use = \"infrastructure_conventional_price\"\nvalue = 2",
                &["holds nothing else"],
            ),
        ];
        for (from, to, named) in cases {
            let e = refusal("03a.toml", form.replacen(from, to, 1));
            assert_eq!(e.file, "03a.toml");
            assert!(named.iter().all(|n| e.reason.contains(n)), "{e}");
        }
        let twice = "[[columns]]\nuse = \"common\"\n\n[[columns]]\nuse = \"common.note\"";
        let e = refusal("03a.toml", form.replacen(uses_common, twice, 1));
        assert_eq!(e.reason, "column note is placed twice");

        let e = refusal(
            "01a.toml",
            embedded("01a.toml").replacen("\"common.tail\"]", "\"common.rest\"]", 1),
        );
        assert_eq!(e.file, "01a.toml");
        assert!(e.reason.contains("section I lists \"common.rest\""), "{e}");

        let common = embedded("common.toml");
        let e = refusal(
            "common.toml",
            common.replacen("field = \"note\"\npart", "field = \"notes\"\npart", 1),
        );
        assert_eq!(e.file, "common.toml");
        assert!(e.reason.contains("notes"), "{e}");
    }

    #[test]
    fn a_replacement_directory_resolves_to_the_same_forms_as_the_built_in_set() {
        let dir = std::env::temp_dir().join(format!("kiemke-forms-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for (name, text) in EMBEDDED_FORMS {
            std::fs::write(dir.join(name), text).unwrap();
        }
        // A form written out in full, without the common parts, still loads.
        let full = embedded("19a.toml").replacen(
            "[[columns]]\nuse = \"common\"",
            "[[columns]]\nfield = \"code\"\nwidth = 15\n\n[[columns]]\nfield = \"name\"",
            1,
        );
        std::fs::write(dir.join("19a.toml"), full).unwrap();
        let from_dir = Registry::from_dir(&dir);
        let _ = std::fs::remove_dir_all(&dir);
        let from_dir = from_dir.expect("the copied forms load");
        let built_in = Registry::embedded().unwrap();
        for f in built_in.forms().filter(|f| f.code != "19a") {
            let copy = from_dir.form(&f.code).expect("same forms");
            assert_eq!(format!("{copy:?}"), format!("{f:?}"), "{}", f.code);
        }
        let own: Vec<&str> = from_dir
            .form("19a")
            .unwrap()
            .columns
            .iter()
            .map(|c| c.field.as_str())
            .collect();
        assert_eq!(own, ["code", "name"]);
    }
}
