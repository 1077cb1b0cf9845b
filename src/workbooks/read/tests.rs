use std::io::{Cursor, Write};

use chrono::NaiveDate;
use rust_xlsxwriter::{ExcelDateTime, Format, Formula, Workbook, Worksheet};

use super::*;
use crate::{
    forms::Value,
    workbooks::write::{
        self,
        testutil::{form, header, records_01a, records_02a, records_18a, records_20a, test_form},
    },
};

fn limits(max_rows: usize) -> Limits {
    Limits {
        max_rows,
        ..Limits::default()
    }
}

fn records(parsed: &Parsed) -> Vec<Record> {
    parsed.rows.iter().map(|r| r.record.clone()).collect()
}

fn no_errors(parsed: &Parsed) {
    let errors: Vec<&CellError> = parsed.errors().collect();
    assert!(errors.is_empty(), "{errors:#?}");
}

/// A workbook with one sheet written by `f`.
fn workbook(name: &str, f: impl FnOnce(&mut Worksheet)) -> Vec<u8> {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name(name).unwrap();
    f(ws);
    wb.save_to_buffer().unwrap()
}

/// A sheet with the flat header `keys` in row 1.
fn flat_sheet(keys: &[&str], f: impl FnOnce(&mut Worksheet)) -> Vec<u8> {
    workbook("Sheet1", |ws| {
        for (c, k) in keys.iter().enumerate() {
            ws.write_string(0, c as u16, *k).unwrap();
        }
        f(ws);
    })
}

fn zip_of(parts: &[(&str, &[u8])]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, data) in parts {
        zip.start_file(*name, options).unwrap();
        zip.write_all(data).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

/// Deterministic noise.
fn noise(len: usize, mut seed: u64) -> Vec<u8> {
    (0..len)
        .map(|_| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) as u8
        })
        .collect()
}

// ── Round trips ─────────────────────────────────────────────────────────────

/// Every real form the ward uses, and the test form for dates and booleans.
fn round_trip_cases() -> Vec<(std::sync::Arc<Form>, Vec<Record>)> {
    vec![
        (form("01a"), records_01a()),
        (form("02a"), records_02a()),
        (form("18a"), records_18a()),
        (test_form(), records_20a()),
    ]
}

#[test]
fn flat_export_reads_back_to_identical_records() {
    for (form, input) in round_trip_cases() {
        let bytes = write::flat(&form, input.clone()).unwrap();
        let parsed = read(&form, &bytes, "flat.xlsx").unwrap();
        no_errors(&parsed);
        assert_eq!(parsed.kind, FileKind::Xlsx);
        assert_eq!(parsed.sheets.len(), 1);
        let sheet = &parsed.sheets[0];
        assert_eq!(
            (sheet.sheet.as_str(), sheet.layout, sheet.header_row),
            (format!("flat_{}", form.code).as_str(), Layout::Flat, 1)
        );
        assert_eq!(
            sheet.columns.get("code").map(String::as_str),
            Some(column_of(&form, "code").as_str())
        );
        assert_eq!(records(&parsed), input, "form {}", form.code);
        assert_eq!(parsed.rows[0].row_number, 2);
    }
}

/// The records with the cells left out because they held our formula derived again by the
/// form's rules, as the caller's validation does. Only the derived fields `like` holds are
/// taken (the fixtures are export fixtures: the rules would fill in other fields too, and a
/// derived field the fixture leaves empty had no formula).
fn checked(form: &Form, parsed: &Parsed, like: &[Record]) -> Vec<Record> {
    let ctx = crate::forms::validate::Context {
        cutoff_year: 2026,
        for_submission: false,
    };
    records(parsed)
        .into_iter()
        .zip(like)
        .map(|(mut r, like)| {
            let mut full = r.clone();
            crate::forms::validate::check(form, &mut full, ctx);
            let section = match r.get("section") {
                Some(Value::Code(s)) => Some(s.clone()),
                _ => None,
            };
            for d in form.derived(section.as_deref()) {
                if !r.contains_key(d.field)
                    && like.contains_key(d.field)
                    && let Some(v) = full.get(d.field)
                {
                    r.insert(d.field.to_string(), v.clone());
                }
            }
            r
        })
        .collect()
}

#[test]
fn official_export_reads_back_to_identical_records() {
    for (form, input) in round_trip_cases() {
        let bytes = write::official_form(&form, &header(), input.clone()).unwrap();
        let parsed = read(&form, &bytes, "mau.xlsx").unwrap();
        no_errors(&parsed);
        assert_eq!(parsed.sheets[0].layout, Layout::Official);
        assert_eq!(parsed.sheets[0].header_row, 10, "the hidden key row");
        assert_eq!(checked(&form, &parsed, &input), input, "form {}", form.code);
    }
    // Row numbers are Excel's: 01a data starts under "I. Đất" on row 15.
    let form = form("01a");
    let bytes = write::official_form(&form, &header(), records_01a()).unwrap();
    let parsed = read(&form, &bytes, "mau.xlsx").unwrap();
    let numbers: Vec<u32> = parsed.rows.iter().map(|r| r.row_number).collect();
    // The car is on row 32: section II's empty table (key row, three head rows,
    // section row, subtotal) and III's head lie between.
    assert_eq!(numbers, vec![15, 16, 17, 32]);
}

