//! Issue 15, points 1 and 4: hostile uploads. Every file is built in `hostile_files.rs`; each must get
//! a clear answer, change nothing, and leave the service answering `/health`.

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};

use super::hostile_files::*;
use crate::{db_test, support::*};

/// Sets up a unit registered for type 02 (roads) and returns the admin token and the import path.
async fn import_path(app: &TestApp) -> (String, String) {
    let admin = app.admin().await;
    let campaign = app.campaign(&admin).await;
    let unit = app.unit(&admin, "1000001", "Trường A").await;
    app.register(&admin, campaign, unit, &["02"]).await;
    (
        admin,
        format!("/api/v1/campaigns/{campaign}/units/{unit}/imports"),
    )
}

/// Posts `bytes` as the import, asking for the annotated workbook when `annotated`.
async fn post(
    app: &TestApp,
    admin: &str,
    path: &str,
    ct: &str,
    bytes: Vec<u8>,
    annotated: bool,
) -> Res {
    let mut call = app.call("POST", path).token(admin).raw(ct, bytes);
    if annotated {
        call = call.header("accept", XLSX);
    }
    call.send().await
}

/// The service still answers, and nothing was written.
async fn still_healthy(app: &TestApp, admin: &str, path: &str) {
    app.call("GET", "/health").send().await.expect(200);
    let assets = path.replace("/imports", "/assets");
    let list = app
        .call("GET", &assets)
        .token(admin)
        .send()
        .await
        .expect(200)
        .json();
    assert_eq!(list["total"], 0, "nothing written");
}

/// The refusal's status, code and Vietnamese detail.
fn refusal(r: &Res) -> (u16, String, String) {
    let body = r.json();
    (
        r.status.as_u16(),
        body["errors"][0]["code"].as_str().unwrap_or("").to_string(),
        body["detail"].as_str().unwrap_or("").to_string(),
    )
}

/// A cell read back: sheet, 0-based row and column, text.
type Cell = (String, u32, u32, String);

/// Sheet names and every non-empty cell of an annotated workbook, as (sheet, row, col, text).
fn read_back(bytes: &[u8]) -> (Vec<String>, Vec<Cell>) {
    let mut wb: Xlsx<_> =
        calamine::open_workbook_from_rs(Cursor::new(bytes.to_vec())).expect("an xlsx");
    let names = wb.sheet_names().to_vec();
    let mut cells = Vec::new();
    for n in &names {
        let mut reader = wb.worksheet_cells_reader(n).unwrap();
        while let Some(c) = reader.next_cell().unwrap() {
            let (r, col) = c.get_position();
            let v: Data = c.get_value().clone().into();
            if !matches!(v, Data::Empty) {
                cells.push((n.clone(), r, col, v.to_string()));
            }
        }
    }
    (names, cells)
}

/// Whether the first sheet of an annotated workbook lists an error of `field` at `cell` of `sheet`.
fn errors_listed(cells: &[Cell], sheet: &str, cell: &str, field: &str) -> bool {
    let list = |r: u32, c: u32| {
        cells
            .iter()
            .find(|(s, row, col, _)| s == "Lỗi - Errors" && (*row, *col) == (r, c))
            .map(|(.., t)| t.as_str())
    };
    list(0, 4) == Some("Lỗi / Errors")
        && (1..=1000).any(|r| {
            list(r, 1) == Some(sheet) && list(r, 2) == Some(cell) && list(r, 3) == Some(field)
        })
}

db_test!(
    a_hidden_sheet_with_a_cell_at_xfd1048576_is_skipped_and_the_answer_is_annotated,
    |app| {
        let (admin, path) = import_path(&app).await;
        let hidden = Sheet {
            name: "Ẩn",
            hidden: true,
            rows: [
                row(1, &[text("A1", "x")]),
                row(1_048_576, &[text("XFD1048576", "y")]),
            ]
            .concat(),
        };
        let file = workbook(&[data_sheet(), hidden], &[]);
        assert!(file.len() < 4096, "a small file: {} bytes", file.len());
        let r = post(&app, &admin, &path, XLSX, file, true)
            .await
            .expect(422);
        assert_eq!(r.content_type(), XLSX);
        let (names, cells) = read_back(&r.body);
        assert_eq!(
            names,
            vec!["Lỗi - Errors".to_string(), "flat_02a".to_string()],
            "the list of errors, then the copy; the hidden sheet is not copied"
        );
        assert!(
            errors_listed(&cells, "flat_02a", "C2", "original_cost"),
            "{cells:?}"
        );
        assert!(
            cells
                .iter()
                .any(|(_, r, c, t)| (*r, *c) == (1, 1) && t == "Đường A")
        );
        still_healthy(&app, &admin, &path).await;
    }
);

