//! The error workbook of a file in our own official layout: the upload's parts copied as they
//! came (compressed bytes, never inflated), so that its borders, fonts, column widths, merged
//! cells and print setup survive, and the list of errors added as one more worksheet, last (a
//! sheet inserted first would shift the `localSheetId` of defined names such as print titles)
//! and shown first (the workbook's active tab).
//!
//! Only four kinds of part are rewritten, each streamed event by event through quick-xml, never
//! held whole: `xl/workbook.xml` (the new sheet, the active tab), `xl/_rels/workbook.xml.rels`
//! and `[Content_Types].xml` (the new part), and each worksheet (its `tabSelected` cleared, so
//! that the sheets are not grouped with the list). The file is checked as an upload is
//! ([`read::check_workbook`]) before any part is read.

use std::{
    collections::HashSet,
    io::{BufReader, Cursor, Read, Write},
};

use quick_xml::{
    Reader, Writer,
    events::{BytesStart, Event},
};
use zip::{CompressionMethod, ZipArchive, ZipWriter, write::SimpleFileOptions};

use super::{ERRORS_SHEET, ImportReport, cell_text, column_index, import_error};
use crate::{
    error::{AppError, AppResult, Lang},
    workbooks::read::{self, Limits},
};

const WORKBOOK: &str = "xl/workbook.xml";
const WORKBOOK_RELS: &str = "xl/_rels/workbook.xml.rels";
const CONTENT_TYPES: &str = "[Content_Types].xml";
const SHEET_TYPE: &str =
    "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml";
const SHEET_REL: &str =
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet";
const REL_NS: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
const MAIN_NS: &str = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";

fn broken(e: impl std::fmt::Display) -> AppError {
    AppError::Internal(format!("error workbook: {e}"))
}

/// What the workbook already holds, read before anything is written.
struct Existing {
    /// Sheet names, as Excel compares them (case-insensitive).
    names: HashSet<String>,
    /// Sheet names as written, for the links.
    sheets: Vec<String>,
    max_sheet_id: u64,
    rel_ids: HashSet<String>,
}