#[test]
fn records_without_a_section_come_back_without_one() {
    let form = form("01a");
    let mut input = records_01a();
    let mut stray = input[0].clone();
    stray.remove("section");
    // Without a section it prints in the table of the columns every section has.
    for key in ["area_office", "area_public_service", "land_certificate_no"] {
        stray.remove(key);
    }
    stray.insert("code".into(), Value::Text("X-1".into()));
    input.push(stray.clone());
    let bytes = write::official_form(&form, &header(), input.clone()).unwrap();
    let parsed = read(&form, &bytes, "mau.xlsx").unwrap();
    assert_eq!(checked(&form, &parsed, &input).last(), Some(&stray));
}

/// Rewrites the first worksheet of an xlsx: `edit` gets its XML.
fn edit_sheet(bytes: &[u8], edit: impl Fn(String) -> String) -> Vec<u8> {
    use std::io::Read;
    let mut zin = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    let mut parts = Vec::new();
    for i in 0..zin.len() {
        let mut f = zin.by_index(i).unwrap();
        let mut data = Vec::new();
        f.read_to_end(&mut data).unwrap();
        parts.push((f.name().unwrap().to_string(), data));
    }
    for (name, data) in &mut parts {
        if name == "xl/worksheets/sheet1.xml" {
            *data = edit(String::from_utf8(data.clone()).unwrap()).into_bytes();
        }
    }
    let refs: Vec<(&str, &[u8])> = parts
        .iter()
        .map(|(n, d)| (n.as_str(), d.as_slice()))
        .collect();
    zip_of(&refs)
}

/// Sets the value saved in cell `cell` (`G15`), formula or not.
fn set_value(xml: String, cell: &str, value: &str) -> String {
    let start = xml
        .find(&format!("<c r=\"{cell}\""))
        .unwrap_or_else(|| panic!("cell {cell}"));
    let end = start + xml[start..].find("</c>").unwrap();
    let v0 = start + xml[start..end].find("<v>").unwrap() + 3;
    let v1 = start + xml[start..end].find("</v>").unwrap();
    format!("{}{value}{}", &xml[..v0], &xml[v1..])
}

/// A derived cell that still holds our formula follows its inputs, even when the value
/// saved with it is stale (an editor that does not recalculate) or missing (openpyxl);
/// a value typed over it is kept, for the rules to judge.
#[test]
fn a_derived_cell_holding_our_formula_is_derived_again_from_its_inputs() {
    let form = form("01a");
    let input = records_01a();
    let bytes = write::official_form(&form, &header(), input.clone()).unwrap();
    let parsed = read(&form, &bytes, "mau.xlsx").unwrap();
    let letter = |key: &str| parsed.sheets[0].columns.get(key).cloned().unwrap();
    let counted = letter("qty_counted");
    let (cost, remaining) = (letter("original_cost"), letter("remaining_value"));
    // The first land record sits on row 15; its derived cells are our formulas.
    let xml = {
        let mut zin = zip::ZipArchive::new(Cursor::new(bytes.as_slice())).unwrap();
        let mut s = String::new();
        std::io::Read::read_to_string(
            &mut zin.by_name("xl/worksheets/sheet1.xml").unwrap(),
            &mut s,
        )
        .unwrap();
        s
    };
    assert!(xml.contains(&format!("<f>{}15-{counted}15</f>", letter("qty_books"))));

    // Counted 1,000 m² instead of 1,250.5; cost 5 billion; the cached results left stale.
    let stale = edit_sheet(&bytes, |x| {
        let x = set_value(x, &format!("{counted}15"), "1000");
        set_value(x, &format!("{cost}15"), "5000000000")
    });
    let parsed = read(&form, &stale, "mau.xlsx").unwrap();
    no_errors(&parsed);
    let first = &parsed.rows[0].record;
    for key in ["qty_difference", "remaining_value", "original_cost_other"] {
        assert!(!first.contains_key(key), "{key} is left to be derived");
    }
    let records = checked(&form, &parsed, &input);
    assert_eq!(
        records[0].get("qty_counted"),
        Some(&Value::Milli(1_000_000))
    );
    let books = match input[0].get("qty_books") {
        Some(Value::Milli(m)) => *m,
        v => panic!("{v:?}"),
    };
    assert_eq!(
        records[0].get("qty_difference"),
        Some(&Value::Milli(books - 1_000_000))
    );
    let depreciation = match input[0].get("depreciation") {
        Some(Value::Money(m)) => *m,
        v => panic!("{v:?}"),
    };
    assert_eq!(
        records[0].get("remaining_value"),
        Some(&Value::Money(5_000_000_000 - depreciation))
    );
    assert_eq!(records[1..], input[1..], "the other rows are untouched");

    // openpyxl saves formulas without results.
    let bare = edit_sheet(&stale, |x| {
        let mut out = String::new();
        let mut rest = x.as_str();
        while let Some(i) = rest.find("</f><v>") {
            out.push_str(&rest[..i + 4]);
            let after = &rest[i + 4..];
            rest = &after[after.find("</v>").unwrap() + 4..];
        }
        out.push_str(rest);
        out
    });
    assert!(!bare.is_empty());
    let parsed = read(&form, &bare, "mau.xlsx").unwrap();
    no_errors(&parsed);
    assert_eq!(checked(&form, &parsed, &input)[0], records[0]);

    // A contradicting value typed over the formula is the user's: kept, and refused by the rules.
    let typed = edit_sheet(&stale, |x| {
        let cell = format!("{remaining}15");
        let start = x.find(&format!("<c r=\"{cell}\"")).unwrap();
        let end = start + x[start..].find("</c>").unwrap() + 4;
        let style = x[start..end]
            .split(" s=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        format!(
            "{}<c r=\"{cell}\" s=\"{style}\"><v>123</v></c>{}",
            &x[..start],
            &x[end..]
        )
    });
    let parsed = read(&form, &typed, "mau.xlsx").unwrap();
    let mut first = parsed.rows[0].record.clone();
    assert_eq!(first.get("remaining_value"), Some(&Value::Money(123)));
    assert!(
        !first.contains_key("original_cost_other"),
        "the untouched formula cell is still derived"
    );
    let issues = crate::forms::validate::check(
        &form,
        &mut first,
        crate::forms::validate::Context {
            cutoff_year: 2026,
            for_submission: false,
        },
    );
    assert!(
        issues.iter().any(|i| i.field == "remaining_value"),
        "{issues:#?}"
    );
}