db_test!(
    a_cell_far_down_a_visible_sheet_is_refused_as_too_many_rows_before_anything_is_kept,
    |app| {
        let (admin, path) = import_path(&app).await;
        for (name, annotated) in [("flat_02a", false), ("Ghi chú", true)] {
            let mut far = Sheet {
                name,
                hidden: false,
                rows: row(1_048_576, &[text("XFD1048576", "y")]),
            };
            let sheets = if name == "flat_02a" {
                let mut data = data_sheet();
                data.rows.push_str(&far.rows);
                vec![data]
            } else {
                far.rows = [row(1, &[text("A1", "Ghi chú")]), far.rows].concat();
                vec![data_sheet(), far]
            };
            let r = post(&app, &admin, &path, XLSX, workbook(&sheets, &[]), annotated).await;
            let (status, code, detail) = refusal(&r);
            assert_eq!((status, code.as_str()), (413, "too_many_rows"), "{detail}");
            assert!(detail.contains("200000 dòng dữ liệu"), "{detail}");
        }
        still_healthy(&app, &admin, &path).await;
    }
);

db_test!(
    a_cell_reference_beyond_excels_limits_is_refused_naming_it,
    |app| {
        let (admin, path) = import_path(&app).await;
        for reference in ["XFE2", "A1048577"] {
            let mut sheet = data_sheet();
            sheet.rows.push_str(&row(2, &[text(reference, "z")]));
            let r = post(&app, &admin, &path, XLSX, workbook(&[sheet], &[]), true).await;
            let (status, code, detail) = refusal(&r);
            assert_eq!(
                (status, code.as_str()),
                (422, "cell_out_of_range"),
                "{detail}"
            );
            assert!(
                detail.starts_with("Trang «flat_02a» có ô nằm ngoài giới hạn của Excel"),
                "{detail}"
            );
        }
        still_healthy(&app, &admin, &path).await;
    }
);

db_test!(
    millions_of_tiny_shared_strings_hidden_behind_a_stored_part_are_refused,
    |app| {
        let (admin, path) = import_path(&app).await;
        // The file: 1,800,000 one-letter strings (31 MB) deflate to some 75 KB; one stored
        // megabyte of noise brings the archive's total ratio down to 30.
        let file = tiny_shared_strings(1_800_000);
        assert!(file.len() < 2 * 1024 * 1024, "{} bytes", file.len());
        let r = post(&app, &admin, &path, XLSX, file, true).await;
        let (status, code, detail) = refusal(&r);
        assert_eq!(
            (status, code.as_str()),
            (413, "suspicious_archive"),
            "{detail}"
        );
        assert!(detail.contains("xl/sharedStrings.xml"), "{detail}");
        // Distinct strings that compress like real ones are stopped by their count.
        let file = distinct_shared_strings(500_001);
        let r = post(&app, &admin, &path, XLSX, file, false).await;
        let (status, code, detail) = refusal(&r);
        assert_eq!(
            (status, code.as_str()),
            (413, "too_many_strings"),
            "{detail}"
        );
        assert!(detail.contains("500001 > 500000"), "{detail}");
        // A declared count the parser would reserve room for before reading a string.
        let file = declared_shared_strings(4_000_000_000);
        let r = post(&app, &admin, &path, XLSX, file, true).await;
        assert_eq!(refusal(&r).1, "too_many_strings");
        still_healthy(&app, &admin, &path).await;
    }
);

