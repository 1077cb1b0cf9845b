//! Imports: exports round-tripped into an empty unit, bad and hostile files refused with every
//! problem listed, concurrent imports, and official forms edited in Excel read back or annotated.

use std::io::{Cursor, Write};

use calamine::{Data, Reader, Xlsx};
use serde_json::{Value, json};

use super::{XLSX, cells, demo_unit, find};
use crate::{db_test, support::*};

fn strip(list: &Value) -> Vec<Value> {
    let mut items: Vec<Value> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            let mut a = a.clone();
            for k in ["id", "unit_id", "created_at", "updated_at", "version"] {
                a.as_object_mut().unwrap().remove(k);
            }
            a
        })
        .collect();
    items.sort_by_key(|a| a["code"].as_str().unwrap().to_string());
    items
}

async fn round_trip(app: &TestApp, admin: &str, campaign: i64, from: i64, form: &str, flat: bool) {
    let types: Vec<&str> = vec![&form[..2]];
    let code = format!("{}{}", if flat { "19" } else { "18" }, &form[..2]);
    let to = app
        .unit(admin, &format!("{code}000"), &format!("Đơn vị nhận {form}"))
        .await;
    app.register(admin, campaign, to, &types).await;
    let path = if flat {
        format!("{form}/flat.xlsx")
    } else {
        format!("{form}.xlsx")
    };
    let file = app
        .call(
            "GET",
            &format!("/api/v1/campaigns/{campaign}/units/{from}/forms/{path}"),
        )
        .token(admin)
        .send()
        .await
        .expect(200)
        .body;
    let report = app
        .call(
            "POST",
            &format!("/api/v1/campaigns/{campaign}/units/{to}/imports"),
        )
        .token(admin)
        .raw(XLSX, file.clone())
        .send()
        .await
        .expect(200)
        .json();
    assert_eq!(report["errors"], json!([]));
    let original = app
        .call(
            "GET",
            &format!(
                "/api/v1/campaigns/{campaign}/units/{from}/assets?asset_type={}&per_page=500",
                &form[..2]
            ),
        )
        .token(admin)
        .send()
        .await
        .json();
    let copy = app
        .call(
            "GET",
            &format!("/api/v1/campaigns/{campaign}/units/{to}/assets?per_page=500"),
        )
        .token(admin)
        .send()
        .await
        .json();
    assert_eq!(
        report["created"].as_u64().unwrap(),
        original["total"].as_u64().unwrap()
    );
    assert_eq!(
        strip(&copy),
        strip(&original),
        "form {form} (flat: {flat}) round-trips exactly"
    );
    let t1 = app
        .call(
            "GET",
            &format!("/api/v1/campaigns/{campaign}/units/{from}/totals"),
        )
        .token(admin)
        .send()
        .await
        .json();
    let t2 = app
        .call(
            "GET",
            &format!("/api/v1/campaigns/{campaign}/units/{to}/totals"),
        )
        .token(admin)
        .send()
        .await
        .json();
    let of = |t: &Value| {
        t["types"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["form_code"] == form)
            .cloned()
            .unwrap()
    };
    assert_eq!(of(&t1), of(&t2));
    // The same file again changes nothing.
    let again = app
        .call(
            "POST",
            &format!("/api/v1/campaigns/{campaign}/units/{to}/imports"),
        )
        .token(admin)
        .raw(XLSX, file)
        .send()
        .await
        .expect(200)
        .json();
    assert_eq!(
        (again["created"].as_u64(), again["updated"].as_u64()),
        (Some(0), Some(0))
    );
    assert_eq!(again["unchanged"], report["created"]);
    let after = app
        .call(
            "GET",
            &format!("/api/v1/campaigns/{campaign}/units/{to}/assets?per_page=500"),
        )
        .token(admin)
        .send()
        .await
        .json();
    assert!(
        after["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["version"] == 1),
        "no version bumped"
    );
}

db_test!(exports_import_back_into_an_empty_unit_exactly, |app| {
    let admin = app.admin().await;
    let campaign = app.demo().await;
    let vanphong = demo_unit(&app, &admin, "1109301").await;
    let kinhte = demo_unit(&app, &admin, "1109302").await;
    let vanhoa = demo_unit(&app, &admin, "1109303").await;
    for (unit, form) in [(vanphong, "01a"), (kinhte, "02a"), (vanhoa, "18a")] {
        round_trip(&app, &admin, campaign, unit, form, false).await;
        round_trip(&app, &admin, campaign, unit, form, true).await;
    }
});

fn csv(rows: &[&str]) -> Vec<u8> {
    let mut out = Vec::new();
    for r in rows {
        writeln!(out, "{r}").unwrap();
    }
    out
}

db_test!(a_bad_file_lists_every_bad_cell_and_imports_nothing, |app| {
    let admin = app.admin().await;
    let campaign = app.campaign(&admin).await;
    let unit = app.unit(&admin, "1000001", "Trường A").await;
    app.register(&admin, campaign, unit, &["02"]).await;
    let file = csv(&[
        "code;name;original_cost;usage_status;price_basis;length_km;year_in_use",
        "DB-1;Đường A;1.250.000.000;1;actual;1,25;2018",
        "DB-2;Đường B;abc;1;actual;0,5;2018",
        "DB-3;Đường C;1;1;actual;0,7;2030",
        "DB-1;Đường trùng;5.000.000;1;actual;0,1;2018",
        "DB-4;Đường D;7.000.000;9;actual;0,1;03/05/2018",
    ]);
    let path = format!("/api/v1/campaigns/{campaign}/units/{unit}/imports");
    let res = app
        .call("POST", &path)
        .token(&admin)
        .raw("text/csv", file.clone())
        .send()
        .await
        .problem(422, "import-rejected");
    assert_eq!(res.content_type(), "application/problem+json");
    let body = res.json();
    let errors = body["report"]["errors"].as_array().unwrap();
    let mut found: Vec<(u64, String, String)> = errors
        .iter()
        .map(|e| {
            (
                e["row"].as_u64().unwrap(),
                e["column_letter"].as_str().unwrap().to_string(),
                e["code"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    found.sort();
    assert_eq!(
        found,
        vec![
            (3, "C".into(), "type".into()),
            (4, "C".into(), "infrastructure_conventional_price".into()),
            (4, "G".into(), "year_in_use_not_after_cutoff".into()),
            (5, "A".into(), "duplicate_in_file".into()),
            (6, "D".into(), "option".into()),
            (6, "G".into(), "type".into()),
        ]
    );
    assert!(body["errors"][0]["field"].as_str().unwrap().contains('!'));
    let list = app
        .call(
            "GET",
            &format!("/api/v1/campaigns/{campaign}/units/{unit}/assets"),
        )
        .token(&admin)
        .send()
        .await
        .json();
    assert_eq!(list["total"], 0, "nothing written");
    // The user's workbook comes back with an error column.
    let annotated = app
        .call("POST", &path)
        .token(&admin)
        .header("accept", XLSX)
        .raw("text/csv", file)
        .send()
        .await
        .expect(422);
    assert_eq!(annotated.content_type(), XLSX);
    // First a sheet listing every error, each with a link to its cell; then the copy, every
    // cell at its own address.
    let c = cells(&annotated.body);
    assert!(find(&c, "Lỗi / Errors").is_some());
    let text = |row: u32, col: u32| {
        c.iter()
            .find(|(r, k, _)| (*r, *k) == (row, col))
            .map(|(_, _, d)| d.to_string())
            .unwrap_or_default()
    };
    let listed: Vec<(String, String, String)> = (1..=6)
        .map(|r| (text(r, 1), text(r, 2), text(r, 3)))
        .collect();
    for (cell, field) in [
        ("C3", "original_cost"),
        ("C4", "original_cost"),
        ("G4", "year_in_use"),
        ("A5", "code"),
        ("D6", "usage_status"),
        ("G6", "year_in_use"),
    ] {
        assert!(
            listed.contains(&("upload.csv".into(), cell.into(), field.into())),
            "{cell} {field} in {listed:?}"
        );
    }
    let mut wb: Xlsx<_> =
        calamine::open_workbook_from_rs(Cursor::new(annotated.body.clone())).unwrap();
    assert_eq!(wb.sheet_names(), vec!["Lỗi - Errors", "upload.csv"]);
    let copy = wb.worksheet_range("upload.csv").unwrap();
    assert_eq!(
        copy.get_value((2, 2)),
        Some(&Data::String("abc".into())),
        "C3 stays C3"
    );
    let list_xml = unzip(&annotated.body)
        .into_iter()
        .find(|(n, _)| n == "xl/worksheets/sheet1.xml")
        .map(|(_, d)| String::from_utf8(d).unwrap())
        .unwrap();
    assert!(
        list_xml.contains("location=\"'upload.csv'!C3\""),
        "a link to the cell"
    );
    // A good file, dry run first.
    let good = csv(&[
        "code;name;original_cost;usage_status;length_km",
        "DB-1;Đường A;1.250.000.000;1;1,25",
    ]);
    let dry = app
        .call("POST", &format!("{path}?dry_run=true"))
        .token(&admin)
        .raw("text/csv", good.clone())
        .send()
        .await
        .expect(200)
        .json();
    assert_eq!(
        (dry["dry_run"].as_bool(), dry["created"].as_u64()),
        (Some(true), Some(1))
    );
    assert_eq!(
        app.call(
            "GET",
            &format!("/api/v1/campaigns/{campaign}/units/{unit}/assets")
        )
        .token(&admin)
        .send()
        .await
        .json()["total"],
        0
    );
    app.call("POST", &path)
        .token(&admin)
        .raw("text/csv", good)
        .send()
        .await
        .expect(200);
    let stored = app
        .call(
            "GET",
            &format!("/api/v1/campaigns/{campaign}/units/{unit}/assets"),
        )
        .token(&admin)
        .send()
        .await
        .json();
    assert_eq!(stored["items"][0]["original_cost"], 1_250_000_000_i64);
    assert_eq!(stored["items"][0]["fields"]["length_km"], 1.25);
    // A blank cell keeps the stored value; <xóa> clears it.
    let upd = csv(&[
        "code;name;original_cost;usage_status;length_km;location",
        "DB-1;;;;;Khối 2",
    ]);
    app.call("POST", &path)
        .token(&admin)
        .raw("text/csv", upd)
        .send()
        .await
        .expect(200);
    let clr = csv(&["code;name;location", "DB-1;Đường A;<xóa>"]);
    let r = app
        .call("POST", &path)
        .token(&admin)
        .raw("text/csv", clr)
        .send()
        .await
        .expect(200)
        .json();
    assert_eq!(r["updated"], 1);
    let a = &app
        .call(
            "GET",
            &format!("/api/v1/campaigns/{campaign}/units/{unit}/assets"),
        )
        .token(&admin)
        .send()
        .await
        .json()["items"][0];
    assert_eq!(a["name"], "Đường A");
    assert!(a.get("location").is_none());
    assert_eq!(a["version"], 3);
    let h = app
        .call("GET", &format!("/api/v1/assets/{}/history", a["id"]))
        .token(&admin)
        .send()
        .await
        .json();
    assert_eq!(h.as_array().unwrap().len(), 3);
    assert_eq!(h[1]["after"]["location"], "Khối 2");
});

db_test!(hostile_files_get_a_clear_4xx_and_change_nothing, |app| {
    let admin = app.admin().await;
    let campaign = app.campaign(&admin).await;
    let unit = app.unit(&admin, "1000001", "Trường A").await;
    app.register(&admin, campaign, unit, &["01"]).await;
    let path = format!("/api/v1/campaigns/{campaign}/units/{unit}/imports");
    let send = |ct: &'static str, bytes: Vec<u8>| {
        let app = app.clone();
        let (path, admin) = (path.clone(), admin.clone());
        async move {
            app.call("POST", &path)
                .token(&admin)
                .raw(ct, bytes)
                .send()
                .await
        }
    };
    let status = |r: &Res| {
        (
            r.status.as_u16(),
            r.json()["errors"][0]["code"]
                .as_str()
                .unwrap_or("")
                .to_string(),
        )
    };
    // Not a zip, not text.
    let r = send(XLSX, vec![0x00, 0xFF, 0x13, 0x37, 0x00, 0x01]).await;
    assert_eq!(status(&r), (415, "not_a_spreadsheet".into()));
    // A zip bomb: a part declaring far more than the limit once inflated.
    let mut bomb = Cursor::new(Vec::new());
    {
        let mut z = zip::ZipWriter::new(&mut bomb);
        z.start_file(
            "xl/worksheets/sheet1.xml",
            zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated),
        )
        .unwrap();
        let zeros = vec![0u8; 1024 * 1024];
        for _ in 0..210 {
            z.write_all(&zeros).unwrap();
        }
        z.finish().unwrap();
    }
    let r = send(XLSX, bomb.into_inner()).await;
    assert_eq!(
        r.status.as_u16(),
        413,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    // CSV in a legacy encoding.
    let r = send("text/csv", b"code;name\nA1;Tr\xf0\xf5\xf2ng\n".to_vec()).await;
    assert_eq!(status(&r), (415, "encoding".into()));
    // A workbook without a recognisable header.
    let mut wb = rust_xlsxwriter::Workbook::new();
    wb.add_worksheet()
        .write_string(0, 0, "Bảng kê linh tinh")
        .unwrap();
    let r = send(XLSX, wb.save_to_buffer().unwrap()).await;
    assert_eq!(status(&r), (422, "no_header".into()));
    // Over the upload limit.
    let r = send("text/csv", vec![b'a'; 3 * 1024 * 1024]).await;
    assert_eq!(r.status.as_u16(), 413);
    // A 32,767-character cell is a cell error, not a crash.
    let long = format!(
        "code;name;original_cost;usage_status\nA1;{};20000000;1",
        "x".repeat(32_767)
    );
    let r = send("text/csv", long.into_bytes()).await;
    assert_eq!(r.status.as_u16(), 422);
    // Dates as text and as serials, and "." thousands typed as text, are read.
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    for (i, h) in [
        "code",
        "name",
        "section",
        "original_cost",
        "usage_status",
        "legal_documents",
    ]
    .iter()
    .enumerate()
    {
        ws.write_string(0, i as u16, *h).unwrap();
    }
    ws.write_string(1, 0, "DAT-1").unwrap();
    ws.write_string(1, 1, "Khu đất").unwrap();
    ws.write_string(1, 2, "I").unwrap();
    ws.write_string(1, 3, "1.500.000.000").unwrap();
    ws.write_number(1, 4, 1).unwrap();
    ws.write_string(1, 5, "Giấy chứng nhận QSDĐ số BĐ 123 ngày 05/03/2012")
        .unwrap();
    let r = send(XLSX, wb.save_to_buffer().unwrap()).await;
    assert_eq!(
        r.status.as_u16(),
        200,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    let a = &app
        .call(
            "GET",
            &format!("/api/v1/campaigns/{campaign}/units/{unit}/assets"),
        )
        .token(&admin)
        .send()
        .await
        .json()["items"][0];
    assert_eq!(a["original_cost"], 1_500_000_000_i64);
    assert_eq!(a["legal_documents"][0]["date"], "2012-03-05");
    assert_eq!(
        app.call(
            "GET",
            &format!("/api/v1/campaigns/{campaign}/units/{unit}/assets")
        )
        .token(&admin)
        .send()
        .await
        .json()["total"],
        1
    );
});

db_test!(an_import_into_a_submitted_report_is_refused, |app| {
    let admin = app.admin().await;
    let campaign = app.campaign(&admin).await;
    let unit = app.unit(&admin, "1000001", "Trường A").await;
    app.register(&admin, campaign, unit, &["18"]).await;
    app.call(
        "POST",
        &format!("/api/v1/campaigns/{campaign}/units/{unit}/reports/18/submit"),
    )
    .token(&admin)
    .json(&json!({"nil_return": true}))
    .send()
    .await
    .expect(200);
    let file = csv(&[
        "code;name;original_cost;usage_status;price_basis;facility_kind",
        "VH-1;Nhà văn hóa;1;1;conventional;group_house",
    ]);
    let r = app
        .call(
            "POST",
            &format!("/api/v1/campaigns/{campaign}/units/{unit}/imports"),
        )
        .token(&admin)
        .raw("text/csv", file)
        .send()
        .await
        .problem(409, "locked");
    assert_eq!(r.json()["type"], "/problems/locked");
});

db_test!(
    a_unit_with_two_forms_re_uploads_its_own_unmodified_exports_without_naming_the_form,
    |app| {
        let admin = app.admin().await;
        let campaign = app.demo().await;
        // Phòng Kinh tế registered 01 and 02: its two official forms, sent back as they came.
        let unit = demo_unit(&app, &admin, "1109302").await;
        for form in ["01a", "02a"] {
            let body = app
                .call(
                    "GET",
                    &format!("/api/v1/campaigns/{campaign}/units/{unit}/forms/{form}.xlsx"),
                )
                .token(&admin)
                .send()
                .await
                .expect(200)
                .body;
            assert!(
                !body
                    .windows("kiemke:".len())
                    .any(|w| w == "kiemke:".as_bytes()),
                "the marker is compressed inside the zip: the bytes do not show it"
            );
            let report = app
                .call(
                    "POST",
                    &format!("/api/v1/campaigns/{campaign}/units/{unit}/imports?dry_run=true"),
                )
                .token(&admin)
                .raw(XLSX, body.clone())
                .send()
                .await
                .expect(200)
                .json();
            assert_eq!(report["form_code"], form, "{report}");
        }
        // A flat file names no form: the unit must say which.
        let file = csv(&["code;name;original_cost", "X-1;Tài sản;20.000.000"]);
        let r = app
            .call(
                "POST",
                &format!("/api/v1/campaigns/{campaign}/units/{unit}/imports?dry_run=true"),
            )
            .token(&admin)
            .raw("text/csv", file)
            .send()
            .await
            .expect(422);
        let body = r.json().to_string();
        assert!(body.contains("form_code"), "{body}");
    }
);

db_test!(
    concurrent_imports_into_one_unit_never_leave_half_a_file,
    |app| {
        let admin = app.admin().await;
        let campaign = app.campaign(&admin).await;
        let unit = app.unit(&admin, "1000001", "Trường A").await;
        app.register(&admin, campaign, unit, &["01"]).await;
        let file = |prefix: &str, shared_name: &str| {
            let mut rows = vec!["section;code;name;original_cost;usage_status".to_string()];
            for i in 0..150 {
                rows.push(format!(
                    "IV;{prefix}-{i:03};Máy tính {i};{};1",
                    15_000_000 + i
                ));
            }
            rows.push(format!("IV;SHARED;{shared_name};20.000.000;1"));
            rows.join("\n").into_bytes()
        };
        let path = format!("/api/v1/campaigns/{campaign}/units/{unit}/imports");
        let mut tasks = tokio::task::JoinSet::new();
        for (prefix, name) in [
            ("A", "Máy in A"),
            ("B", "Máy in B"),
            ("C", "Máy in C"),
            ("D", "Máy in D"),
        ] {
            let (app, path, admin, bytes) =
                (app.clone(), path.clone(), admin.clone(), file(prefix, name));
            tasks.spawn(async move {
                (
                    prefix,
                    app.call("POST", &path)
                        .token(&admin)
                        .raw("text/csv", bytes)
                        .send()
                        .await,
                )
            });
        }
        let mut landed = Vec::new();
        while let Some(done) = tasks.join_next().await {
            let (prefix, res) = done.unwrap();
            match res.status.as_u16() {
                200 => landed.push(prefix),
                // 429: the unit was already importing (one import per unit at a time).
                409 | 429 => {}
                s => panic!(
                    "import {prefix}: unexpected {s}: {}",
                    String::from_utf8_lossy(&res.body)
                ),
            }
        }
        assert!(!landed.is_empty(), "at least one import lands");
        // Each import locks the report for its whole length, so they may all land, one after another.
        let mut codes: Vec<String> = Vec::new();
        let mut total = 0;
        for page in 1.. {
            let list = app
                .call(
                    "GET",
                    &format!(
                        "/api/v1/campaigns/{campaign}/units/{unit}/assets?per_page=200&page={page}"
                    ),
                )
                .token(&admin)
                .send()
                .await
                .json();
            total = list["total"].as_u64().unwrap() as usize;
            let items = list["items"].as_array().unwrap();
            codes.extend(
                items
                    .iter()
                    .map(|a| a["code"].as_str().unwrap().to_string()),
            );
            if items.is_empty() || codes.len() >= total {
                break;
            }
        }
        assert_eq!(codes.len(), total, "every page was read");
        for prefix in ["A", "B", "C", "D"] {
            let n = codes
                .iter()
                .filter(|c| c.starts_with(&format!("{prefix}-")))
                .count();
            assert!(
                n == 0 || n == 150,
                "file {prefix} landed in part: {n} of 150"
            );
            assert_eq!(
                n == 150,
                landed.contains(&prefix),
                "file {prefix}: answer and records agree"
            );
        }
        assert_eq!(total, 150 * landed.len() + 1);
        crate::reliability::invariants::assert_consistent(&app.state).await;
    }
);

/// The parts of an xlsx, by name.
fn unzip(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    use std::io::Read;
    let mut z = zip::ZipArchive::new(Cursor::new(bytes)).expect("a zip");
    (0..z.len())
        .map(|i| {
            let mut f = z.by_index(i).unwrap();
            let mut data = Vec::new();
            f.read_to_end(&mut data).unwrap();
            (f.name().unwrap().to_string(), data)
        })
        .collect()
}

/// The xlsx with its first worksheet's XML rewritten by `edit`.
fn edit_sheet(bytes: &[u8], edit: impl Fn(String) -> String) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    let mut z = zip::ZipWriter::new(&mut out);
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, data) in unzip(bytes) {
        let data = if name == "xl/worksheets/sheet1.xml" {
            edit(String::from_utf8(data).unwrap()).into_bytes()
        } else {
            data
        };
        z.start_file(name, options).unwrap();
        z.write_all(&data).unwrap();
    }
    z.finish().unwrap();
    out.into_inner()
}

/// The XML of cell `cell` (`G15`): `<c r="G15" …>…</c>`, as a byte range.
fn cell_xml(xml: &str, cell: &str) -> std::ops::Range<usize> {
    let start = xml
        .find(&format!("<c r=\"{cell}\""))
        .unwrap_or_else(|| panic!("cell {cell}"));
    let tail = &xml[start..];
    let end = match (tail.find("/>"), tail.find("</c>")) {
        (Some(a), Some(b)) if a < tail.find('>').unwrap_or(0) + 1 && a < b => a + 2,
        (_, Some(b)) => b + 4,
        (Some(a), None) => a + 2,
        _ => panic!("cell {cell} unterminated"),
    };
    start..start + end
}

/// Sets the number saved in `cell`, leaving any formula (and so its result) as it was.
fn set_number(xml: String, cell: &str, value: f64) -> String {
    let r = cell_xml(&xml, cell);
    let c = &xml[r.clone()];
    let v0 = c.find("<v>").expect("a value") + 3;
    let v1 = c.find("</v>").unwrap();
    format!(
        "{}{}{value}{}{}",
        &xml[..r.start],
        &c[..v0],
        &c[v1..],
        &xml[r.end..]
    )
}

/// Replaces `cell` by a typed number: its formula is gone.
fn type_number(xml: String, cell: &str, value: i64) -> String {
    let r = cell_xml(&xml, cell);
    let c = &xml[r.clone()];
    let style = c
        .split(" s=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap_or("0");
    format!(
        "{}<c r=\"{cell}\" s=\"{style}\"><v>{value}</v></c>{}",
        &xml[..r.start],
        &xml[r.end..]
    )
}

/// What openpyxl saves: formulas without their results.
fn drop_results(xml: String) -> String {
    let mut out = String::new();
    let mut rest = xml.as_str();
    while let Some(i) = rest.find("</f><v>") {
        out.push_str(&rest[..i + 4]);
        let after = &rest[i + 4..];
        rest = &after[after.find("</v>").unwrap() + 4..];
    }
    out.push_str(rest);
    out
}

fn col_letter(col: u32) -> String {
    let mut n = col + 1;
    let mut out = Vec::new();
    while n > 0 {
        out.push(b'A' + ((n - 1) % 26) as u8);
        n = (n - 1) / 26;
    }
    out.iter().rev().map(|&b| b as char).collect()
}

// Issue 14 point 2: an accountant edits a counted quantity and a cost in the official form;
// Chênh lệch, Giá trị còn lại and Nguồn khác, still our formulas, follow whatever the
// editor saved with them (stale results, none, or LibreOffice's recalculation), while a
// contradicting value typed over a formula is still refused.
db_test!(
    an_edited_official_form_imports_with_its_derived_cells_following_the_edits,
    |app| {
        let admin = app.admin().await;
        let campaign = app.demo().await;
        let from = demo_unit(&app, &admin, "1109301").await;
        let unit = app.unit(&admin, "1801999", "Đơn vị sửa phiếu").await;
        app.register(&admin, campaign, unit, &["01"]).await;
        let export = |u: i64| {
            let app = &app;
            let admin = &admin;
            async move {
                app.call(
                    "GET",
                    &format!("/api/v1/campaigns/{campaign}/units/{u}/forms/01a.xlsx"),
                )
                .token(admin)
                .send()
                .await
                .expect(200)
                .body
            }
        };
        let imports = format!("/api/v1/campaigns/{campaign}/units/{unit}/imports");
        let first = export(from).await;
        app.call("POST", &imports)
            .token(&admin)
            .raw(XLSX, first)
            .send()
            .await
            .expect(200);
        let file = export(unit).await;

        // The first table's key row names each column; its first record with our formulas.
        let c = cells(&file);
        let marker = find(&c, "kiemke:01a").expect("the key row").0;
        let col = |key: &str| {
            c.iter()
                .find(|(r, _, d)| *r == marker && matches!(d, Data::String(s) if s == key))
                .map(|(_, col, _)| col_letter(*col))
                .unwrap_or_else(|| panic!("column {key}"))
        };
        let xml = String::from_utf8(
            unzip(&file)
                .into_iter()
                .find(|(n, _)| n == "xl/worksheets/sheet1.xml")
                .unwrap()
                .1,
        )
        .unwrap();
        let (remaining, other) = (col("remaining_value"), col("original_cost_other"));
        let row = (marker + 2..marker + 40)
            .map(|r| r + 1)
            .find(|r| {
                let rv = cell_xml(&xml, &format!("{remaining}{r}"));
                let ot = xml.find(&format!("<c r=\"{other}{r}\""));
                xml[rv].contains("<f>") && ot.is_some()
            })
            .expect("a record whose derived cells are formulas");
        let code_col = c
            .iter()
            .find(|(r, _, d)| *r == marker && matches!(d, Data::String(s) if s == "code"))
            .unwrap()
            .1;
        let code = match &c
            .iter()
            .find(|(r, col, _)| *r == row - 1 && *col == code_col)
            .unwrap()
            .2
        {
            Data::String(s) => s.clone(),
            d => panic!("code {d:?}"),
        };
        let asset = |app: &TestApp| {
            let path = format!("/api/v1/campaigns/{campaign}/units/{unit}/assets?per_page=500");
            let code = code.clone();
            let admin = admin.clone();
            let app = app.clone();
            async move {
                let list = app.call("GET", &path).token(&admin).send().await.json();
                list["items"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|a| a["code"] == code.as_str())
                    .cloned()
                    .unwrap()
            }
        };
        let before = asset(&app).await;
        let books = before["qty_books"].as_f64().unwrap();
        let budget = before["original_cost_budget"].as_i64().unwrap();
        let depreciation = before["depreciation"].as_i64().unwrap();
        let cost = before["original_cost"].as_i64().unwrap();
        let (counted_cell, cost_cell) = (
            format!("{}{row}", col("qty_counted")),
            format!("{}{row}", col("original_cost")),
        );

        let check = |after: Value, counted: f64, cost: i64| {
            assert_eq!(after["qty_counted"].as_f64(), Some(counted), "{after}");
            assert_eq!(after["original_cost"].as_i64(), Some(cost));
            assert_eq!(after["qty_difference"].as_f64(), Some(books - counted));
            assert_eq!(after["remaining_value"].as_i64(), Some(cost - depreciation));
            assert_eq!(after["original_cost_budget"].as_i64(), Some(budget));
            assert_eq!(after["original_cost_other"].as_i64(), Some(cost - budget));
        };

        // An editor that does not recalculate: the derived cells keep their old results.
        let stale = edit_sheet(&file, |x| {
            let x = set_number(x, &counted_cell, books + 1.0);
            set_number(x, &cost_cell, (cost + 2_000_000) as f64)
        });
        let report = app
            .call("POST", &imports)
            .token(&admin)
            .raw(XLSX, stale.clone())
            .send()
            .await
            .expect(200)
            .json();
        assert_eq!(report["updated"], 1, "{report}");
        check(asset(&app).await, books + 1.0, cost + 2_000_000);

        // openpyxl: the formulas are saved without results.
        let bare = edit_sheet(&file, |x| {
            let x = set_number(x, &counted_cell, books + 2.0);
            drop_results(set_number(x, &cost_cell, (cost + 3_000_000) as f64))
        });
        app.call("POST", &imports)
            .token(&admin)
            .raw(XLSX, bare)
            .send()
            .await
            .expect(200);
        check(asset(&app).await, books + 2.0, cost + 3_000_000);

        // A value typed over Giá trị còn lại that contradicts cost − depreciation is refused.
        let typed = edit_sheet(&file, |x| {
            let x = set_number(x, &cost_cell, (cost + 4_000_000) as f64);
            type_number(x, &format!("{remaining}{row}"), cost - depreciation)
        });
        let body = app
            .call("POST", &imports)
            .token(&admin)
            .raw(XLSX, typed)
            .send()
            .await
            .problem(422, "import-rejected")
            .json();
        let errors = body["report"]["errors"].as_array().unwrap();
        assert!(
            errors.iter().any(|e| e["field"] == "remaining_value"
                && e["row"] == row
                && e["column_letter"] == remaining.as_str()),
            "{body}"
        );
        check(asset(&app).await, books + 2.0, cost + 3_000_000);

        // LibreOffice opens the stale file and saves it again (recalculating or not).
        if require_program(
            "soffice",
            "libreoffice-calc-nogui",
            "the LibreOffice round trip",
        ) {
            // One profile per run: two LibreOffice instances on one profile refuse to start.
            let dir = std::env::temp_dir().join(format!(
                "kiemke-lo-{}-{:?}",
                std::process::id(),
                app.backend
            ));
            let out_dir = dir.join("out");
            std::fs::create_dir_all(&out_dir).unwrap();
            let input = dir.join("01a.xlsx");
            std::fs::write(&input, &stale).unwrap();
            let out = std::process::Command::new("soffice")
                .arg(format!(
                    "-env:UserInstallation=file://{}",
                    dir.join("profile").display()
                ))
                .args([
                    "--headless",
                    "--calc",
                    "--convert-to",
                    "xlsx:Calc MS Excel 2007 XML",
                    "--outdir",
                ])
                .arg(&out_dir)
                .arg(&input)
                .env("HOME", &dir)
                .output()
                .expect("LibreOffice runs");
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            let saved = std::fs::read(out_dir.join("01a.xlsx")).expect("LibreOffice saved");
            let _ = std::fs::remove_dir_all(&dir);
            // Back to the first figures first, so that the LibreOffice file changes them.
            app.call("POST", &imports)
                .token(&admin)
                .raw(XLSX, file.clone())
                .send()
                .await
                .expect(200);
            let report = app
                .call("POST", &imports)
                .token(&admin)
                .raw(XLSX, saved)
                .send()
                .await
                .expect(200)
                .json();
            assert_eq!(report["errors"], json!([]));
            check(asset(&app).await, books + 1.0, cost + 2_000_000);
        }
    }
);

/// `<tag …>…</tag>` (or `<tag …/>`) of a part, the first one; empty when absent.
fn element<'a>(xml: &'a str, tag: &str) -> &'a str {
    let Some(start) = xml.find(&format!("<{tag}")) else {
        return "";
    };
    let tail = &xml[start..];
    let close = format!("</{tag}>");
    let end = match tail.find(&close) {
        Some(i) => i + close.len(),
        None => tail.find("/>").map_or(tail.len(), |i| i + 2),
    };
    &tail[..end]
}

// Issue 14 point 4: a file in our official layout comes back in its own formatting, the list of
// its errors added as a last sheet that opens first, each error a link to its cell.
db_test!(
    an_official_form_with_a_bad_cell_comes_back_in_its_own_formatting_with_the_errors_listed,
    |app| {
        let admin = app.admin().await;
        let campaign = app.demo().await;
        let from = demo_unit(&app, &admin, "1109301").await;
        let unit = app.unit(&admin, "1801998", "Đơn vị sửa lỗi").await;
        app.register(&admin, campaign, unit, &["01"]).await;
        let imports = format!("/api/v1/campaigns/{campaign}/units/{unit}/imports");
        let export = |u: i64| {
            let app = &app;
            let admin = &admin;
            async move {
                app.call(
                    "GET",
                    &format!("/api/v1/campaigns/{campaign}/units/{u}/forms/01a.xlsx"),
                )
                .token(admin)
                .send()
                .await
                .expect(200)
                .body
            }
        };
        let first = export(from).await;
        app.call("POST", &imports)
            .token(&admin)
            .raw(XLSX, first)
            .send()
            .await
            .expect(200);
        let file = export(unit).await;

        // A Giá trị còn lại typed over its formula, contradicting cost − depreciation.
        let c = cells(&file);
        let marker = find(&c, "kiemke:01a").expect("the key row").0;
        let remaining = c
            .iter()
            .find(|(r, _, d)| {
                *r == marker && matches!(d, Data::String(s) if s == "remaining_value")
            })
            .map(|(_, col, _)| col_letter(*col))
            .expect("the remaining value's column");
        let sheet1 = |bytes: &[u8]| {
            String::from_utf8(
                unzip(bytes)
                    .into_iter()
                    .find(|(n, _)| n == "xl/worksheets/sheet1.xml")
                    .unwrap()
                    .1,
            )
            .unwrap()
        };
        let xml = sheet1(&file);
        let row = (marker + 3..marker + 40)
            .find(|r| {
                xml.find(&format!("<c r=\"{remaining}{r}\""))
                    .is_some_and(|at| {
                        xml[cell_xml(&xml, &format!("{remaining}{r}"))].contains("<f>") && at > 0
                    })
            })
            .expect("a record whose remaining value is a formula");
        let bad_cell = format!("{remaining}{row}");
        let bad = edit_sheet(&file, |x| type_number(x, &bad_cell, 7));

        let answer = app
            .call("POST", &imports)
            .token(&admin)
            .header("accept", XLSX)
            .raw(XLSX, bad.clone())
            .send()
            .await
            .expect(422);
        assert_eq!(answer.content_type(), XLSX);

        // Every original sheet with its values, the list last.
        let mut sent: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bad.clone())).unwrap();
        let mut got: Xlsx<_> =
            calamine::open_workbook_from_rs(Cursor::new(answer.body.clone())).unwrap();
        let mut names = sent.sheet_names();
        let sheet = names[0].clone();
        names.push("Lỗi - Errors".into());
        assert_eq!(got.sheet_names(), names);
        for name in &names[..names.len() - 1] {
            assert_eq!(
                got.worksheet_range(name).unwrap(),
                sent.worksheet_range(name).unwrap(),
                "the values of {name}"
            );
        }

        // The list names the bad cell, with a link to it.
        let list = got.worksheet_range("Lỗi - Errors").unwrap();
        let line = list
            .rows()
            .find(|r| r.get(2).map(|d| d.to_string()) == Some(bad_cell.clone()))
            .unwrap_or_else(|| panic!("{bad_cell} listed in {list:?}"));
        assert_eq!(line[1].to_string(), sheet);
        assert_eq!(line[3].to_string(), "remaining_value");
        let parts = unzip(&answer.body);
        let part = |name: &str| {
            parts
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, d)| String::from_utf8(d.clone()).unwrap())
                .unwrap_or_else(|| panic!("{name} in the answer"))
        };
        let list_xml = part("xl/worksheets/kiemke_errors1.xml");
        assert!(
            list_xml.contains(&format!("location=\"'{sheet}'!{bad_cell}\"")),
            "a link to the cell: {list_xml}"
        );

        // The formatting survived: the same styles, and the form's sheet as sent (widths,
        // merged cells, row heights, print setup, formulas), only no longer the selected tab.
        let sent_parts = unzip(&bad);
        let sent_part = |name: &str| {
            sent_parts
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, d)| String::from_utf8(d.clone()).unwrap())
                .unwrap()
        };
        assert_eq!(part("xl/styles.xml"), sent_part("xl/styles.xml"));
        let (was, is) = (sheet1(&bad), sheet1(&answer.body));
        for tag in [
            "cols",
            "mergeCells",
            "pageSetup",
            "pageMargins",
            "sheetData",
        ] {
            assert!(!element(&was, tag).is_empty(), "the export has <{tag}>");
            assert_eq!(element(&is, tag), element(&was, tag), "<{tag}> kept");
        }
        assert!(!element(&is, "sheetView").contains("tabSelected=\"1\""));
        let workbook = part("xl/workbook.xml");
        assert!(
            workbook.contains(&format!("activeTab=\"{}\"", names.len() - 1)),
            "the list opens first: {workbook}"
        );
        assert_eq!(
            element(&workbook, "definedNames"),
            element(&sent_part("xl/workbook.xml"), "definedNames"),
            "print titles and areas kept"
        );

        // LibreOffice opens it and prints the list and the form.
        if require_program(
            "soffice",
            "libreoffice-calc-nogui",
            "the error workbook test",
        ) && require_program("pdftotext", "poppler-utils", "the error workbook test")
        {
            let dir = std::env::temp_dir().join(format!(
                "kiemke-errors-{}-{:?}",
                std::process::id(),
                app.backend
            ));
            std::fs::create_dir_all(&dir).unwrap();
            let input = dir.join("loi_01a.xlsx");
            std::fs::write(&input, &answer.body).unwrap();
            let out = std::process::Command::new("soffice")
                .arg(format!(
                    "-env:UserInstallation=file://{}",
                    dir.join("profile").display()
                ))
                .args(["--headless", "--convert-to", "pdf", "--outdir"])
                .arg(&dir)
                .arg(&input)
                .env("HOME", &dir)
                .output()
                .expect("LibreOffice runs");
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            let out = std::process::Command::new("pdftotext")
                .arg(dir.join("loi_01a.pdf"))
                .arg("-")
                .output()
                .expect("pdftotext runs");
            let text = String::from_utf8_lossy(&out.stdout);
            for expected in ["PHIẾU KIỂM KÊ", "Lỗi / Errors", bad_cell.as_str()] {
                assert!(text.contains(expected), "«{expected}» printed");
            }
            let _ = std::fs::remove_dir_all(&dir);
        }
    }
);