/// Only our own formula, at its own place, is recomputed: another formula in a derived
/// cell gives its cached value like any formula cell.
#[test]
fn another_formula_in_a_derived_cell_is_read_as_its_value() {
    let form = form("01a");
    let bytes = write::official_form(&form, &header(), records_01a()).unwrap();
    let parsed = read(&form, &bytes, "mau.xlsx").unwrap();
    let letter = |key: &str| parsed.sheets[0].columns.get(key).cloned().unwrap();
    let (books, counted) = (letter("qty_books"), letter("qty_counted"));
    // The formula of the row below: not this row's own.
    let moved = edit_sheet(&bytes, |x| {
        x.replace(
            &format!("<f>{books}15-{counted}15</f>"),
            &format!("<f>{books}16-{counted}16</f>"),
        )
    });
    let parsed = read(&form, &moved, "mau.xlsx").unwrap();
    assert!(parsed.rows[0].record.contains_key("qty_difference"));
    assert!(!parsed.rows[0].record.contains_key("remaining_value"));
}

#[test]
fn an_official_sheet_saved_as_csv_still_reads_as_the_official_layout() {
    let form = form("02a");
    let bytes = write::official_form(&form, &header(), records_02a()).unwrap();
    // What "Save as CSV" keeps: every cell's displayed text, the hidden row included.
    let mut wb =
        calamine::open_workbook_from_rs::<calamine::Xlsx<_>, _>(Cursor::new(bytes)).unwrap();
    use calamine::Reader;
    let range = wb.worksheet_range("02a").unwrap();
    let mut csv = String::new();
    for row in range.rows() {
        let line: Vec<String> = row
            .iter()
            .map(|c| format!("\"{}\"", c.to_string().replace('"', "\"\"")))
            .collect();
        csv.push_str(&line.join(","));
        csv.push('\n');
    }
    let parsed = read(&form, csv.as_bytes(), "02a.csv").unwrap();
    no_errors(&parsed);
    assert_eq!(parsed.kind, FileKind::Csv);
    assert_eq!(parsed.sheets[0].layout, Layout::Official);
    assert_eq!(parsed.rows.len(), 2);
    assert_eq!(
        parsed.rows[0].record.get("length_km"),
        Some(&Value::Milli(2_350))
    );
}

// ── CSV ─────────────────────────────────────────────────────────────────────

#[test]
fn headers_a_vietnamese_ledger_uses_name_their_fields_through_the_definitions_aliases() {
    let form = form("01a");
    let text = "Phần;Mã tài sản;Tên tài sản;Số lượng;Nguyên giá;Hao mòn lũy kế\n\
                IV;MT-1;Máy tính;2;30.000.000;12.000.000\n";
    let parsed = read(&form, text.as_bytes(), "so_tai_san.csv").unwrap();
    no_errors(&parsed);
    let r = &parsed.rows[0].record;
    assert_eq!(r.get("qty_counted"), Some(&Value::Milli(2_000)));
    assert_eq!(r.get("original_cost"), Some(&Value::Money(30_000_000)));
    assert_eq!(r.get("depreciation"), Some(&Value::Money(12_000_000)));
}

#[test]
fn an_unknown_header_is_answered_with_the_nearest_known_one() {
    let form = form("01a");
    let text =
        "Phần;Mã tài sản;Tên tài sản;Nguyen gia;Ghi chú thêm\nIV;MT-1;Máy tính;30.000.000;x\n";
    match read(&form, text.as_bytes(), "x.csv") {
        Err(ImportError::Columns { unknown, .. }) => {
            assert_eq!(unknown.len(), 2, "{unknown:?}");
            assert_eq!(unknown[0], "D «Nguyen gia» → «Nguyên giá - Tổng cộng»?");
            assert!(unknown[1].starts_with("E «Ghi chú thêm»"), "{unknown:?}");
        }
        other => panic!("expected a columns error, got {other:?}"),
    }
}

