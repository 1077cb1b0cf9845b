//! CSV in the flat layout (or an official sheet saved as CSV): UTF-8 with or
//! without BOM, `,` `;` or tab separated (detected, or named by an Excel `sep=`
//! line), RFC 4180 quoting with line breaks inside quotes.

use super::{
    Emit, ImportError, Limits, SheetRead,
    cells::Raw,
    layout::{self, Aliases, Row},
};
use crate::forms::Form;

const BOM: &[u8] = b"\xEF\xBB\xBF";
/// Fields kept per line, as many as Excel has columns.
const MAX_FIELDS: usize = 16_384;

pub(super) fn read(
    form: &Form,
    bytes: &[u8],
    file_name: &str,
    limits: &Limits,
    out: &mut Emit,
) -> Result<Vec<SheetRead>, ImportError> {
    let (sheet, rows) = rows(bytes, file_name, limits)?;
    match layout::parse_sheet(&Aliases::new(form), &sheet, rows.map(Ok), out)? {
        Some(read) => Ok(vec![read]),
        None => Err(ImportError::NoHeader {
            sheets: vec![sheet],
        }),
    }
}

/// The sheet name a CSV file is given, and its rows (at most [`MAX_FIELDS`] cells each,
/// blank cells left out), read as they are asked for.
pub(super) fn rows<'a>(
    bytes: &'a [u8],
    file_name: &str,
    limits: &Limits,
) -> Result<(String, impl Iterator<Item = Row> + 'a), ImportError> {
    if bytes.len() as u64 > limits.max_bytes {
        return Err(ImportError::TooLarge {
            bytes: bytes.len() as u64,
            limit: limits.max_bytes,
        });
    }
    let bytes = bytes.strip_prefix(BOM).unwrap_or(bytes);
    let text = std::str::from_utf8(bytes).map_err(|e| ImportError::Encoding {
        line: bytes
            .get(..e.valid_up_to())
            .map_or(0, |b| b.iter().filter(|&&c| c == b'\n').count())
            + 1,
    })?;
    let (sep, skip) = separator(text);
    let sheet = if file_name.trim().is_empty() {
        "CSV".to_string()
    } else {
        file_name.to_string()
    };
    let rows = Records::new(text, sep).skip(skip).map(|(line, fields)| {
        let cells = fields
            .iter()
            .enumerate()
            .filter(|(_, f)| !f.trim().is_empty())
            .map(|(i, f)| (i as u32, Raw::text(f)))
            .collect();
        Row::new(line.saturating_sub(1) as u32, cells)
    });
    Ok((sheet, rows))
}

/// The separator, and whether a first `sep=;` line names it (and must be skipped).
/// Otherwise the candidate found most often on one of the first lines, outside quotes.
fn separator(text: &str) -> (char, usize) {
    let first = text.lines().next().unwrap_or("").trim();
    if let Some(rest) = first.strip_prefix("sep=")
        && let Some(c) = rest.chars().next()
    {
        return (c, 1);
    }
    let candidates = [',', ';', '\t'];
    let mut best = (',', 0usize);
    for line in text.lines().take(10) {
        for c in candidates {
            let n = count_outside_quotes(line, c);
            if n > best.1 {
                best = (c, n);
            }
        }
    }
    (best.0, 0)
}

fn count_outside_quotes(line: &str, sep: char) -> usize {
    let mut quoted = false;
    let mut n = 0;
    for c in line.chars() {
        if c == '"' {
            quoted = !quoted;
        } else if c == sep && !quoted {
            n += 1;
        }
    }
    n
}

/// Records of a CSV text: (1-based line where the record starts, fields).
struct Records<'a> {
    chars: std::iter::Peekable<std::str::Chars<'a>>,
    line: usize,
    sep: char,
}

impl<'a> Records<'a> {
    fn new(text: &'a str, sep: char) -> Records<'a> {
        Records {
            chars: text.chars().peekable(),
            line: 1,
            sep,
        }
    }
}

impl Iterator for Records<'_> {
    type Item = (usize, Vec<String>);

    fn next(&mut self) -> Option<Self::Item> {
        self.chars.peek()?;
        let start = self.line;
        let mut fields = Vec::new();
        let mut field = String::new();
        let mut quoted = false;
        let mut at_start = true;
        let push = |fields: &mut Vec<String>, field: &mut String| {
            let f = std::mem::take(field);
            if fields.len() < MAX_FIELDS {
                fields.push(f);
            }
        };
        while let Some(c) = self.chars.next() {
            if quoted {
                match c {
                    '"' if self.chars.peek() == Some(&'"') => {
                        self.chars.next();
                        field.push('"');
                    }
                    '"' => quoted = false,
                    _ => {
                        if c == '\n' {
                            self.line += 1;
                        }
                        field.push(c);
                    }
                }
                continue;
            }
            match c {
                '"' if at_start => {
                    quoted = true;
                    at_start = false;
                }
                '\r' if self.chars.peek() == Some(&'\n') => {}
                '\n' | '\r' => {
                    self.line += 1;
                    push(&mut fields, &mut field);
                    return Some((start, fields));
                }
                c if c == self.sep => {
                    push(&mut fields, &mut field);
                    at_start = true;
                }
                c => {
                    field.push(c);
                    at_start = false;
                }
            }
        }
        push(&mut fields, &mut field);
        Some((start, fields))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(text: &str, sep: char) -> Vec<(usize, Vec<String>)> {
        Records::new(text, sep).collect()
    }

    #[test]
    fn quoted_fields_keep_separators_quotes_and_line_breaks() {
        let r = records("a,\"b, \"\"c\"\"\nd\",e\r\nf,g\n", ',');
        assert_eq!(r.len(), 2);
        assert_eq!(
            r[0],
            (1, vec!["a".into(), "b, \"c\"\nd".into(), "e".into()])
        );
        assert_eq!(r[1], (3, vec!["f".into(), "g".into()]));
    }

    #[test]
    fn the_separator_is_detected_or_named() {
        assert_eq!(separator("code;name;note\n1;a;b, c\n"), (';', 0));
        assert_eq!(separator("code,name\n"), (',', 0));
        assert_eq!(separator("\"a;b\",c,d\n"), (',', 0));
        assert_eq!(separator("code\tname\n"), ('\t', 0));
        assert_eq!(separator("sep=;\ncode;name\n"), (';', 1));
        assert_eq!(separator(""), (',', 0));
    }

    #[test]
    fn an_unclosed_quote_ends_at_the_end_of_the_file() {
        let r = records("a,\"b\nc", ',');
        assert_eq!(r, vec![(1, vec!["a".into(), "b\nc".into()])]);
    }
}
