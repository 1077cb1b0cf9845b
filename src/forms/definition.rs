//! The shape of a form definition file (`forms/*.toml`).
//!
//! A form is data, in the XLSForm tradition: fields with a type, a label per
//! language, bounds and patterns; cross-field rules with a code and a message;
//! and the column layout of the official sheet and of the flat upload sheet.
//! `forms/common.toml` declares the fields every asset carries; each
//! `forms/NNa.toml` declares one asset type, its sections, its own fields, its
//! rules and its layouts.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Bilingual text, Vietnamese first.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema, PartialEq)]
pub struct Text {
    /// Vietnamese.
    pub vi: String,
    /// English.
    pub en: String,
}

impl Text {
    /// The text in the requested language (`en`, anything else is Vietnamese).
    pub fn get(&self, lang: crate::error::Lang) -> &str {
        match lang {
            crate::error::Lang::En => &self.en,
            crate::error::Lang::Vi => &self.vi,
        }
    }
}

/// The kind of value a field holds.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum FieldType {
    /// Free text (`max_length`, `pattern`).
    Text,
    /// Whole number (`min`, `max`).
    Integer,
    /// Decimal number with at most `scale` decimals (at most 3).
    Decimal,
    /// Whole Vietnamese đồng, never negative.
    Money,
    /// Area in square metres, 2 decimals unless `scale` says otherwise.
    Area,
    /// Length in kilometres, 3 decimals.
    LengthKm,
    /// A calendar date (dd/mm/yyyy in sheets, yyyy-mm-dd in JSON).
    Date,
    /// A year (four digits).
    Year,
    /// One of the coded `options`.
    Enum,
    /// Yes / no.
    Boolean,
    /// A list of legal documents (kind, number, date).
    Documents,
}

impl FieldType {
    /// Decimals kept for this type unless the field sets `scale`.
    pub fn default_scale(self) -> u32 {
        match self {
            FieldType::Area => 2,
            FieldType::LengthKm => 3,
            FieldType::Decimal => 2,
            _ => 0,
        }
    }

    /// Whether values of this type are held as thousandths (decimals).
    pub fn is_decimal(self) -> bool {
        matches!(
            self,
            FieldType::Decimal | FieldType::Area | FieldType::LengthKm
        )
    }

    /// Whether the value is a number that sums meaningfully.
    pub fn is_numeric(self) -> bool {
        self.is_decimal() || matches!(self, FieldType::Integer | FieldType::Money)
    }
}

/// One coded choice of an enum field.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema, PartialEq)]
pub struct EnumOption {
    /// Stable code stored and exported (e.g. `1`, `purchased`).
    pub code: String,
    /// Label shown to people.
    pub label: Text,
}

/// One field of a form.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FieldDef {
    /// Key used in JSON, storage and layouts (snake_case ASCII).
    pub key: String,
    /// Column / input label.
    pub label: Text,
    /// Value type.
    #[serde(rename = "type")]
    pub kind: FieldType,
    /// Unit of measure printed beside the label (e.g. `m²`, `km`, `đồng`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// Decimals allowed (decimal, area, length_km; at most 3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale: Option<u32>,
    /// A value must be given (in the sections where the field applies).
    #[serde(default)]
    pub required: bool,
    /// Smallest allowed value (numbers, years).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    /// Largest allowed value (numbers, years).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    /// Longest text allowed, in characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<usize>,
    /// Regular expression a text value must match in full.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    /// Message when `pattern` does not match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern_message: Option<Text>,
    /// Choices of an enum field.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<EnumOption>,
    /// Sections the field applies to; empty means every section.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sections: Vec<String>,
    /// Other headers an uploaded sheet may name the field by, as ledgers write them
    /// (`Nguyên giá`, `Số lượng`, `Hao mòn lũy kế`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    /// Help text for entry screens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<Text>,
    /// Number filled in when a numeric field that applies is left empty (e.g. `0` đồng).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<i64>,
    /// Option code filled in when an enum field that applies is left empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_code: Option<String>,
}

impl FieldDef {
    /// Decimals this field keeps.
    pub fn scale(&self) -> u32 {
        self.scale.unwrap_or_else(|| self.kind.default_scale())
    }

    /// Whether the field applies to records of `section`.
    pub fn applies_to(&self, section: Option<&str>) -> bool {
        self.sections.is_empty() || section.is_some_and(|s| self.sections.iter().any(|x| x == s))
    }