/// A flat 01a file of `n` equipment rows `{prefix}-0000…`; each name holds what a bulk load must
/// keep as it is (a backslash, `\N`, quotes). With `bad_last`, the last row's cost is unreadable.
fn equipment_file(prefix: &str, n: usize, bad_last: bool) -> Vec<u8> {
    let mut rows = vec!["section;code;name;original_cost;usage_status;location".to_string()];
    for i in 0..n {
        let cost = if bad_last && i + 1 == n {
            "abc".to_string()
        } else {
            (10_000_000 + i).to_string()
        };
        rows.push(format!(
            "IV;{prefix}-{i:04};Máy \\N {i} «ổ C:\\dữ liệu» \"A\";{cost};1;Phòng {}",
            i % 7
        ));
    }
    let rows: Vec<&str> = rows.iter().map(String::as_str).collect();
    csv(&rows)
}

/// Every asset of a unit, by code (pages of 500).
async fn all_assets(
    app: &TestApp,
    token: &str,
    campaign: i64,
    unit: i64,
) -> std::collections::BTreeMap<String, Value> {
    let mut out = std::collections::BTreeMap::new();
    for page in 1.. {
        let list = app
            .call(
                "GET",
                &format!(
                    "/api/v1/campaigns/{campaign}/units/{unit}/assets?per_page=500&page={page}"
                ),
            )
            .token(token)
            .send()
            .await
            .expect(200)
            .json();
        let items = list["items"].as_array().unwrap();
        if items.is_empty() {
            break;
        }
        for a in items {
            out.insert(a["code"].as_str().unwrap().to_string(), a.clone());
        }
    }
    out
}

