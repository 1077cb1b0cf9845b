//! What the bytes are, and whether a zip is safe to open.

use std::io::Cursor;

use super::{ImportError, Limits};

/// The container of an upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Xlsx,
    Csv,
}

const ZIP: &[u8] = b"PK\x03\x04";
const EMPTY_ZIP: &[u8] = b"PK\x05\x06";
const OLE: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];

/// Decides by content, the name only breaking ties: a zip is a workbook, text is
/// CSV. Bytes that are neither are refused, except that a file named `.csv` or
/// `.txt` is taken as CSV so that its encoding error can name the line.
pub(super) fn detect(bytes: &[u8], file_name: &str) -> Result<Kind, ImportError> {
    if bytes.is_empty() {
        return Err(ImportError::Empty);
    }
    if bytes.starts_with(ZIP) || bytes.starts_with(EMPTY_ZIP) {
        return Ok(Kind::Xlsx);
    }
    if bytes.starts_with(OLE) {
        return Err(ImportError::Unsupported { format: "xls" });
    }
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        // Excel's "Unicode text" is UTF-16.
        return Err(ImportError::Encoding { line: 1 });
    }
    let name = file_name.to_lowercase();
    let named_text = name.ends_with(".csv") || name.ends_with(".txt");
    let head = &bytes[..bytes.len().min(8192)];
    // The head is enough to tell text from binary; a character cut at its end is fine.
    let looks_text = !head.contains(&0)
        && std::str::from_utf8(head).map_or_else(|e| e.error_len().is_none(), |_| true);
    if named_text || looks_text {
        Ok(Kind::Csv)
    } else {
        Err(ImportError::NotASpreadsheet)
    }
}

/// Reads the zip's central directory — no part is inflated — and refuses an
/// archive whose declared sizes exceed the limits, or that is not an xlsx. The
/// zip reader never inflates a part beyond its declared size, so the declared
/// total bounds what parsing can allocate.
pub(super) fn check_zip(bytes: &[u8], limits: &Limits) -> Result<(), ImportError> {
    let zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|_| ImportError::NotASpreadsheet)?;
    if zip.len() > limits.max_parts {
        return Err(ImportError::SuspiciousArchive {
            detail: format!("{} parts", zip.len()),
        });
    }
    let mut total: u64 = 0;
    let mut compressed: u64 = 0;
    let (mut workbook, mut binary, mut ods) = (false, false, false);
    for i in 0..zip.len() {
        let entry = zip
            .by_index_data(i)
            .map_err(|_| ImportError::NotASpreadsheet)?;
        total = total.saturating_add(entry.size());
        compressed = compressed.saturating_add(entry.compressed_size());
        match entry.name_raw() {
            b"xl/workbook.xml" => workbook = true,
            b"xl/workbook.bin" => binary = true,
            b"content.xml" => ods = true,
            _ => {}
        }
    }
    if total > limits.max_bytes {
        return Err(ImportError::TooLarge {
            bytes: total,
            limit: limits.max_bytes,
        });
    }
    if total > 1024 * 1024 && total / compressed.max(1) > limits.max_ratio {
        return Err(ImportError::SuspiciousArchive {
            detail: format!("{total} bytes from {compressed}"),
        });
    }
    match (workbook, binary, ods) {
        (true, _, _) => Ok(()),
        (_, true, _) => Err(ImportError::Unsupported { format: "xlsb" }),
        (_, _, true) => Err(ImportError::Unsupported { format: "ods" }),
        _ => Err(ImportError::NotASpreadsheet),
    }
}
