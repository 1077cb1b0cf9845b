//! One home for spreadsheets: the workbooks people download and upload.
//!
//! - [`write`]: the pure xlsx writers — the official form a unit signs, the flat sheet machines
//!   read, the ward's summary and the progress board. Records in, bytes out.
//! - [`read`]: the pure readers — an uploaded xlsx or CSV to typed records, with every cell that
//!   could not be read. Bytes in, records out.
//! - `export`: exports stream records out of the database into the writers; `forms_zip`: every
//!   unit's official form of a type in one streamed zip.
//! - `import`: imports read a file, check every row against the form, and write all of it in one
//!   transaction — or nothing; `gate`: how many imports run at once.
//! - `download`: a workbook on its way to the user, whole or streamed as it is written.
//! - `annotate`: the error workbook, the user's own upload back with its problems listed.

use crate::{
    error::{AppError, AppResult},
    forms::Form,
    state::AppState,
};

mod annotate;
mod bulk;
mod download;
mod export;
mod forms_zip;
mod import;
pub mod read;
pub mod write;

pub use crate::state::gate::{
    IMPORT_RETRY_SECONDS, IMPORTS_AT_ONCE, ImportGate, ImportPermit, give_back_memory,
};
pub use annotate::{ERRORS_SHEET, annotated_workbook};
pub use download::{Chunks, Content, Workbook, XLSX, attachment, stream_body};
pub use export::{consolidated, profile_or_400, progress_sheet, unit_form, ward_flat};
pub use forms_zip::{ZipStream, forms_zip};
pub use import::{ImportOptions, ImportReport, MAX_LISTED_ERRORS, import};

fn form_or_404<'a>(state: &'a AppState, code: &str) -> AppResult<&'a std::sync::Arc<Form>> {
    state.forms.form(code).ok_or_else(|| {
        AppError::not_found(&format!("mẫu biểu «{code}»"), &format!("Form \"{code}\""))
    })
}