db_test!(
    an_import_of_many_batches_stores_every_row_as_read_with_its_history_and_one_import_event,
    |app| {
        use sha2::{Digest, Sha256};
        let admin = app.admin().await;
        let campaign = app.campaign(&admin).await;
        let unit = app.unit(&admin, "1000001", "Trường A").await;
        app.register(&admin, campaign, unit, &["01"]).await;
        // More rows than one batch of the writer and than one SQLite statement holds.
        let n = 2_300;
        let file = equipment_file("BULK", n, false);
        let path = format!("/api/v1/campaigns/{campaign}/units/{unit}/imports");
        let report = app
            .call("POST", &path)
            .token(&admin)
            .raw("text/csv", file.clone())
            .send()
            .await
            .expect(200)
            .json();
        assert_eq!(report["created"], n, "{report}");
        let stored = all_assets(&app, &admin, campaign, unit).await;
        assert_eq!(stored.len(), n);
        for i in 0..n {
            let a = &stored[&format!("BULK-{i:04}")];
            assert_eq!(a["name"], format!("Máy \\N {i} «ổ C:\\dữ liệu» \"A\""));
            assert_eq!(a["original_cost"], 10_000_000 + i as i64);
            assert_eq!(a["location"], format!("Phòng {}", i % 7));
            assert_eq!(a["section"], "IV");
            assert_eq!(a["version"], 1);
        }
        // The report's running count (a list narrowed by type alone reads it) took every row.
        let by_type = app
            .call(
                "GET",
                &format!("/api/v1/campaigns/{campaign}/units/{unit}/assets?asset_type=01"),
            )
            .token(&admin)
            .send()
            .await
            .expect(200)
            .json();
        assert_eq!(by_type["total"], n);
        // Each record's history shows its creation by the import, with the record as stored.
        for i in [0, 499, 500, 1_056, 1_057, n - 1] {
            let a = &stored[&format!("BULK-{i:04}")];
            let h = app
                .call("GET", &format!("/api/v1/assets/{}/history", a["id"]))
                .token(&admin)
                .send()
                .await
                .expect(200)
                .json();
            let h = h.as_array().unwrap();
            assert_eq!(h.len(), 1, "{h:?}");
            assert_eq!(h[0]["action"], "create");
            assert_eq!(h[0]["actor"], "admin");
            assert!(h[0]["before"].is_null());
            assert_eq!(h[0]["after"]["name"], a["name"]);
            assert_eq!(h[0]["after"]["original_cost"], a["original_cost"]);
            assert_eq!(h[0]["after"]["location"], a["location"]);
        }
        let events = app
            .call(
                "GET",
                &format!("/api/v1/audit-events?unit_id={unit}&entity=asset&per_page=1"),
            )
            .token(&admin)
            .send()
            .await
            .expect(200)
            .json();
        assert_eq!(events["total"], n, "one creation event per record");
        let imports = app
            .call(
                "GET",
                &format!("/api/v1/audit-events?unit_id={unit}&action=import"),
            )
            .token(&admin)
            .send()
            .await
            .expect(200)
            .json();
        assert_eq!(imports["total"], 1);
        let detail = imports["items"][0]["detail"].as_str().unwrap();
        let digest = hex::encode(Sha256::digest(&file));
        assert!(detail.contains(&digest), "{detail}");
        assert!(
            detail.contains(&format!("{n} rows, {n} created, 0 updated, 0 unchanged")),
            "{detail}"
        );

        // The same file with every location changed updates each record: one event each, with
        // before and after.
        let changed = String::from_utf8(file)
            .unwrap()
            .replace(";1;Phòng ", ";1;Kho ");
        let report = app
            .call("POST", &path)
            .token(&admin)
            .raw("text/csv", changed.into_bytes())
            .send()
            .await
            .expect(200)
            .json();
        assert_eq!(
            (report["created"].as_u64(), report["updated"].as_u64()),
            (Some(0), Some(n as u64))
        );
        let again = all_assets(&app, &admin, campaign, unit).await;
        assert!(
            again
                .values()
                .all(|a| a["version"] == 2 && a["location"].as_str().unwrap().starts_with("Kho "))
        );
        let a = &again["BULK-0007"];
        assert_eq!(a["location"], "Kho 0");
        let h = app
            .call("GET", &format!("/api/v1/assets/{}/history", a["id"]))
            .token(&admin)
            .send()
            .await
            .expect(200)
            .json();
        assert_eq!(h.as_array().unwrap().len(), 2);
        assert_eq!(h[1]["action"], "update");
        assert_eq!(h[1]["before"]["location"], "Phòng 0");
        assert_eq!(h[1]["after"]["location"], "Kho 0");
        assert_eq!(h[1]["after"]["name"], a["name"]);
    }
);