    /// The option with this code, if any.
    pub fn option(&self, code: &str) -> Option<&EnumOption> {
        self.options.iter().find(|o| o.code == code)
    }
}

/// What a section counts in its quantity columns.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema, PartialEq)]
pub struct SectionDef {
    /// Roman numeral printed on the form (`I`, `II`, …).
    pub code: String,
    /// Section name (`Đất`, `Nhà`, …).
    pub name: Text,
    /// Default unit of measure for the section's quantity (e.g. `m²`, `chiếc`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit_of_measure: Option<String>,
    /// Units of measure a record of the section may use (`m²` for land and buildings,
    /// whose quantity columns hold areas); empty: any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub units: Vec<String>,
    /// Fields of the section's table on the official sheet, in order (each one a
    /// `[[columns]]` entry that applies to the section). Empty: every column that applies.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub columns: Vec<String>,
}

/// The kinds of cross-field rule a definition may use.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RuleKind {
    /// `fields[0] − fields[1] = fields[2]`; the result is filled in when missing.
    Difference,
    /// `fields[0] + … + fields[n−2] = fields[n−1]`; a missing part or total is filled in when it is the only one missing.
    Sum,
    /// `fields[0] + … + fields[n−2] ≤ fields[n−1]`.
    SumAtMost,
    /// `fields[0] ≤ fields[1]`.
    NotAfter,
    /// Each field (a year) is at most the campaign's cut-off year.
    NotAfterCutoff,
    /// Each field is at least `value`.
    AtLeast,
    /// When `flag` equals `flag_value`, `fields[0]` must equal `value`; with `exclusive`, `value` is refused without the flag.
    ConventionalPrice,
    /// The fields must be filled in before the report can be submitted.
    RequiredOnSubmit,
}

/// A cross-field rule with its message.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RuleDef {
    /// Stable code reported in errors (e.g. `remaining_value`).
    pub code: String,
    /// Rule kind.
    pub kind: RuleKind,
    /// Fields the rule reads; the error is reported on the last one unless `report_on` says otherwise.
    pub fields: Vec<String>,
    /// Sections the rule applies to; empty means every section.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sections: Vec<String>,
    /// Number the rule compares with (`at_least`, `conventional_price`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<i64>,
    /// Flag field for `conventional_price`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flag: Option<String>,
    /// Flag value that means "conventional price".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flag_value: Option<String>,
    /// With `conventional_price`: refuse the conventional value when the flag is not set.
    #[serde(default)]
    pub exclusive: bool,
    /// Field the error is reported on (default: the last of `fields`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report_on: Option<String>,
    /// Message shown when the rule fails.
    pub message: Text,
}

impl RuleDef {
    /// Whether the rule applies to records of `section`.
    pub fn applies_to(&self, section: Option<&str>) -> bool {
        self.sections.is_empty() || section.is_some_and(|s| self.sections.iter().any(|x| x == s))
    }

    /// The field an error of this rule is reported on.
    pub fn target(&self) -> &str {
        self.report_on
            .as_deref()
            .or(self.fields.last().map(String::as_str))
            .unwrap_or("")
    }
}

/// One column of the official sheet.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ColumnDef {
    /// Field shown in the column.
    pub field: String,
    /// Group header merged above consecutive columns with the same group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<Text>,
    /// Header text when it differs from the field label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header: Option<Text>,
    /// Column width in characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<f64>,
}

/// Which asset family a type belongs to.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum AssetGroup {
    /// Assets at agencies, organisations and units (type 01).
    UnitAssets,
    /// Infrastructure the State invested in and manages (types 02–19).
    Infrastructure,
}

/// How sure we are of a definition's content.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Provenance {
    /// Stated in an official source.
    Known,
    /// Reconstructed from official sources.
    Inferred,
    /// Chosen by us while the official annex is not public.
    Proposed,
}

/// One of the 19 national asset types.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema, PartialEq)]
pub struct AssetTypeDef {
    /// Two-digit code, `01` … `19`.
    pub code: String,
    /// Name of the type.
    pub name: Text,
    /// Name as the ward's reports write it, when shorter than `name`
    /// (`Tài sản kết cấu hạ tầng giao thông` for type 02).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report_name: Option<Text>,
    /// Family of the type.
    pub group: AssetGroup,
}

