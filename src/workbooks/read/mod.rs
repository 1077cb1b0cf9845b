//! Readers: an uploaded xlsx or CSV file → typed records, with every cell that
//! could not be read. Pure: bytes in, records out; no database, no HTTP, no
//! validation rules (the caller runs `forms::validate::check` on each record).
//!
//! Layouts (see `docs/EXPORTS.md`): our official form (recognised by its hidden
//! `kiemke:<form>` key row), the flat layout (a header row of field keys or of
//! labels), and CSV in the flat layout. Any input may be hostile: sizes are
//! checked before anything is inflated, and no byte of the file can make this
//! module panic.

mod cells;
mod csv;
mod layout;
mod source;
mod xlsx;

pub use cells::human_input;

use serde::Serialize;
use utoipa::ToSchema;

use crate::forms::{Form, Record, Text};

/// What an upload may cost before it is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest CSV, or largest total declared uncompressed size of an xlsx's parts, in bytes.
    pub max_bytes: u64,
    /// Largest ratio of uncompressed to compressed size of an xlsx and of each of its parts
    /// (checked above 1 MiB).
    pub max_ratio: u64,
    /// Most parts an xlsx may hold.
    pub max_parts: usize,
    /// Most data rows (records) a file may hold.
    pub max_rows: usize,
    /// Most shared strings an xlsx may hold (or declare): each costs the parser a string.
    pub max_shared_strings: u64,
    /// Largest uncompressed shared-strings part, in bytes.
    pub max_shared_bytes: u64,
    /// Longest text or tag in an xlsx's XML, in bytes (the parser holds one whole). A cell holds
    /// at most 32,767 characters.
    pub max_xml_token: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 200 * 1024 * 1024,
            max_ratio: 100,
            max_parts: 10_000,
            max_rows: 200_000,
            max_shared_strings: 500_000,
            max_shared_bytes: 32 * 1024 * 1024,
            max_xml_token: 1024 * 1024,
        }
    }
}

/// One cell that could not be read, with its position as Excel shows it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct CellError {
    /// Sheet name (the file name for CSV).
    pub sheet: String,
    /// 1-based row number (the line number for CSV).
    pub row: u32,
    /// Column letter: `A`, `B`, … `AA`.
    pub column_letter: String,
    /// Key of the field the column holds.
    pub field: String,
    /// Stable code: `type`, `scale`, `date`, `documents`, `money`, `too_long`, `max_length`, `cell_error`.
    pub code: String,
    /// What to fix.
    pub message: Text,
}

/// One data row of the file.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedRow {
    /// Sheet name (the file name for CSV).
    pub sheet: String,
    /// 1-based row number as Excel shows it (the line number for CSV).
    pub row_number: u32,
    /// The cells that were read; a blank cell leaves its field out.
    pub record: Record,
    /// Fields whose cell says `<xóa>`, or (official layout) still holds the formula our sheet
    /// wrote for a derived field: clear the stored value (validation derives the latter again).
    pub clears: Vec<String>,
    /// Cells that could not be read; their fields are left out of `record`.
    pub errors: Vec<CellError>,
}

/// Which layout a sheet was read in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Layout {
    /// Our official form, recognised by its hidden key row.
    Official,
    /// A header row of field keys or labels, one row per record.
    Flat,
}

/// The container the file came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FileKind {
    /// Office Open XML workbook.
    Xlsx,
    /// UTF-8 comma- or semicolon-separated text.
    Csv,
}

/// A sheet that was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SheetRead {
    /// Sheet name (the file name for CSV).
    pub sheet: String,
    /// Layout detected.
    pub layout: Layout,
    /// 1-based row of the header (of the hidden key row in the official layout).
    pub header_row: u32,
    /// Column letter of each field the sheet holds (to place errors found later by the rules).
    pub columns: std::collections::BTreeMap<String, String>,
}

/// Everything read from one file.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    /// The container.
    pub kind: FileKind,
    /// Sheets with a recognised header, in workbook order.
    pub sheets: Vec<SheetRead>,
    /// Data rows, in file order; blank rows are skipped.
    pub rows: Vec<ParsedRow>,
}

impl Parsed {
    /// Every cell error of the file.
    pub fn errors(&self) -> impl Iterator<Item = &CellError> {
        self.rows.iter().flat_map(|r| r.errors.iter())
    }
}

