//! Hostile files (issue 15), built byte by byte: the regression tests
//! (`tests/api/workbooks/hostile_uploads.rs`) and the memory benchmark (`benches/uploads.rs`) use
//! the same ones. Nothing here touches a database.
#![allow(dead_code)]

use std::io::{Cursor, Write};

use zip::{CompressionMethod, write::SimpleFileOptions};

/// Content type of an xlsx workbook.
pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
/// The SpreadsheetML namespace.
pub const MAIN_NS: &str = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
const REL_NS: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";

/// One sheet of a hand-made workbook: its name, whether it is hidden, and its `<sheetData>` content.
pub struct Sheet {
    pub name: &'static str,
    pub hidden: bool,
    pub rows: String,
}

/// A cell holding an inline string.
pub fn text(r: &str, s: &str) -> String {
    format!("<c r=\"{r}\" t=\"inlineStr\"><is><t>{s}</t></is></c>")
}

/// A `<row>` of cells.
pub fn row(n: u32, cells: &[String]) -> String {
    format!("<row r=\"{n}\">{}</row>", cells.concat())
}

/// The visible data sheet every hostile workbook carries: the flat header of form 02a and one row
/// whose original cost is not a number (so that the import is refused and annotated).
pub fn data_sheet() -> Sheet {
    Sheet {
        name: "flat_02a",
        hidden: false,
        rows: [
            row(
                1,
                &[
                    text("A1", "code"),
                    text("B1", "name"),
                    text("C1", "original_cost"),
                    text("D1", "usage_status"),
                    text("E1", "length_km"),
                ],
            ),
            row(
                2,
                &[
                    text("A2", "DB-1"),
                    text("B2", "Đường A"),
                    text("C2", "abc"),
                    text("D2", "1"),
                    text("E2", "1,5"),
                ],
            ),
        ]
        .concat(),
    }
}

/// An xlsx made by hand from `sheets`, with `extra` parts added as they are (name, bytes, stored
/// rather than deflated).
pub fn workbook(sheets: &[Sheet], extra: &[(&str, Vec<u8>, bool)]) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    let mut z = zip::ZipWriter::new(&mut out);
    let deflated = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
    let part =
        |z: &mut zip::ZipWriter<&mut Cursor<Vec<u8>>>, name: &str, body: &[u8], stored: bool| {
            let opts = if stored {
                SimpleFileOptions::default().compression_method(CompressionMethod::Stored)
            } else {
                deflated
            };
            z.start_file(name, opts).unwrap();
            z.write_all(body).unwrap();
        };
    let mut types = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">\
         <Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>\
         <Default Extension=\"xml\" ContentType=\"application/xml\"/>\
         <Override PartName=\"/xl/workbook.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml\"/>",
    );
    let mut book = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><workbook xmlns=\"{MAIN_NS}\" xmlns:r=\"{REL_NS}\"><sheets>"
    );
    let mut rels = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">",
    );
    for (i, s) in sheets.iter().enumerate() {
        let n = i + 1;
        types.push_str(&format!(
            "<Override PartName=\"/xl/worksheets/sheet{n}.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml\"/>"
        ));
        book.push_str(&format!(
            "<sheet name=\"{}\" sheetId=\"{n}\"{} r:id=\"rId{n}\"/>",
            s.name,
            if s.hidden { " state=\"hidden\"" } else { "" }
        ));
        rels.push_str(&format!(
            "<Relationship Id=\"rId{n}\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet\" Target=\"worksheets/sheet{n}.xml\"/>"
        ));
    }
    if extra
        .iter()
        .any(|(name, ..)| *name == "xl/sharedStrings.xml")
    {
        rels.push_str("<Relationship Id=\"rIdS\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings\" Target=\"sharedStrings.xml\"/>");
    }
    types.push_str("</Types>");
    book.push_str("</sheets></workbook>");
    rels.push_str("</Relationships>");
    part(&mut z, "[Content_Types].xml", types.as_bytes(), false);
    part(
        &mut z,
        "_rels/.rels",
        b"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\"><Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument\" Target=\"xl/workbook.xml\"/></Relationships>",
        false,
    );
    part(&mut z, "xl/workbook.xml", book.as_bytes(), false);
    part(&mut z, "xl/_rels/workbook.xml.rels", rels.as_bytes(), false);
    for (i, s) in sheets.iter().enumerate() {
        let xml = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><worksheet xmlns=\"{MAIN_NS}\"><sheetData>{}</sheetData></worksheet>",
            s.rows
        );
        part(
            &mut z,
            &format!("xl/worksheets/sheet{}.xml", i + 1),
            xml.as_bytes(),
            false,
        );
    }
    for (name, body, stored) in extra {
        part(&mut z, name, body, *stored);
    }
    z.finish().unwrap();
    out.into_inner()
}