/// The error workbook of `bytes`, an upload in our official layout that the import read (and so
/// passed the hostile-file checks, which are run again here before any part is touched).
pub(super) fn annotated(
    bytes: &[u8],
    report: &ImportReport,
    limits: &Limits,
    lang: Lang,
) -> AppResult<Vec<u8>> {
    read::check_workbook(bytes, &report.file_name, limits).map_err(import_error)?;
    let mut zip = ZipArchive::new(Cursor::new(bytes)).map_err(broken)?;
    let existing = survey(&mut zip)?;
    let parts: HashSet<String> = (0..zip.len())
        .map(|i| Ok(zip.by_index_raw(i)?.name()?.into_owned()))
        .collect::<zip::result::ZipResult<_>>()
        .map_err(broken)?;
    if !parts.contains(WORKBOOK_RELS) || !parts.contains(CONTENT_TYPES) {
        return Err(broken("no workbook relationships or content types"));
    }
    let name = (1..)
        .map(|n| match n {
            1 => ERRORS_SHEET.to_string(),
            n => format!("{ERRORS_SHEET} ({n})"),
        })
        .find(|n| !existing.names.contains(&n.to_lowercase()))
        .unwrap_or_default();
    let part = (1..)
        .map(|n| format!("xl/worksheets/kiemke_errors{n}.xml"))
        .find(|p| !parts.contains(p))
        .unwrap_or_default();
    let rel_id = (1..)
        .map(|n| format!("rIdKiemkeErrors{n}"))
        .find(|id| !existing.rel_ids.contains(id))
        .unwrap_or_default();
    let new_index = existing.sheets.len();
    let deflated = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
    let mut out = ZipWriter::new(Cursor::new(Vec::with_capacity(bytes.len() + 64 * 1024)));
    for i in 0..zip.len() {
        let entry_name = zip
            .by_index_raw(i)
            .map_err(broken)?
            .name()
            .map_err(broken)?
            .into_owned();
        let worksheet = entry_name.starts_with("xl/worksheets/")
            && entry_name.ends_with(".xml")
            && !entry_name.contains("/_rels/");
        if !(worksheet
            || entry_name == WORKBOOK
            || entry_name == WORKBOOK_RELS
            || entry_name == CONTENT_TYPES)
        {
            let raw = zip.by_index_raw(i).map_err(broken)?;
            out.raw_copy_file(raw).map_err(broken)?;
            continue;
        }
        out.start_file(entry_name.as_str(), deflated)
            .map_err(broken)?;
        let source = zip.by_index(i).map_err(broken)?;
        // The new sheet's entry, written last in the relationships' or the content types' list.
        let last_entry = match entry_name.as_str() {
            WORKBOOK_RELS => Some((
                "Relationships",
                format!(
                    "Relationship Id=\"{rel_id}\" Type=\"{SHEET_REL}\" Target=\"{}\"/>",
                    part.trim_start_matches("xl/")
                ),
            )),
            CONTENT_TYPES => Some((
                "Types",
                format!("Override PartName=\"/{part}\" ContentType=\"{SHEET_TYPE}\"/>"),
            )),
            _ => None,
        };
        let mut inserted = false;
        let mut book_views = false;
        stream(source, &mut out, |w, ev| {
            match entry_name.as_str() {
                WORKBOOK => match &ev {
                    Event::Start(e) | Event::Empty(e) if local(e) == "workbookView" => {
                        let tab = new_index.to_string();
                        let e = rebuild(e, &["activeTab"], &[("activeTab", &tab)]);
                        return w.write_event(match ev {
                            Event::Start(_) => Event::Start(e),
                            _ => Event::Empty(e),
                        });
                    }
                    Event::Start(e) | Event::Empty(e) if local(e) == "bookViews" => {
                        book_views = true;
                    }
                    Event::Start(e) | Event::Empty(e) if local(e) == "sheets" && !book_views => {
                        let p = prefix(e.name().0);
                        write!(
                            w.get_mut(),
                            "<{p}bookViews><{p}workbookView activeTab=\"{new_index}\"/></{p}bookViews>"
                        )?;
                        book_views = true;
                        if matches!(ev, Event::Empty(_)) {
                            // `<sheets/>` cannot happen in a workbook that was read; keep it valid.
                            return Err(std::io::Error::other("a workbook without sheets"));
                        }
                    }
                    Event::End(e) if local_end(e.name().0) == "sheets" => {
                        let p = prefix(e.name().0);
                        write!(
                            w.get_mut(),
                            "<{p}sheet name=\"{}\" sheetId=\"{}\" r:id=\"{rel_id}\" xmlns:r=\"{REL_NS}\"/>",
                            escape(&name),
                            existing.max_sheet_id + 1
                        )?;
                        inserted = true;
                    }
                    _ => {}
                },
                WORKBOOK_RELS | CONTENT_TYPES => {
                    if let (Event::End(e), Some((list, entry))) = (&ev, &last_entry)
                        && local_end(e.name().0) == *list
                    {
                        write!(w.get_mut(), "<{}{entry}", prefix(e.name().0))?;
                        inserted = true;
                    }
                }
                _ => {
                    inserted = true;
                    if let Event::Start(e) | Event::Empty(e) = &ev
                        && local(e) == "sheetView"
                    {
                        let e = rebuild(e, &["tabSelected"], &[]);
                        return w.write_event(match ev {
                            Event::Start(_) => Event::Start(e),
                            _ => Event::Empty(e),
                        });
                    }
                }
            }
            w.write_event(ev)
        })?;
        if !inserted {
            return Err(broken(format!("{entry_name}: nowhere to add the list")));
        }
    }
    out.start_file(part.as_str(), deflated).map_err(broken)?;
    errors_sheet(&mut out, report, &existing.sheets, lang).map_err(broken)?;
    Ok(out.finish().map_err(broken)?.into_inner())
}