/// Why a file cannot be read at all (the caller answers 4xx).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ImportError {
    /// No bytes.
    #[error("the file is empty")]
    Empty,
    /// Neither an xlsx workbook nor UTF-8 text.
    #[error("not an xlsx workbook or a CSV file")]
    NotASpreadsheet,
    /// A spreadsheet format we do not read (`xls`, `ods`, `xlsb`).
    #[error("unsupported spreadsheet format: {format}")]
    Unsupported {
        /// The format found.
        format: &'static str,
    },
    /// CSV that is not UTF-8 (e.g. Windows-1258, UTF-16).
    #[error("CSV is not UTF-8 (line {line})")]
    Encoding {
        /// 1-based line of the first byte that is not UTF-8.
        line: usize,
    },
    /// More bytes than allowed (CSV size, or the xlsx parts' declared uncompressed size).
    #[error("file too large: {bytes} bytes, limit {limit}")]
    TooLarge {
        /// Size found (uncompressed for xlsx).
        bytes: u64,
        /// Limit.
        limit: u64,
    },
    /// An xlsx that inflates far more than spreadsheets do, or with too many parts: a zip bomb.
    #[error("suspicious archive: {detail}")]
    SuspiciousArchive {
        /// What was found.
        detail: String,
    },
    /// More shared strings (distinct texts) than allowed, or a shared-strings part too large.
    #[error("too many shared strings: {detail}")]
    TooManyStrings {
        /// What was found.
        detail: String,
    },
    /// A cell outside the sheet's limits (beyond column XFD or row 1,048,576).
    #[error("sheet {sheet}: cell outside the sheet's limits (row {row}, column {column})")]
    CellOutOfRange {
        /// Sheet.
        sheet: String,
        /// 1-based row as the file gives it.
        row: u64,
        /// 1-based column as the file gives it.
        column: u64,
    },
    /// More data rows than allowed.
    #[error("more than {limit} rows")]
    TooManyRows {
        /// Limit.
        limit: usize,
    },
    /// A workbook the reader could not parse.
    #[error("unreadable workbook: {detail}")]
    Unreadable {
        /// The reader's message.
        detail: String,
    },
    /// No sheet has a header row of this form's fields.
    #[error("no sheet has a recognisable header (sheets: {})", sheets.join(", "))]
    NoHeader {
        /// Names of the sheets found.
        sheets: Vec<String>,
    },
    /// The file is our layout of another form.
    #[error("the file holds form {found}, not {expected}")]
    WrongForm {
        /// Form being imported.
        expected: String,
        /// Form the file was made for.
        found: String,
    },
    /// The header misses required columns, names unknown ones, or repeats one.
    #[error("sheet {sheet}: missing {missing:?}, unknown {unknown:?}, repeated {repeated:?}")]
    Columns {
        /// Sheet.
        sheet: String,
        /// Required keys without a column (`code`, `name`).
        missing: Vec<String>,
        /// Headers that name no field, as `F «header»`.
        unknown: Vec<String>,
        /// Fields with more than one column.
        repeated: Vec<String>,
    },
}