#[test]
fn csv_reads_vietnamese_numbers_labels_bom_and_either_separator() {
    let form = form("01a");
    let text = "\u{feff}Phần;Mã tài sản;Tên tài sản;Nguyên giá - Tổng cộng (đồng);Diện tích dùng làm trụ sở làm việc;Tình trạng sử dụng\n\
                I;D-1;Khu đất;1.234.567;1.250,5;Còn sử dụng được, đang sử dụng đúng mục đích\n";
    let parsed = read(&form, text.as_bytes(), "tai_san.csv").unwrap();
    no_errors(&parsed);
    assert_eq!(parsed.kind, FileKind::Csv);
    let r = &parsed.rows[0];
    assert_eq!((r.sheet.as_str(), r.row_number), ("tai_san.csv", 2));
    assert_eq!(
        r.record.get("original_cost"),
        Some(&Value::Money(1_234_567))
    );
    assert_eq!(r.record.get("area_office"), Some(&Value::Milli(1_250_500)));
    assert_eq!(r.record.get("usage_status"), Some(&Value::Code("1".into())));
    assert_eq!(r.record.get("section"), Some(&Value::Code("I".into())));

    let comma =
        "code,name,original_cost,note\nD-2,\"Nhà, kho\",\"2.000.000\",\"ghi \"\"chú\"\"\"\n";
    let parsed = read(&form, comma.as_bytes(), "x.csv").unwrap();
    no_errors(&parsed);
    assert_eq!(
        parsed.rows[0].record.get("name"),
        Some(&Value::Text("Nhà, kho".into()))
    );
    assert_eq!(
        parsed.rows[0].record.get("original_cost"),
        Some(&Value::Money(2_000_000))
    );
    assert_eq!(
        parsed.rows[0].record.get("note"),
        Some(&Value::Text("ghi \"chú\"".into()))
    );
}

#[test]
fn csv_in_a_legacy_encoding_is_refused_naming_the_line() {
    let form = form("01a");
    // "Tài sản" in Windows-1258 / latin-1 bytes.
    let bytes = b"code;name\nA-1;Nh\xe0 kho\nA-2;T\xe0i s\xe3n\n";
    assert_eq!(
        read(&form, bytes, "ts.csv"),
        Err(ImportError::Encoding { line: 2 })
    );
    let utf16 = [0xFF, 0xFE, b'c', 0, b'o', 0];
    assert_eq!(
        read(&form, &utf16, "ts.txt"),
        Err(ImportError::Encoding { line: 1 })
    );
    let err = read(&form, bytes, "ts.csv").unwrap_err();
    assert!(err.message().vi.contains("dòng 2"));
}

#[test]
fn dates_are_read_from_text_and_from_date_serials() {
    let form = test_form();
    let d = NaiveDate::from_ymd_opt(2025, 12, 31).unwrap();
    let csv = "code;name;inspected_on\nT-1;A;31/12/2025\nT-2;B;2025-12-31\nT-3;C;31-12-2025\n";
    let parsed = read(&form, csv.as_bytes(), "d.csv").unwrap();
    no_errors(&parsed);
    for r in &parsed.rows {
        assert_eq!(r.record.get("inspected_on"), Some(&Value::Date(d)));
    }
    let bytes = flat_sheet(&["code", "name", "inspected_on"], |ws| {
        let fmt = Format::new().set_num_format("dd/mm/yyyy");
        ws.write_string(1, 0, "T-1").unwrap();
        ws.write_string(1, 1, "A").unwrap();
        ws.write_datetime_with_format(1, 2, ExcelDateTime::from_ymd(2025, 12, 31).unwrap(), &fmt)
            .unwrap();
        ws.write_string(2, 0, "T-2").unwrap();
        ws.write_string(2, 1, "B").unwrap();
        ws.write_string(2, 2, "31/12/2025").unwrap();
        ws.write_string(3, 0, "T-3").unwrap();
        ws.write_string(3, 1, "C").unwrap();
        ws.write_number(3, 2, 46022.0).unwrap();
    });
    let parsed = read(&form, &bytes, "d.xlsx").unwrap();
    assert_eq!(
        parsed.rows[0].record.get("inspected_on"),
        Some(&Value::Date(d))
    );
    assert_eq!(
        parsed.rows[1].record.get("inspected_on"),
        Some(&Value::Date(d))
    );
    // A bare number is not taken for a date.
    let e = &parsed.rows[2].errors[0];
    assert_eq!(
        (e.row, e.column_letter.as_str(), e.code.as_str()),
        (4, "C", "date")
    );
}

// ── Cells and errors ────────────────────────────────────────────────────────