/// Sheet names and ids of `xl/workbook.xml`, relationship ids of its relationships.
fn survey(zip: &mut ZipArchive<Cursor<&[u8]>>) -> AppResult<Existing> {
    let mut found = Existing {
        names: HashSet::new(),
        sheets: Vec::new(),
        max_sheet_id: 0,
        rel_ids: HashSet::new(),
    };
    for (part, element) in [(WORKBOOK, "sheet"), (WORKBOOK_RELS, "Relationship")] {
        let source = zip.by_name(part).map_err(broken)?;
        let mut reader = Reader::from_reader(BufReader::new(source));
        let mut buf = Vec::new();
        loop {
            match reader.read_event_into(&mut buf).map_err(broken)? {
                Event::Eof => break,
                Event::Start(e) | Event::Empty(e) if local(&e) == element => {
                    for a in e.attributes().with_checks(false).flatten() {
                        let value = a
                            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                            .map_err(broken)?
                            .into_owned();
                        match (element, a.key.0) {
                            ("sheet", "name") => {
                                found.names.insert(value.to_lowercase());
                                found.sheets.push(value);
                            }
                            ("sheet", "sheetId") => {
                                found.max_sheet_id =
                                    found.max_sheet_id.max(value.parse().unwrap_or(0));
                            }
                            ("Relationship", "Id") => {
                                found.rel_ids.insert(value);
                            }
                            _ => {}
                        }
                    }
                }
                _ => {}
            }
            buf.clear();
        }
    }
    Ok(found)
}

/// Streams one XML part into the part being written, each event through `each`.
fn stream<R: Read, W: Write>(
    source: R,
    out: &mut W,
    mut each: impl FnMut(&mut Writer<&mut W>, Event) -> std::io::Result<()>,
) -> AppResult<()> {
    let mut reader = Reader::from_reader(BufReader::new(source));
    let mut writer = Writer::new(out);
    let mut buf = Vec::new();
    loop {
        match reader.read_event_into(&mut buf).map_err(broken)? {
            Event::Eof => return Ok(()),
            ev => each(&mut writer, ev).map_err(broken)?,
        }
        buf.clear();
    }
}

fn local<'a>(e: &'a BytesStart) -> &'a str {
    local_end(e.name().0)
}

fn local_end(name: &str) -> &str {
    name.rsplit(':').next().unwrap_or(name)
}

/// `x:` of `x:sheets`, nothing for `sheets`.
fn prefix(name: &str) -> &str {
    match name.rfind(':') {
        Some(at) => &name[..=at],
        None => "",
    }
}

/// The same element without the attributes `drop`, with `add` (values already escaped).
fn rebuild(e: &BytesStart, drop: &[&str], add: &[(&str, &str)]) -> BytesStart<'static> {
    let name = e.name().0.to_string();
    let mut content = name.clone();
    for a in e.attributes().with_checks(false).flatten() {
        if drop.contains(&a.key.0) {
            continue;
        }
        let quote = if a.value.contains('"') { '\'' } else { '"' };
        content.push_str(&format!(" {}={quote}{}{quote}", a.key.0, a.value));
    }
    for (k, v) in add {
        content.push_str(&format!(" {k}=\"{v}\""));
    }
    BytesStart::from_content(content, name.len())
}

/// Text for XML: markup escaped, characters XML 1.0 forbids left out.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

/// `A1`-style name of a 0-based column.
fn letters(mut col: u32) -> String {
    let mut out = Vec::new();
    loop {
        out.push(b'A' + (col % 26) as u8);
        if col < 26 {
            break;
        }
        col = col / 26 - 1;
    }
    out.iter().rev().map(|&b| b as char).collect()
}