impl ImportError {
    /// Stable code for the problem document.
    pub fn code(&self) -> &'static str {
        match self {
            ImportError::Empty => "empty_file",
            ImportError::NotASpreadsheet => "not_a_spreadsheet",
            ImportError::Unsupported { .. } => "unsupported_format",
            ImportError::Encoding { .. } => "encoding",
            ImportError::TooLarge { .. } => "too_large",
            ImportError::SuspiciousArchive { .. } => "suspicious_archive",
            ImportError::TooManyRows { .. } => "too_many_rows",
            ImportError::TooManyStrings { .. } => "too_many_strings",
            ImportError::CellOutOfRange { .. } => "cell_out_of_range",
            ImportError::Unreadable { .. } => "unreadable",
            ImportError::NoHeader { .. } => "no_header",
            ImportError::WrongForm { .. } => "wrong_form",
            ImportError::Columns { .. } => "columns",
        }
    }

    /// Whether the refusal is about size (413 rather than 400/422).
    pub fn is_too_large(&self) -> bool {
        matches!(
            self,
            ImportError::TooLarge { .. }
                | ImportError::SuspiciousArchive { .. }
                | ImportError::TooManyRows { .. }
                | ImportError::TooManyStrings { .. }
        )
    }

    /// What to tell the user, Vietnamese and English.
    pub fn message(&self) -> Text {
        let (vi, en) = match self {
            ImportError::Empty => (
                "Tệp tải lên không có dữ liệu.".into(),
                "The uploaded file is empty.".into(),
            ),
            ImportError::NotASpreadsheet => (
                "Tệp không phải bảng tính Excel (.xlsx) hoặc CSV.".into(),
                "The file is not an Excel workbook (.xlsx) or a CSV file.".into(),
            ),
            ImportError::Unsupported { format } => (
                format!(
                    "Chưa đọc được định dạng .{format}; hãy mở tệp và lưu lại dưới dạng Excel Workbook (.xlsx)."
                ),
                format!(
                    "The .{format} format is not supported; open the file and save it as an Excel Workbook (.xlsx)."
                ),
            ),
            ImportError::Encoding { line } => (
                format!(
                    "Tệp CSV không phải mã UTF-8 (lỗi từ dòng {line}); hãy lưu lại bằng «CSV UTF-8 (Comma delimited)»."
                ),
                format!(
                    "The CSV file is not UTF-8 (from line {line}); save it again as \"CSV UTF-8 (Comma delimited)\"."
                ),
            ),
            ImportError::TooLarge { bytes, limit } => (
                format!(
                    "Tệp quá lớn ({} MB sau khi giải nén; tối đa {} MB).",
                    bytes / 1_048_576,
                    limit / 1_048_576
                ),
                format!(
                    "The file is too large ({} MB uncompressed; at most {} MB).",
                    bytes / 1_048_576,
                    limit / 1_048_576
                ),
            ),
            ImportError::SuspiciousArchive { detail } => (
                format!("Tệp nén có cấu trúc bất thường ({detail}); không xử lý."),
                format!("The archive looks abnormal ({detail}); it was not processed."),
            ),
            ImportError::TooManyRows { limit } => (
                format!("Tệp có hơn {limit} dòng dữ liệu; hãy chia thành nhiều tệp."),
                format!("The file has more than {limit} data rows; split it into several files."),
            ),
            ImportError::TooManyStrings { detail } => (
                format!(
                    "Tệp có quá nhiều chuỗi văn bản khác nhau ({detail}); hãy chia thành nhiều tệp."
                ),
                format!(
                    "The file holds too many distinct texts ({detail}); split it into several files."
                ),
            ),
            ImportError::CellOutOfRange { sheet, row, column } => (
                format!(
                    "Trang «{sheet}» có ô nằm ngoài giới hạn của Excel (dòng {row}, cột {column}; tối đa 1.048.576 dòng, 16.384 cột); tệp bị hỏng hoặc không phải do Excel tạo."
                ),
                format!(
                    "Sheet \"{sheet}\" has a cell beyond Excel's limits (row {row}, column {column}; at most 1,048,576 rows, 16,384 columns); the file is damaged or was not made by Excel."
                ),
            ),
            ImportError::Unreadable { detail } => (
                format!("Không đọc được bảng tính ({detail}); hãy mở bằng Excel và lưu lại."),
                format!(
                    "The workbook could not be read ({detail}); open it in Excel and save it again."
                ),
            ),
            ImportError::NoHeader { sheets } => (
                format!(
                    "Không tìm thấy dòng tiêu đề cột (mã trường hoặc tên cột) trong các trang: {}.",
                    sheets.join(", ")
                ),
                format!(
                    "No header row of field keys or labels was found in the sheets: {}.",
                    sheets.join(", ")
                ),
            ),
            ImportError::WrongForm { expected, found } => (
                format!("Tệp là mẫu số {found}, không phải mẫu số {expected}."),
                format!("The file holds form {found}, not form {expected}."),
            ),
            ImportError::Columns {
                sheet,
                missing,
                unknown,
                repeated,
            } => {
                let mut vi = vec![];
                let mut en = vec![];
                if !missing.is_empty() {
                    vi.push(format!("thiếu cột bắt buộc {}", missing.join(", ")));
                    en.push(format!("required columns missing: {}", missing.join(", ")));
                }
                if !unknown.is_empty() {
                    vi.push(format!("cột không thuộc mẫu {}", unknown.join(", ")));
                    en.push(format!("columns not in the form: {}", unknown.join(", ")));
                }
                if !repeated.is_empty() {
                    vi.push(format!("cột bị lặp {}", repeated.join(", ")));
                    en.push(format!("repeated columns: {}", repeated.join(", ")));
                }
                (
                    format!("Trang «{sheet}»: {}.", vi.join("; ")),
                    format!("Sheet \"{sheet}\": {}.", en.join("; ")),
                )
            }
        };
        Text { vi, en }
    }
}

/// What a file held besides its rows, for [`read_each`].
#[derive(Debug, Clone, PartialEq)]
pub struct Scan {
    /// The container.
    pub kind: FileKind,
    /// Sheets with a recognised header, in workbook order.
    pub sheets: Vec<SheetRead>,
    /// Data rows handed on.
    pub rows: usize,
}