#[test]
fn every_bad_cell_of_the_file_is_reported_with_its_position() {
    let form = form("01a");
    let bytes = flat_sheet(
        &[
            "code",
            "name",
            "original_cost",
            "year_in_use",
            "qty_books",
            "note",
        ],
        |ws| {
            ws.write_string(1, 0, "A-1").unwrap();
            ws.write_string(1, 1, "Bàn").unwrap();
            ws.write_number(1, 2, 10.5).unwrap(); // money with decimals
            ws.write_string(1, 3, "năm ngoái").unwrap();
            ws.write_string(2, 0, "A-2").unwrap();
            ws.write_string(2, 1, "Ghế").unwrap();
            ws.write_formula(2, 2, Formula::new("=1/0").set_result("#DIV/0!"))
                .unwrap();
            ws.write_number(2, 4, 1.2345).unwrap(); // four decimals
            ws.write_string(2, 5, "x".repeat(32_767)).unwrap();
            ws.write_string(3, 0, "A-3").unwrap();
            ws.write_string(3, 1, "Tủ").unwrap();
            ws.write_formula(3, 2, Formula::new("=1000*2").set_result("2000"))
                .unwrap();
        },
    );
    let parsed = read(&form, &bytes, "e.xlsx").unwrap();
    let found: Vec<(u32, &str, &str, &str)> = parsed
        .errors()
        .map(|e| {
            (
                e.row,
                e.column_letter.as_str(),
                e.field.as_str(),
                e.code.as_str(),
            )
        })
        .collect();
    assert_eq!(
        found,
        vec![
            (2, "C", "original_cost", "type"),
            (2, "D", "year_in_use", "type"),
            (3, "C", "original_cost", "cell_error"),
            (3, "E", "qty_books", "scale"),
            (3, "F", "note", "max_length"),
        ]
    );
    assert!(parsed.rows[1].errors[0].message.vi.contains("#DIV/0!"));
    // A formula's cached value is read like a typed one.
    assert_eq!(
        parsed.rows[2].record.get("original_cost"),
        Some(&Value::Money(2000))
    );
    assert!(parsed.rows[2].errors.is_empty());
    // The readable cells of a row with errors are still there.
    assert_eq!(
        parsed.rows[0].record.get("name"),
        Some(&Value::Text("Bàn".into()))
    );
    let json = serde_json::to_value(&parsed.rows[0].errors[0]).unwrap();
    assert_eq!(json["column_letter"], "C");
    assert_eq!(
        json["message"]["vi"],
        "«Nguyên giá - Tổng cộng» phải là số nguyên"
    );
}

#[test]
fn a_cell_longer_than_excel_allows_is_a_cell_error() {
    let form = form("01a");
    let csv = format!("code;name;note\nA-1;{};ok\n", "x".repeat(40_000));
    let parsed = read(&form, csv.as_bytes(), "long.csv").unwrap();
    let e = &parsed.rows[0].errors[0];
    assert_eq!(
        (e.column_letter.as_str(), e.code.as_str()),
        ("B", "too_long")
    );
    assert_eq!(
        parsed.rows[0].record.get("note"),
        Some(&Value::Text("ok".into()))
    );
}

#[test]
fn the_clear_marker_lists_fields_to_clear_and_blank_cells_are_absent() {
    let form = form("01a");
    let csv = "code;name;note;location\nA-1;Bàn;<xóa>;\n";
    let parsed = read(&form, csv.as_bytes(), "c.csv").unwrap();
    let r = &parsed.rows[0];
    assert_eq!(r.clears, vec!["note".to_string()]);
    assert!(!r.record.contains_key("note") && !r.record.contains_key("location"));
}

#[test]
fn a_labels_row_under_the_keys_row_is_not_data() {
    let form = form("01a");
    let csv = "code;name;original_cost\nMã tài sản;Tên tài sản;Nguyên giá - Tổng cộng\nA-1;Bàn;15000000\n";
    let parsed = read(&form, csv.as_bytes(), "k.csv").unwrap();
    no_errors(&parsed);
    assert_eq!(parsed.rows.len(), 1);
    assert_eq!(parsed.rows[0].row_number, 3);
}

#[test]
fn a_header_may_sit_under_a_title_and_blank_rows_are_skipped() {
    let form = form("02a");
    let csv = "DANH SÁCH ĐƯỜNG\n\nMã tài sản,Tên tuyến đường,Chiều dài (km)\n\nDB-1,Đường A,\"2,35\"\n,,\nDB-2,Đường B,0.5\n";
    let parsed = read(&form, csv.as_bytes(), "d.csv").unwrap();
    no_errors(&parsed);
    assert_eq!(parsed.sheets[0].header_row, 3);
    let got: Vec<(u32, Option<&Value>)> = parsed
        .rows
        .iter()
        .map(|r| (r.row_number, r.record.get("length_km")))
        .collect();
    assert_eq!(
        got,
        vec![
            (5, Some(&Value::Milli(2_350))),
            (7, Some(&Value::Milli(500)))
        ]
    );
}

// ── File-level refusals ─────────────────────────────────────────────────────

#[test]
fn random_bytes_an_empty_file_and_a_plain_zip_are_refused() {
    let form = form("01a");
    assert_eq!(
        read(&form, &noise(10_000, 7), "x.xlsx"),
        Err(ImportError::NotASpreadsheet)
    );
    assert_eq!(read(&form, &[], "x.xlsx"), Err(ImportError::Empty));
    let mut fake = b"PK\x03\x04".to_vec();
    fake.extend(noise(5_000, 9));
    assert_eq!(
        read(&form, &fake, "x.xlsx"),
        Err(ImportError::NotASpreadsheet)
    );
    let plain = zip_of(&[("hello.txt", b"xin chao")]);
    assert_eq!(
        read(&form, &plain, "x.xlsx"),
        Err(ImportError::NotASpreadsheet)
    );
    let ods = zip_of(&[
        (
            "mimetype",
            b"application/vnd.oasis.opendocument.spreadsheet",
        ),
        ("content.xml", b"<x/>"),
    ]);
    assert_eq!(
        read(&form, &ods, "x.ods"),
        Err(ImportError::Unsupported { format: "ods" })
    );
    let xls = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, 0, 0];
    assert_eq!(
        read(&form, &xls, "x.xls"),
        Err(ImportError::Unsupported { format: "xls" })
    );
    let broken = zip_of(&[
        ("[Content_Types].xml", b"<Types/>"),
        ("xl/workbook.xml", b"<not xml"),
    ]);
    assert!(matches!(
        read(&form, &broken, "x.xlsx"),
        Err(ImportError::Unreadable { .. })
    ));
}