impl AssetTypeDef {
    /// The Vietnamese name a report uses: `report_name`, else `name`.
    pub fn report_name(&self) -> &str {
        self.report_name.as_ref().unwrap_or(&self.name).vi.as_str()
    }
}

/// Which widths a form's common columns take from `common.toml`.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ColumnWidths {
    /// Each common column's `width`.
    #[default]
    Normal,
    /// Each common column's `narrow_width` (its `width` when it has none): for forms with
    /// many own columns, so that a printed A4 page stays legible.
    Narrow,
}

/// One column of the official sheet as `common.toml` declares it, for the forms to place.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommonColumn {
    /// Common field shown in the column.
    pub field: String,
    /// Named part of the common columns it belongs to (`head`): a form places the part
    /// with `use = "common.head"`.
    #[serde(default)]
    pub part: Option<String>,
    /// Group header merged above consecutive columns with the same group.
    #[serde(default)]
    pub group: Option<Text>,
    /// Header text when it differs from the field label.
    #[serde(default)]
    pub header: Option<Text>,
    /// Column width in characters.
    #[serde(default)]
    pub width: Option<f64>,
    /// Column width on forms with `column_widths = "narrow"`.
    #[serde(default)]
    pub narrow_width: Option<f64>,
}

/// One `[[columns]]` entry of a form file: a column of the form's own (`field`), or
/// common columns placed by name (`use = "common"`, `"common.head"`, `"common.location"`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColumnEntry {
    /// Field shown in the column.
    #[serde(default)]
    pub field: Option<String>,
    /// Common columns placed here: `common` (all), `common.<part>` or `common.<field>`.
    #[serde(default, rename = "use")]
    pub uses: Option<String>,
    /// Group header (for `use` of one common column: replaces the common one).
    #[serde(default)]
    pub group: Option<Text>,
    /// Header text (for `use` of one common column: replaces the common one).
    #[serde(default)]
    pub header: Option<Text>,
    /// Column width (for `use` of one common column: replaces the common one).
    #[serde(default)]
    pub width: Option<f64>,
}

/// One `[[rules]]` entry of a form file: a rule of the form's own, or a shared rule of
/// `common.toml` taken in by its code (`use = "infrastructure_conventional_price"`).
#[derive(Debug, Clone)]
pub enum RuleEntry {
    /// A rule written out in the form file.
    Own(RuleDef),
    /// The code of a `[[shared_rules]]` entry of `common.toml`.
    Shared(String),
}

impl<'de> Deserialize<'de> for RuleEntry {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let table = toml::Table::deserialize(d)?;
        match table.get("use") {
            None => RuleDef::deserialize(toml::Value::Table(table))
                .map(RuleEntry::Own)
                .map_err(D::Error::custom),
            Some(toml::Value::String(code)) if table.len() == 1 => {
                Ok(RuleEntry::Shared(code.clone()))
            }
            Some(toml::Value::String(code)) => Err(D::Error::custom(format!(
                "a rule entry with use = {code:?} holds nothing else; \
                 change the shared rule in common.toml or write a rule of the form's own"
            ))),
            Some(_) => Err(D::Error::custom(
                "use must name a shared rule of common.toml, e.g. use = \"infrastructure_conventional_price\"",
            )),
        }
    }
}

/// A whole form file as written in `forms/NNa.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FormFile {
    pub form_code: String,
    pub version: String,
    pub provenance: Provenance,
    pub asset_type: AssetTypeDef,
    pub title: Text,
    #[serde(default)]
    pub sections: Vec<SectionDef>,
    #[serde(default)]
    pub fields: Vec<FieldDef>,
    #[serde(default)]
    pub rules: Vec<RuleEntry>,
    #[serde(default)]
    pub column_widths: ColumnWidths,
    pub columns: Vec<ColumnEntry>,
    #[serde(default)]
    pub flat_columns: Vec<String>,
}

/// `forms/common.toml`: fields and rules shared by every form, the common columns of the
/// official sheet, and the rules a form may take in by name.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommonFile {
    pub version: String,
    pub fields: Vec<FieldDef>,
    #[serde(default)]
    pub rules: Vec<RuleDef>,
    #[serde(default)]
    pub columns: Vec<CommonColumn>,
    #[serde(default)]
    pub shared_rules: Vec<RuleDef>,
}