/// Bytes that do not compress (a xorshift stream).
pub fn noise(len: usize) -> Vec<u8> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

// ── The classes of hostile file ─────────────────────────────────────────────

/// Issue 15 point 1: a ~2 KB workbook whose hidden sheet has a cell in A1 and one in XFD1048576
/// (a dense copy would be 17 billion cells), beside the data sheet with one bad cell.
pub fn hidden_far_cell() -> Vec<u8> {
    let hidden = Sheet {
        name: "Ẩn",
        hidden: true,
        rows: [
            row(1, &[text("A1", "x")]),
            row(1_048_576, &[text("XFD1048576", "y")]),
        ]
        .concat(),
    };
    workbook(&[data_sheet(), hidden], &[])
}

/// `n` shared strings `<si><t>a</t></si>` (17 bytes each, deflating some 400 times), their ratio
/// hidden in the archive's total by one stored megabyte of noise.
pub fn tiny_shared_strings(n: usize) -> Vec<u8> {
    let strings = format!(
        "<sst xmlns=\"{MAIN_NS}\">{}</sst>",
        "<si><t>a</t></si>".repeat(n)
    );
    workbook(
        &[data_sheet()],
        &[
            ("xl/sharedStrings.xml", strings.into_bytes(), false),
            ("xl/media/image1.png", noise(1024 * 1024), true),
        ],
    )
}

/// `n` distinct shared strings (`0`, `1`, …), compressing like real text.
pub fn distinct_shared_strings(n: u32) -> Vec<u8> {
    let strings = format!(
        "<sst xmlns=\"{MAIN_NS}\">{}</sst>",
        (0..n)
            .map(|i| format!("<si><t>{i}</t></si>"))
            .collect::<String>()
    );
    workbook(
        &[data_sheet()],
        &[("xl/sharedStrings.xml", strings.into_bytes(), false)],
    )
}

/// One shared string, declaring `n` (calamine reserves room for the declared count).
pub fn declared_shared_strings(n: u64) -> Vec<u8> {
    let strings =
        format!("<sst xmlns=\"{MAIN_NS}\" count=\"1\" uniqueCount=\"{n}\"><si><t>a</t></si></sst>");
    workbook(
        &[data_sheet()],
        &[("xl/sharedStrings.xml", strings.into_bytes(), false)],
    )
}

/// A cell of `len` bytes of four letters: it compresses about four times, so neither the upload
/// size nor the ratio stops it.
pub fn long_cell_text(len: usize) -> Vec<u8> {
    let letters: String = noise(len)
        .iter()
        .map(|b| (b'a' + (b & 3)) as char)
        .collect();
    let mut sheet = data_sheet();
    sheet.rows.push_str(&row(3, &[text("A3", &letters)]));
    workbook(&[sheet], &[])
}

/// Issue 15 point 4: a CSV with a bad row, then one line of `n` commas.
pub fn csv_of_commas(n: usize) -> Vec<u8> {
    let mut file = b"code,name,original_cost,usage_status,length_km\nDB-1,A,abc,1,1\n".to_vec();
    file.extend(std::iter::repeat_n(b',', n));
    file
}

/// A CSV of `n` rows with two bad cells each.
pub fn csv_of_bad_rows(n: usize) -> Vec<u8> {
    let mut file = String::from("code;name;original_cost;usage_status;length_km\n");
    for i in 0..n {
        file.push_str(&format!("DB-{i};Đường {i};abc;9;1\n"));
    }
    file.into_bytes()
}