#[test]
fn a_zip_bomb_is_refused_from_its_declared_sizes() {
    let form = form("01a");
    let zeros = vec![0u8; 3 * 1024 * 1024];
    let bomb = zip_of(&[
        ("xl/workbook.xml", b"<workbook/>"),
        ("xl/worksheets/sheet1.xml", &zeros),
    ]);
    assert!(
        bomb.len() < 20_000,
        "3 MiB of zeros compress to {} bytes",
        bomb.len()
    );
    let small = Limits {
        max_bytes: 2 * 1024 * 1024,
        ..Limits::default()
    };
    assert!(matches!(
        read_with(&form, &bomb, "bomb.xlsx", &small),
        Err(ImportError::TooLarge { limit, .. }) if limit == small.max_bytes
    ));
    let strict = Limits {
        max_ratio: 100,
        ..Limits::default()
    };
    let err = read_with(&form, &bomb, "bomb.xlsx", &strict).unwrap_err();
    assert!(
        matches!(err, ImportError::SuspiciousArchive { .. }),
        "{err:?}"
    );
    assert!(err.is_too_large());
    let crowded: Vec<(String, Vec<u8>)> = (0..20).map(|i| (format!("x/{i}.xml"), vec![])).collect();
    let parts: Vec<(&str, &[u8])> = crowded
        .iter()
        .map(|(n, d)| (n.as_str(), d.as_slice()))
        .collect();
    let few = Limits {
        max_parts: 10,
        ..Limits::default()
    };
    assert!(matches!(
        read_with(&form, &zip_of(&parts), "many.xlsx", &few),
        Err(ImportError::SuspiciousArchive { .. })
    ));
}

#[test]
fn a_csv_larger_than_the_limit_is_refused_before_decoding() {
    let form = form("01a");
    let small = Limits {
        max_bytes: 10,
        ..Limits::default()
    };
    assert_eq!(
        read_with(&form, b"code;name\nA;B\n", "x.csv", &small),
        Err(ImportError::TooLarge {
            bytes: 14,
            limit: 10
        })
    );
}

#[test]
fn a_workbook_without_a_recognisable_header_names_its_sheets() {
    let form = form("01a");
    let bytes = workbook("Ghi chú", |ws| {
        ws.write_string(0, 0, "Bảng này không có tiêu đề").unwrap();
        ws.write_string(1, 0, "A-1").unwrap();
        ws.write_string(1, 1, "Bàn").unwrap();
    });
    assert_eq!(
        read(&form, &bytes, "x.xlsx"),
        Err(ImportError::NoHeader {
            sheets: vec!["Ghi chú".into()]
        })
    );
    assert_eq!(
        read(&form, b"a;b\n1;2\n", "x.csv"),
        Err(ImportError::NoHeader {
            sheets: vec!["x.csv".into()]
        })
    );
}

#[test]
fn more_rows_than_the_limit_are_refused() {
    let form = form("02a");
    let many: Vec<Record> = (0..10)
        .map(|i| {
            let mut r = records_02a()[1].clone();
            r.insert("code".into(), Value::Text(format!("DB-{i}")));
            r
        })
        .collect();
    let bytes = write::flat(&form, many.clone()).unwrap();
    assert_eq!(
        read_with(&form, &bytes, "x.xlsx", &limits(5)),
        Err(ImportError::TooManyRows { limit: 5 })
    );
    assert_eq!(
        read_with(&form, &bytes, "x.xlsx", &limits(10))
            .unwrap()
            .rows
            .len(),
        10
    );
    let official = write::official_form(&form, &header(), many).unwrap();
    assert_eq!(
        read_with(&form, &official, "x.xlsx", &limits(9)),
        Err(ImportError::TooManyRows { limit: 9 })
    );
    let mut csv = "code;name\n".to_string();
    for i in 0..10 {
        csv.push_str(&format!("A-{i};B\n"));
    }
    assert_eq!(
        read_with(&form, csv.as_bytes(), "x.csv", &limits(3)),
        Err(ImportError::TooManyRows { limit: 3 })
    );
}

#[test]
fn a_declared_sheet_size_over_the_limit_is_refused_before_reading_rows() {
    let form = form("01a");
    let bytes = flat_sheet(&["code", "name"], |ws| {
        ws.write_string(5_000, 0, "A").unwrap();
    });
    assert_eq!(
        read_with(&form, &bytes, "x.xlsx", &limits(1_000)),
        Err(ImportError::TooManyRows { limit: 1_000 })
    );
}

