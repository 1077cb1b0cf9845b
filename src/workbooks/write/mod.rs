//! xlsx writers: the official form a unit signs (`official`), the flat sheet machines read
//! (`flat`), the ward's consolidated summary (`summary`) and the progress board (`progress`),
//! the last two written as one kind of table (`table`). Pure functions: records in,
//! bytes out; no database, no HTTP.
//!
//! Every layout walks the form definition (`form.columns`, `form.flat_columns`,
//! `form.fields`, `form.sections`): no column list is written here. All sheets are
//! written in rust_xlsxwriter's constant-memory mode, strictly row by row, so a
//! 100,000-asset export keeps one row in memory. See `docs/EXPORTS.md`.

mod flat;
mod frame;
mod official;
mod progress;
mod style;
mod summary;
mod table;

use crate::forms::{Form, Record, Value};

pub use flat::{UnitCells, flat, flat_with, flat_with_to};
pub(crate) use official::column_header;
pub use official::{official_form, official_form_to};
pub use progress::{ProgressRow, TypeProgress, progress_areas_sheet, progress_sheet};
pub(crate) use style::MAX_CELL_CHARS;
pub use style::ZIP_LEVEL;
pub use summary::{Figures, Measure, UnitSummary, measures, summary, summary_of_areas};

/// What the top of a sheet says about who reports: printed, never read back.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SheetHeader {
    /// Superior body, top left (e.g. `UBND PHƯỜNG TAM THANH`).
    pub superior_body: String,
    /// Reporting unit, under the superior body.
    pub unit_name: String,
    /// Budget-relationship code, printed as `Mã đơn vị: …` (omitted when empty).
    pub unit_code: String,
    /// Cut-off as people say it: `0 giờ ngày 01/01/2026`.
    pub cutoff_label: String,
    /// Place in the signature line: `Tam Thanh, ngày … tháng … năm …`.
    pub place: String,
    /// Kind of body, printed under the unit code as `Loại hình: …` (omitted when empty).
    pub unit_kind: String,
    /// Address, printed as `Địa chỉ: …` (omitted when empty).
    pub unit_address: String,
    /// The decision that set up the inventory team, as printed after `Tổ kiểm kê theo`
    /// (`Quyết định số 01/QĐ-TKK ngày 12/01/2026`; may be empty).
    pub team_decision: String,
    /// The inventory team (Tổ kiểm kê) from the registration, in order; its leader
    /// (role `Tổ trưởng`) also signs the form.
    pub team: Vec<TeamLine>,
}

/// A member of the inventory team as the official form lists them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TeamLine {
    /// Full name.
    pub name: String,
    /// Position in the unit (`Kế toán`).
    pub position: String,
    /// Role in the team (`Tổ trưởng`, `Thành viên`).
    pub role: String,
}

impl SheetHeader {
    /// The team's leader: the first member whose role is `Tổ trưởng` (any case).
    pub fn team_leader(&self) -> Option<&TeamLine> {
        self.team
            .iter()
            .find(|m| m.role.trim().to_lowercase() == "tổ trưởng")
    }
}

/// Why a workbook could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The xlsx writer refused (e.g. more rows than Excel allows) or could not create its temporary file.
    #[error("xlsx writer: {0}")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
    /// The export profile named is not defined.
    #[error("export profile {0}")]
    Profile(String),
    /// A record of an earlier section arrived after a later one; callers sort by [`section_rank`] then code.
    #[error(
        "record {position} is in section {section} but arrived after section {after}: records must be ordered by section"
    )]
    Unordered {
        /// 1-based position of the record in the input.
        position: usize,
        /// Its section (`-` when it has none).
        section: String,
        /// The section already written.
        after: String,
    },
}

/// First cell of the hidden key row of our official layout: `kiemke:01a`.
/// The importer recognises "our own layout" by it; the cells to its right hold field keys.
pub const MARKER_PREFIX: &str = "kiemke:";

/// Label of the block holding records without a known section.
pub(crate) const UNCLASSIFIED: &str = "Chưa xác định phần";
/// Start of a subtotal row's label (`Cộng phần I`).
pub(crate) const SUBTOTAL_PREFIX: &str = "Cộng phần";
/// Label of the grand-total row.
pub(crate) const GRAND_TOTAL: &str = "TỔNG CỘNG";

/// A report's state as the sheets print it (`Đang nhập`, `Đã gửi`, `Đã chấp nhận`…).
pub fn state_label(s: crate::reports::ReportState) -> &'static str {
    use crate::reports::ReportState;
    match s {
        ReportState::NotStarted => "Chưa bắt đầu",
        ReportState::Draft => "Đang nhập",
        ReportState::Submitted => "Đã gửi",
        ReportState::Returned => "Bị trả lại",
        ReportState::Accepted => "Đã chấp nhận",
    }
}

/// Where a record sorts on the official form: the index of its section in
/// `form.sections`, records without a known section last. Records handed to
/// [`official_form`] must be ordered by this rank (then by code).
pub fn section_rank(form: &Form, record: &Record) -> usize {
    match record.get("section") {
        Some(Value::Code(code)) => form
            .sections
            .iter()
            .position(|s| &s.code == code)
            .unwrap_or(form.sections.len()),
        _ => form.sections.len(),
    }
}

/// Whether totals add up this field: money always; areas (m²) and lengths (km),
/// whose unit is fixed by the type. Quantities (`decimal`) and whole numbers are not
/// summed: a quantity's unit changes from row to row (m², chiếc, cái, bộ) and a sum
/// of floors or seats means nothing.
pub fn is_summed(field: &crate::forms::FieldDef) -> bool {
    use crate::forms::FieldType;
    matches!(
        field.kind,
        FieldType::Money | FieldType::Area | FieldType::LengthKm
    )
}

#[cfg(test)]
pub(crate) mod testutil;
