//! What the bytes are, and whether a zip is safe to open.

use std::io::{Cursor, Read};

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

/// Parts at most this large (uncompressed) are not held to the per-part ratio: tiny parts of
/// repeated markup compress far beyond what their size could cost.
const RATIO_FLOOR: u64 = 1024 * 1024;

/// Reads the zip's central directory and refuses an archive whose declared sizes exceed the
/// limits (in total, or one part's inflation ratio), or that is not an xlsx. Then inflates each
/// XML part once as a stream, in 64 KiB steps, and refuses one that holds a text or a tag longer
/// than [`Limits::max_xml_token`] (the XML parser would hold it whole), and shared strings beyond
/// [`Limits::max_shared_strings`] (or declaring more, which the parser would reserve). The zip
/// reader never inflates a part beyond its declared size, so what parsing can allocate is bounded
/// before it starts.
pub(super) fn check_zip(bytes: &[u8], limits: &Limits) -> Result<(), ImportError> {
    let mut zip =
        zip::ZipArchive::new(Cursor::new(bytes)).map_err(|_| ImportError::NotASpreadsheet)?;
    if zip.len() > limits.max_parts {
        return Err(ImportError::SuspiciousArchive {
            detail: format!("{} parts", zip.len()),
        });
    }
    let mut total: u64 = 0;
    let mut compressed: u64 = 0;
    let (mut workbook, mut binary, mut ods) = (false, false, false);
    let mut xml_parts = Vec::new();
    // The first part that inflates beyond the ratio (one stored, incompressible part would hide
    // it in the archive's total).
    let mut inflated = None;
    for i in 0..zip.len() {
        let entry = zip
            .by_index_data(i)
            .map_err(|_| ImportError::NotASpreadsheet)?;
        let (size, packed) = (entry.size(), entry.compressed_size());
        total = total.saturating_add(size);
        compressed = compressed.saturating_add(packed);
        if size > RATIO_FLOOR && size / packed.max(1) > limits.max_ratio && inflated.is_none() {
            inflated = Some(format!(
                "{}: {size} bytes from {packed}",
                String::from_utf8_lossy(entry.name_raw())
            ));
        }
        let name = entry.name_raw();
        match name {
            b"xl/workbook.xml" => workbook = true,
            b"xl/workbook.bin" => binary = true,
            b"content.xml" => ods = true,
            _ => {}
        }
        let lower = name.to_ascii_lowercase();
        if lower.ends_with(b".xml") || lower.ends_with(b".rels") {
            let shared = lower.ends_with(b"sharedstrings.xml");
            if shared && size > limits.max_shared_bytes {
                return Err(ImportError::TooManyStrings {
                    detail: format!(
                        "{} MB > {} MB",
                        size.div_ceil(1_048_576),
                        limits.max_shared_bytes / 1_048_576
                    ),
                });
            }
            xml_parts.push((i, shared));
        }
    }
    if total > limits.max_bytes {
        return Err(ImportError::TooLarge {
            bytes: total,
            limit: limits.max_bytes,
        });
    }
    if total > RATIO_FLOOR && total / compressed.max(1) > limits.max_ratio {
        inflated = Some(format!("{total} bytes from {compressed}"));
    }
    if let Some(detail) = inflated {
        return Err(ImportError::SuspiciousArchive { detail });
    }
    match (workbook, binary, ods) {
        (true, _, _) => {}
        (_, true, _) => return Err(ImportError::Unsupported { format: "xlsb" }),
        (_, _, true) => return Err(ImportError::Unsupported { format: "ods" }),
        _ => return Err(ImportError::NotASpreadsheet),
    }
    for (i, shared) in xml_parts {
        let part = zip.by_index(i).map_err(|e| ImportError::Unreadable {
            detail: e.to_string(),
        })?;
        let name = String::from_utf8_lossy(part.name_raw()).into_owned();
        let mut scan = XmlScan::new(limits, shared);
        scan.read(part).map_err(|e| match e {
            ScanError::Io(e) => ImportError::Unreadable {
                detail: format!("{name}: {e}"),
            },
            ScanError::Token => ImportError::SuspiciousArchive {
                detail: format!("{name}: a text or tag over {} bytes", limits.max_xml_token),
            },
            ScanError::Strings(n) => ImportError::TooManyStrings {
                detail: format!("{n} > {}", limits.max_shared_strings),
            },
        })?;
    }
    Ok(())
}

enum ScanError {
    Io(std::io::Error),
    /// A text or a tag longer than allowed.
    Token,
    /// More shared strings (found or declared) than allowed.
    Strings(u64),
}

/// A byte-level pass over an XML part: the longest run between `<` and `>` (a tag) or between
/// `>` and `<` (a text), the `<si>` elements of shared strings and the `uniqueCount` the
/// `<sst>` tag declares. Holds 64 KiB and the first 256 bytes of the current tag.
struct XmlScan {
    max_token: u64,
    max_strings: u64,
    shared: bool,
    in_tag: bool,
    run: u64,
    tag: Vec<u8>,
    strings: u64,
}

const TAG_HEAD: usize = 256;

impl XmlScan {
    fn new(limits: &Limits, shared: bool) -> XmlScan {
        XmlScan {
            max_token: limits.max_xml_token,
            max_strings: limits.max_shared_strings,
            shared,
            in_tag: false,
            run: 0,
            tag: Vec::with_capacity(TAG_HEAD),
            strings: 0,
        }
    }

    fn read(&mut self, mut part: impl Read) -> Result<(), ScanError> {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = match part.read(&mut buf) {
                Ok(0) => return Ok(()),
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(ScanError::Io(e)),
            };
            for &b in &buf[..n] {
                self.byte(b)?;
            }
        }
    }

    fn byte(&mut self, b: u8) -> Result<(), ScanError> {
        match b {
            b'<' => {
                self.in_tag = true;
                self.run = 0;
                self.tag.clear();
            }
            b'>' if self.in_tag => {
                self.in_tag = false;
                self.run = 0;
                if self.shared {
                    self.end_tag()?;
                }
            }
            _ => {
                self.run += 1;
                if self.run > self.max_token {
                    return Err(ScanError::Token);
                }
                if self.in_tag && self.shared && self.tag.len() < TAG_HEAD {
                    self.tag.push(b);
                }
            }
        }
        Ok(())
    }

    /// A tag of the shared strings ended: count `<si>`, read `<sst uniqueCount>`.
    fn end_tag(&mut self) -> Result<(), ScanError> {
        let name_end = self
            .tag
            .iter()
            .position(|c| c.is_ascii_whitespace() || *c == b'/')
            .unwrap_or(self.tag.len());
        let name = &self.tag[..name_end];
        let local = name.rsplit(|c| *c == b':').next().unwrap_or(name);
        if local == b"si" {
            self.strings += 1;
            if self.strings > self.max_strings {
                return Err(ScanError::Strings(self.strings));
            }
        } else if local == b"sst" {
            let attrs = String::from_utf8_lossy(&self.tag[name_end..]);
            if let Some(rest) = attrs.split("uniqueCount=").nth(1) {
                let digits: String = rest
                    .trim_start_matches(['"', '\''])
                    .chars()
                    .take_while(char::is_ascii_digit)
                    .collect();
                // calamine reserves room for this many strings before reading one.
                let declared = digits.parse::<u64>().unwrap_or(u64::MAX);
                if declared > self.max_strings {
                    return Err(ScanError::Strings(declared));
                }
            }
        }
        Ok(())
    }
}