#[test]
fn column_problems_are_reported_together() {
    let form = form("01a");
    let err = read(
        &form,
        b"code;ten_sai;original_cost;original_cost;note\n",
        "x.csv",
    )
    .unwrap_err();
    assert_eq!(
        err,
        ImportError::Columns {
            sheet: "x.csv".into(),
            missing: vec!["name".into()],
            unknown: vec!["B «ten_sai»".into()],
            repeated: vec!["original_cost".into()],
        }
    );
    assert!(err.message().vi.contains("thiếu cột bắt buộc name"));
}

#[test]
fn another_forms_file_is_refused() {
    let f02 = form("02a");
    let f01 = form("01a");
    let official = write::official_form(&f02, &header(), records_02a()).unwrap();
    assert_eq!(
        read(&f01, &official, "x.xlsx"),
        Err(ImportError::WrongForm {
            expected: "01a".into(),
            found: "02a".into()
        })
    );
    let flat = write::flat(&f02, records_02a()).unwrap();
    assert!(matches!(
        read(&f01, &flat, "x.xlsx"),
        Err(ImportError::WrongForm { .. })
    ));
}

#[test]
fn hidden_sheets_are_skipped() {
    let form = form("01a");
    let mut wb = Workbook::new();
    let hidden = wb.add_worksheet();
    hidden.set_name("cu").unwrap();
    hidden.write_string(0, 0, "code").unwrap();
    hidden.write_string(0, 1, "name").unwrap();
    hidden.write_string(1, 0, "OLD").unwrap();
    hidden.write_string(1, 1, "Cũ").unwrap();
    hidden.set_hidden(true);
    let ws = wb.add_worksheet();
    ws.set_name("moi").unwrap();
    ws.write_string(0, 0, "code").unwrap();
    ws.write_string(0, 1, "name").unwrap();
    ws.write_string(1, 0, "NEW").unwrap();
    ws.write_string(1, 1, "Mới").unwrap();
    ws.set_active(true);
    let bytes = wb.save_to_buffer().unwrap();
    let parsed = read(&form, &bytes, "x.xlsx").unwrap();
    assert_eq!(parsed.rows.len(), 1);
    assert_eq!(parsed.rows[0].sheet, "moi");
}

#[test]
fn damaged_workbooks_give_errors_never_panics() {
    let form = form("01a");
    let good = write::official_form(&form, &header(), records_01a()).unwrap();
    let rows = read(&form, &good, "good.xlsx").unwrap().rows.len();
    // A truncated workbook is never read.
    for cut in [10, good.len() / 3, good.len() / 2, good.len() - 10] {
        let outcome = read(&form, &good[..cut], "cut.xlsx");
        assert!(outcome.is_err(), "cut at {cut} of {} was read", good.len());
    }
    // A flipped byte is refused, or lands where nothing is read (the zip checks each part's
    // CRC): the rows are then the original ones, never fewer or more.
    let mut refused = 0;
    let spots = noise(400, 3);
    for (i, pair) in spots.chunks(4).enumerate() {
        let mut bad = good.clone();
        let at = (u32::from_le_bytes([pair[0], pair[1], pair[2], 0]) as usize) % bad.len();
        bad[at] ^= 0xA5 ^ pair[3];
        for outcome in [
            read(&form, &bad, "bad.xlsx"),
            read(&form, &bad[..bad.len() - i.min(bad.len() - 1)], "bad.csv"),
        ] {
            match outcome {
                Err(_) => refused += 1,
                Ok(parsed) => assert_eq!(parsed.rows.len(), rows, "byte {at} flipped"),
            }
        }
    }
    assert!(
        refused > 100,
        "only {refused} of 200 damaged files were refused"
    );
    // Text that is no CSV of ours.
    let text = noise(3_000, 11)
        .iter()
        .map(|b| b & 0x7F | 0x20)
        .collect::<Vec<_>>();
    assert!(read(&form, &text, "n.csv").is_err(), "random text was read");
}

#[test]
fn a_hundred_thousand_assets_stream_out_and_back_in_row_order() {
    let form = form("01a");
    let n = 100_000usize;
    // Generated lazily: the exporter pulls one record at a time.
    let assets = (0..n).map(|i| {
        let section = if i < n / 2 { "I" } else { "IV" };
        Record::from([
            ("section".to_string(), Value::Code(section.into())),
            ("code".to_string(), Value::Text(format!("TS-{i:06}"))),
            ("name".to_string(), Value::Text("Máy tính để bàn".into())),
            ("original_cost".to_string(), Value::Money(15_000_000)),
            ("usage_status".to_string(), Value::Code("1".into())),
        ])
    });
    let bytes = write::official_form(&form, &header(), assets).unwrap();
    let mut count = 0usize;
    let mut total = 0i64;
    let mut last_code = String::new();
    let scan = read_each(&form, &bytes, "big.xlsx", &Limits::default(), |row| {
        count += 1;
        if let Some(Value::Money(m)) = row.record.get("original_cost") {
            total += m;
        }
        if let Some(Value::Text(c)) = row.record.get("code") {
            last_code = c.clone();
        }
    })
    .unwrap();
    assert_eq!((scan.rows, count), (n, n));
    assert_eq!(total, 15_000_000 * n as i64);
    assert_eq!(last_code, "TS-099999");
}