db_test!(
    an_import_whose_last_batch_fails_leaves_nothing_of_the_batches_written_before,
    |app| {
        let admin = app.admin().await;
        let campaign = app.campaign(&admin).await;
        let unit = app.unit(&admin, "1000001", "Trường A").await;
        app.register(&admin, campaign, unit, &["01"]).await;
        let n = 2_300;
        let path = format!("/api/v1/campaigns/{campaign}/units/{unit}/imports");
        let res = app
            .call("POST", &path)
            .token(&admin)
            .raw("text/csv", equipment_file("LAST", n, true))
            .send()
            .await
            .problem(422, "import-rejected");
        let errors = res.json()["report"]["errors"].clone();
        assert_eq!(errors.as_array().unwrap().len(), 1, "{errors}");
        assert_eq!(errors[0]["row"], n + 1);
        assert!(all_assets(&app, &admin, campaign, unit).await.is_empty());
        let by_type = app
            .call(
                "GET",
                &format!("/api/v1/campaigns/{campaign}/units/{unit}/assets?asset_type=01"),
            )
            .token(&admin)
            .send()
            .await
            .expect(200)
            .json();
        assert_eq!(by_type["total"], 0, "the report's count is untouched");
        for query in ["entity=asset", "action=import"] {
            let events = app
                .call(
                    "GET",
                    &format!("/api/v1/audit-events?unit_id={unit}&{query}"),
                )
                .token(&admin)
                .send()
                .await
                .expect(200)
                .json();
            assert_eq!(events["total"], 0, "{query}: {events}");
        }
        // The fixed file then goes in whole.
        let ok = app
            .call("POST", &path)
            .token(&admin)
            .raw("text/csv", equipment_file("LAST", n, false))
            .send()
            .await
            .expect(200)
            .json();
        assert_eq!(ok["created"], n);
        assert_eq!(all_assets(&app, &admin, campaign, unit).await.len(), n);
    }
);