/// The list: one line per error, its cell a link into the user's own sheet.
fn errors_sheet(
    out: &mut impl Write,
    report: &ImportReport,
    sheets: &[String],
    lang: Lang,
) -> std::io::Result<()> {
    write!(
        out,
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n\
         <worksheet xmlns=\"{MAIN_NS}\" xmlns:r=\"{REL_NS}\">\
         <sheetPr><pageSetUpPr fitToPage=\"1\"/></sheetPr>\
         <sheetViews><sheetView tabSelected=\"1\" workbookViewId=\"0\">\
         <pane ySplit=\"1\" topLeftCell=\"A2\" activePane=\"bottomLeft\" state=\"frozen\"/>\
         <selection pane=\"bottomLeft\" activeCell=\"A2\" sqref=\"A2\"/>\
         </sheetView></sheetViews><sheetFormatPr defaultRowHeight=\"15\"/><cols>"
    )?;
    let heads = [
        ("STT", 6.0),
        ("Trang / Sheet", 14.0),
        ("Ô / Cell", 9.0),
        ("Trường / Field", 22.0),
        ("Lỗi / Errors", 80.0),
    ];
    for (c, (_, width)) in heads.iter().enumerate() {
        write!(
            out,
            "<col min=\"{n}\" max=\"{n}\" width=\"{width}\" customWidth=\"1\"/>",
            n = c + 1
        )?;
    }
    out.write_all(b"</cols><sheetData>")?;
    let text = |out: &mut dyn Write, row: usize, col: u32, s: &str| {
        write!(
            out,
            "<c r=\"{}{row}\" t=\"inlineStr\"><is><t xml:space=\"preserve\">{}</t></is></c>",
            letters(col),
            escape(cell_text(s))
        )
    };
    write!(out, "<row r=\"1\">")?;
    for (c, (head, _)) in heads.iter().enumerate() {
        text(out, 1, c as u32, head)?;
    }
    out.write_all(b"</row>")?;
    let mut links = Vec::new();
    for (n, e) in report.errors.iter().enumerate() {
        let row = n + 2;
        let cell = match column_index(&e.column_letter) {
            Some(_) => format!("{}{}", e.column_letter, e.row),
            None => format!("A{}", e.row),
        };
        write!(out, "<row r=\"{row}\"><c r=\"A{row}\"><v>{}</v></c>", n + 1)?;
        text(out, row, 1, &e.sheet)?;
        text(out, row, 2, &cell)?;
        text(out, row, 3, &e.field)?;
        text(out, row, 4, lang.pick(&e.message.vi, &e.message.en))?;
        out.write_all(b"</row>")?;
        if sheets.contains(&e.sheet) {
            links.push((
                format!("C{row}"),
                format!("'{}'!{cell}", e.sheet.replace('\'', "''")),
                cell,
            ));
        }
    }
    if report.error_count > report.errors.len() {
        let more = report.error_count - report.errors.len();
        let row = report.errors.len() + 2;
        write!(out, "<row r=\"{row}\">")?;
        text(
            out,
            row,
            4,
            lang.pick(
                &format!("… và {more} lỗi khác (sửa các lỗi trên rồi nhập lại để xem tiếp)"),
                &format!("… and {more} more (fix the errors above and import again to see them)"),
            ),
        )?;
        out.write_all(b"</row>")?;
    }
    out.write_all(b"</sheetData>")?;
    if !links.is_empty() {
        out.write_all(b"<hyperlinks>")?;
        for (at, location, display) in &links {
            write!(
                out,
                "<hyperlink ref=\"{at}\" location=\"{}\" display=\"{}\"/>",
                escape(location),
                escape(display)
            )?;
        }
        out.write_all(b"</hyperlinks>")?;
    }
    out.write_all(
        b"<pageMargins left=\"0.7\" right=\"0.7\" top=\"0.75\" bottom=\"0.75\" header=\"0.3\" footer=\"0.3\"/>\
          <pageSetup paperSize=\"9\" orientation=\"landscape\" fitToWidth=\"1\" fitToHeight=\"0\"/></worksheet>",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{forms::Text, workbooks::read::CellError};

    /// A workbook no generator of ours wrote: no `bookViews`, both sheets selected, and a sheet
    /// already named as the list.
    fn odd_workbook() -> Vec<u8> {
        let mut out = ZipWriter::new(Cursor::new(Vec::new()));
        let opts = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
        let sheet = |text: &str| {
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?><worksheet xmlns=\"{MAIN_NS}\">\
                 <sheetViews><sheetView tabSelected=\"1\" workbookViewId=\"0\"/></sheetViews>\
                 <sheetData><row r=\"1\"><c r=\"A1\" t=\"inlineStr\"><is><t>{text}</t></is></c></row></sheetData>\
                 <mergeCells count=\"1\"><mergeCell ref=\"A1:B1\"/></mergeCells></worksheet>"
            )
        };
        let parts = [
            (
                CONTENT_TYPES.to_string(),
                "<?xml version=\"1.0\"?><Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">\
                 <Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>\
                 <Default Extension=\"xml\" ContentType=\"application/xml\"/>\
                 <Override PartName=\"/xl/workbook.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml\"/>\
                 <Override PartName=\"/xl/worksheets/sheet1.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml\"/>\
                 <Override PartName=\"/xl/worksheets/sheet2.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml\"/></Types>"
                    .to_string(),
            ),
            (
                "_rels/.rels".to_string(),
                "<?xml version=\"1.0\"?><Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">\
                 <Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument\" Target=\"xl/workbook.xml\"/></Relationships>"
                    .to_string(),
            ),
            (
                WORKBOOK.to_string(),
                format!(
                    "<?xml version=\"1.0\"?><workbook xmlns=\"{MAIN_NS}\" xmlns:r=\"{REL_NS}\"><sheets>\
                     <sheet name=\"A &amp; B\" sheetId=\"4\" r:id=\"rId1\"/><sheet name=\"{ERRORS_SHEET}\" sheetId=\"9\" r:id=\"rId2\"/>\
                     </sheets><definedNames><definedName name=\"_xlnm.Print_Titles\" localSheetId=\"0\">'A &amp; B'!$1:$1</definedName></definedNames></workbook>"
                ),
            ),
            (
                WORKBOOK_RELS.to_string(),
                format!(
                    "<?xml version=\"1.0\"?><Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">\
                     <Relationship Id=\"rId1\" Type=\"{SHEET_REL}\" Target=\"worksheets/sheet1.xml\"/>\
                     <Relationship Id=\"rId2\" Type=\"{SHEET_REL}\" Target=\"worksheets/sheet2.xml\"/></Relationships>"
                ),
            ),
            ("xl/worksheets/sheet1.xml".to_string(), sheet("one &amp; two")),
            ("xl/worksheets/sheet2.xml".to_string(), sheet("other")),
        ];
        for (name, text) in parts {
            out.start_file(name, opts).unwrap();
            out.write_all(text.as_bytes()).unwrap();
        }
        out.finish().unwrap().into_inner()
    }

    fn part(bytes: &[u8], name: &str) -> String {
        let mut zip = ZipArchive::new(Cursor::new(bytes)).unwrap();
        let mut s = String::new();
        zip.by_name(name).unwrap().read_to_string(&mut s).unwrap();
        s
    }

    #[test]
    fn the_list_gets_a_free_name_a_view_of_its_own_and_no_sheet_stays_grouped_with_it() {
        use calamine::Reader as _;
        let file = odd_workbook();
        let report = ImportReport {
            dry_run: true,
            form_code: "01a".into(),
            file_kind: read::FileKind::Xlsx,
            rows: 1,
            created: 0,
            updated: 0,
            unchanged: 0,
            errors: vec![CellError {
                sheet: "A & B".into(),
                row: 1,
                column_letter: "A".into(),
                field: "code".into(),
                code: "required".into(),
                message: Text {
                    vi: "Thiếu <mã> & \u{1} tên".into(),
                    en: "Missing".into(),
                },
            }],
            error_count: 1,
            file_name: "odd.xlsx".into(),
            sheets: vec!["A & B".into()],
            official: true,
        };
        let answer = annotated(&file, &report, &Limits::default(), Lang::Vi).unwrap();
        let mut book: calamine::Xlsx<_> =
            calamine::open_workbook_from_rs(Cursor::new(answer.clone())).unwrap();
        let list = format!("{ERRORS_SHEET} (2)");
        assert_eq!(
            book.sheet_names(),
            vec!["A & B".to_string(), ERRORS_SHEET.into(), list.clone()]
        );
        let rows = book.worksheet_range(&list).unwrap();
        assert_eq!(
            rows.get_value((1, 2)).map(|d| d.to_string()),
            Some("A1".into())
        );
        assert_eq!(
            rows.get_value((1, 4)).map(|d| d.to_string()),
            Some("Thiếu <mã> &  tên".into())
        );
        let workbook = part(&answer, WORKBOOK);
        assert!(
            workbook.contains("<bookViews><workbookView activeTab=\"2\"/></bookViews><sheets>")
        );
        assert!(workbook.contains("sheetId=\"10\""));
        assert!(workbook.contains("localSheetId=\"0\">'A &amp; B'!$1:$1<"));
        for sheet in ["xl/worksheets/sheet1.xml", "xl/worksheets/sheet2.xml"] {
            let xml = part(&answer, sheet);
            assert!(!xml.contains("tabSelected"), "{xml}");
            assert!(xml.contains("<mergeCell ref=\"A1:B1\"/>"));
        }
        assert!(part(&answer, "xl/worksheets/sheet1.xml").contains("one &amp; two"));
        assert!(
            part(&answer, "xl/worksheets/kiemke_errors1.xml")
                .contains("location=\"'A &amp; B'!A1\"")
        );
    }
}