db_test!(
    a_cell_text_of_megabytes_is_refused_before_the_parser_holds_it,
    |app| {
        let (admin, path) = import_path(&app).await;
        let r = post(
            &app,
            &admin,
            &path,
            XLSX,
            long_cell_text(1_536 * 1024),
            true,
        )
        .await;
        let (status, code, detail) = refusal(&r);
        assert_eq!(
            (status, code.as_str()),
            (413, "suspicious_archive"),
            "{detail}"
        );
        assert!(detail.contains("xl/worksheets/sheet1.xml"), "{detail}");
        still_healthy(&app, &admin, &path).await;
    }
);

db_test!(
    a_csv_line_of_a_million_commas_comes_back_annotated_in_one_row,
    |app| {
        let (admin, path) = import_path(&app).await;
        let file = csv_of_commas(1_500_000);
        let r = post(&app, &admin, &path, "text/csv", file, true)
            .await
            .expect(422);
        assert_eq!(r.content_type(), XLSX);
        let (names, cells) = read_back(&r.body);
        assert_eq!(
            names,
            vec!["Lỗi - Errors".to_string(), "upload.csv".to_string()]
        );
        assert!(
            errors_listed(&cells, "upload.csv", "C2", "original_cost"),
            "{cells:?}"
        );
        assert!(
            cells.iter().all(|(_, r, ..)| *r < 2),
            "{} cells",
            cells.len()
        );
        still_healthy(&app, &admin, &path).await;
    }
);

db_test!(
    a_file_of_bad_rows_lists_the_first_thousand_problems_and_counts_them_all,
    |app| {
        let (admin, path) = import_path(&app).await;
        let file = csv_of_bad_rows(1_500);
        let r = post(&app, &admin, &path, "text/csv", file.clone(), false)
            .await
            .expect(422);
        let body = r.json();
        assert_eq!(body["report"]["error_count"], 3_000);
        assert_eq!(body["report"]["errors"].as_array().unwrap().len(), 1_000);
        assert_eq!(body["errors"].as_array().unwrap().len(), 1_000);
        let r = post(&app, &admin, &path, "text/csv", file, true)
            .await
            .expect(422);
        let (_, cells) = read_back(&r.body);
        let list: Vec<&Cell> = cells.iter().filter(|c| c.0 == "Lỗi - Errors").collect();
        assert_eq!(
            list.iter().filter(|(_, r, c, _)| *r > 0 && *c == 2).count(),
            1_000,
            "the 1,000 listed problems, each with its cell"
        );
        assert!(
            list.iter().any(|(.., t)| t.contains("2000")),
            "and how many more"
        );
        still_healthy(&app, &admin, &path).await;
    }
);

db_test!(
    an_import_beyond_one_per_unit_or_two_in_all_is_refused_at_once_with_retry_after,
    |app| {
        let (admin, path) = import_path(&app).await;
        let unit: i64 = path.split('/').nth(6).unwrap().parse().unwrap();
        let file =
            b"code;name;original_cost;usage_status;length_km\nDB-1;A;1.000.000;1;1\n".to_vec();
        let busy = app.state.imports.try_enter(unit).expect("the gate is open");
        let r = post(&app, &admin, &path, "text/csv", file.clone(), false).await;
        assert_eq!(r.status.as_u16(), 429);
        assert_eq!(r.content_type(), "application/problem+json");
        assert_eq!(r.headers["retry-after"], "10");
        assert!(
            r.json()["detail"]
                .as_str()
                .unwrap()
                .starts_with("Đơn vị đang nhập một tệp khác"),
            "{:?}",
            r.json()
        );
        drop(busy);
        let others = (
            app.state.imports.try_enter(unit + 1000).unwrap(),
            app.state.imports.try_enter(unit + 1001).unwrap(),
        );
        let r = post(&app, &admin, &path, "text/csv", file.clone(), false).await;
        assert_eq!(r.status.as_u16(), 503);
        assert_eq!(r.headers["retry-after"], "10");
        assert!(
            r.json()["detail"]
                .as_str()
                .unwrap()
                .starts_with("Máy chủ đang nhập 2 tệp khác")
        );
        drop(others);
        assert_eq!(app.state.imports.running(), 0);
        post(&app, &admin, &path, "text/csv", file, false)
            .await
            .expect(200);
        assert_eq!(app.state.imports.running(), 0, "the permit is given back");
        app.call("GET", "/health").send().await.expect(200);
    }
);