/// Reads `bytes` (an upload named `file_name`) as records of `form`, with the default limits.
pub fn read(form: &Form, bytes: &[u8], file_name: &str) -> Result<Parsed, ImportError> {
    read_with(form, bytes, file_name, &Limits::default())
}

/// Reads `bytes` as records of `form` within `limits`, all rows at once
/// (a record takes about 4 KB: 200,000 rows hold some 800 MB; see [`read_each`]).
pub fn read_with(
    form: &Form,
    bytes: &[u8],
    file_name: &str,
    limits: &Limits,
) -> Result<Parsed, ImportError> {
    let mut rows = Vec::new();
    let scan = read_each(form, bytes, file_name, limits, |row| rows.push(row))?;
    Ok(Parsed {
        kind: scan.kind,
        sheets: scan.sheets,
        rows,
    })
}

/// Reads `bytes` as records of `form`, handing each row to `on_row` as soon as it
/// is read, so that a caller can check and store rows in batches. On an error the
/// rows already handed on belong to a file that is refused as a whole.
pub fn read_each(
    form: &Form,
    bytes: &[u8],
    file_name: &str,
    limits: &Limits,
    mut on_row: impl FnMut(ParsedRow),
) -> Result<Scan, ImportError> {
    let mut emit = Emit {
        limit: limits.max_rows,
        count: 0,
        on_row: &mut on_row,
    };
    let (kind, sheets) = match source::detect(bytes, file_name)? {
        source::Kind::Xlsx => {
            source::check_zip(bytes, limits)?;
            (FileKind::Xlsx, xlsx::read(form, bytes, limits, &mut emit)?)
        }
        source::Kind::Csv => (
            FileKind::Csv,
            csv::read(form, bytes, file_name, limits, &mut emit)?,
        ),
    };
    Ok(Scan {
        kind,
        sheets,
        rows: emit.count,
    })
}

/// Runs the checks an upload passes before any of its parts is parsed ([`read_each`] runs them
/// too) on a workbook: refuses what is not an xlsx, or is hostile (sizes, ratios, tokens, strings).
pub fn check_workbook(bytes: &[u8], file_name: &str, limits: &Limits) -> Result<(), ImportError> {
    match source::detect(bytes, file_name)? {
        source::Kind::Xlsx => source::check_zip(bytes, limits),
        source::Kind::Csv => Err(ImportError::NotASpreadsheet),
    }
}

/// A cell copied back into an annotated workbook.
#[derive(Debug, Clone, PartialEq)]
pub enum Copied {
    /// Text (also error values such as `#REF!` and ISO dates written as text).
    Text(String),
    /// A number.
    Number(f64),
    /// A date, as its Excel serial.
    Date(f64),
    /// A boolean.
    Bool(bool),
}

/// Streams the cells of `sheets` (the names [`Scan::sheets`] gave; hidden and other sheets are
/// never read) of a file that [`read_each`] accepted, with the same limits and checks, one row at a
/// time: `on_row(sheet, 0-based row, cells by 0-based column)`, blank cells left out. Returning
/// `false` stops. Nothing is held beyond one row, so an annotated copy costs what reading did.
pub fn copy_rows(
    bytes: &[u8],
    file_name: &str,
    sheets: &[String],
    limits: &Limits,
    mut on_row: impl FnMut(&str, u32, Vec<(u32, Copied)>) -> bool,
) -> Result<(), ImportError> {
    let mut each = |sheet: &str, index: u32, cells: Vec<(u32, cells::Raw)>| {
        let cells = cells
            .into_iter()
            .filter_map(|(c, raw)| Some((c, raw.copied()?)))
            .collect();
        on_row(sheet, index, cells)
    };
    match source::detect(bytes, file_name)? {
        source::Kind::Xlsx => {
            source::check_zip(bytes, limits)?;
            xlsx::copy(bytes, sheets, limits, &mut each)
        }
        source::Kind::Csv => {
            let (sheet, rows) = csv::rows(bytes, file_name, limits)?;
            if sheets.contains(&sheet) {
                for row in rows {
                    if !each(&sheet, row.index, row.into_cells()) {
                        break;
                    }
                }
            }
            Ok(())
        }
    }
}

/// Where parsed rows go: counted against the limit, then handed on.
pub(crate) struct Emit<'a> {
    limit: usize,
    count: usize,
    on_row: &'a mut dyn FnMut(ParsedRow),
}

impl Emit<'_> {
    fn push(&mut self, row: ParsedRow) -> Result<(), ImportError> {
        if self.count >= self.limit {
            return Err(ImportError::TooManyRows { limit: self.limit });
        }
        self.count += 1;
        (self.on_row)(row);
        Ok(())
    }
}

#[cfg(test)]
mod tests;