/// The column letter a flat export gives a field.
fn column_of(form: &crate::forms::Form, key: &str) -> String {
    let i = form.flat_columns.iter().position(|k| k == key).unwrap_or(0) as u32;
    super::layout::column_letter(i)
}

// ── Hostile workbooks (issue 15) ────────────────────────────────────────────

#[test]
fn one_part_inflating_too_far_is_refused_even_when_a_stored_part_hides_the_total_ratio() {
    let form = form("01a");
    let strings = b"<si><t>a</t></si>".repeat(200_000);
    let bomb = zip_of(&[
        ("xl/workbook.xml", b"<workbook/>"),
        ("xl/sharedStrings.xml", &strings),
        ("xl/media/image1.bin", &noise(4 * 1024 * 1024, 7)),
    ]);
    let err = read_with(&form, &bomb, "x.xlsx", &Limits::default()).unwrap_err();
    assert!(
        matches!(&err, ImportError::SuspiciousArchive { detail } if detail.starts_with("xl/sharedStrings.xml")),
        "{err:?}"
    );
    assert!(err.is_too_large());
}

#[test]
fn shared_strings_beyond_the_cap_in_count_or_declared_count_are_refused_before_parsing() {
    let form = form("01a");
    let file = workbook("Sheet1", |ws| {
        for i in 0..50u32 {
            ws.write_string(i, 0, format!("text {i}")).unwrap();
        }
    });
    let few = Limits {
        max_shared_strings: 10,
        ..Limits::default()
    };
    let err = read_with(&form, &file, "x.xlsx", &few).unwrap_err();
    assert_eq!(err.code(), "too_many_strings", "{err:?}");
    assert!(err.is_too_large());
    // calamine would reserve room for the declared count: 4e9 strings is an abort, not an error.
    let declared = zip_of(&[
        ("xl/workbook.xml", b"<workbook/>"),
        (
            "xl/sharedStrings.xml",
            b"<sst xmlns=\"x\" count=\"1\" uniqueCount=\"4000000000\"><si><t>a</t></si></sst>",
        ),
    ]);
    let err = read_with(&form, &declared, "x.xlsx", &Limits::default()).unwrap_err();
    assert_eq!(
        err,
        ImportError::TooManyStrings {
            detail: "4000000000 > 500000".into()
        }
    );
    let big = Limits {
        max_shared_bytes: 1024,
        ..Limits::default()
    };
    let strings = format!("<sst>{}</sst>", "<si><t>ab</t></si>".repeat(100));
    let err = read_with(
        &form,
        &zip_of(&[
            ("xl/workbook.xml", b"<workbook/>"),
            ("xl/sharedStrings.xml", strings.as_bytes()),
        ]),
        "x.xlsx",
        &big,
    )
    .unwrap_err();
    assert_eq!(err.code(), "too_many_strings", "{err:?}");
}

#[test]
fn a_text_or_tag_longer_than_the_limit_is_refused_before_the_parser_holds_it() {
    let form = form("01a");
    let long_text = format!(
        "<worksheet><sheetData><row><c><is><t>{}</t></is></c></row></sheetData></worksheet>",
        "x".repeat(5000)
    );
    let long_tag = format!("<worksheet {}/>", "a".repeat(5000));
    let short = Limits {
        max_xml_token: 4096,
        ..Limits::default()
    };
    for part in [long_text, long_tag] {
        let file = zip_of(&[
            ("xl/workbook.xml", b"<workbook/>"),
            ("xl/worksheets/sheet1.xml", part.as_bytes()),
        ]);
        let err = read_with(&form, &file, "x.xlsx", &short).unwrap_err();
        assert!(
            matches!(&err, ImportError::SuspiciousArchive { detail } if detail.contains("over 4096 bytes")),
            "{err:?}"
        );
    }
}

#[test]
fn copy_rows_streams_only_the_sheets_read_and_a_csv_line_of_commas_costs_one_row() {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("Data").unwrap();
    ws.write_string(0, 0, "code").unwrap();
    ws.write_number(1, 2, 5.0).unwrap();
    let hidden = wb.add_worksheet();
    hidden.set_name("Ẩn").unwrap();
    hidden.write_string(5, 5, "secret").unwrap();
    hidden.set_hidden(true);
    let bytes = wb.save_to_buffer().unwrap();
    let mut seen = Vec::new();
    copy_rows(
        &bytes,
        "x.xlsx",
        &["Data".to_string(), "Ẩn".to_string()],
        &Limits::default(),
        |sheet, r, cells| {
            seen.push((sheet.to_string(), r, cells));
            true
        },
    )
    .unwrap();
    assert_eq!(
        seen,
        vec![
            ("Data".into(), 0, vec![(0, Copied::Text("code".into()))]),
            ("Data".into(), 1, vec![(2, Copied::Number(5.0))]),
        ]
    );
    let mut csv = b"code,name\nA,B\n".to_vec();
    csv.extend(std::iter::repeat_n(b',', 100_000));
    let mut rows = Vec::new();
    copy_rows(
        &csv,
        "x.csv",
        &["x.csv".to_string()],
        &Limits::default(),
        |_, r, cells| {
            rows.push((r, cells.len()));
            true
        },
    )
    .unwrap();
    assert_eq!(rows, vec![(0, 2), (1, 2), (2, 0)]);
}
