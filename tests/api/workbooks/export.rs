//! Exports read back: the official forms, the flat layout and the export profiles, the ward's
//! files, the consolidated report and progress sheet, and the official forms printed on A4.

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use serde_json::json;

use super::{XLSX, cells, demo_unit, find, number_at};
use crate::{db_test, support::*};

db_test!(
    the_official_01a_form_reads_back_as_officials_expect,
    |app| {
        let admin = app.admin().await;
        let campaign = app.demo().await;
        let unit = demo_unit(&app, &admin, "1109301").await;
        let res = app
            .call(
                "GET",
                &format!("/api/v1/campaigns/{campaign}/units/{unit}/forms/01a.xlsx"),
            )
            .token(&admin)
            .send()
            .await
            .expect(200);
        assert_eq!(res.content_type(), XLSX);
        assert!(
            res.headers
                .get("content-disposition")
                .unwrap()
                .to_str()
                .unwrap()
                .contains("01a_1109301.xlsx")
        );
        let c = cells(&res.body);
        let form_no = find(&c, "Mẫu số 01a").expect("form number");
        let motto = find(&c, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM").expect("motto");
        let tagline = find(&c, "Độc lập - Tự do - Hạnh phúc").expect("tagline");
        assert!(
            form_no.0 < motto.0 && motto.0 < tagline.0,
            "form number above the motto above the tagline"
        );
        assert!(motto.1 > 3, "the motto block is on the right");
        let superior = find(&c, "UBND PHƯỜNG TAM THANH").expect("superior body");
        assert_eq!(superior.1, 0, "the superior body is top left");
        assert!(find(&c, "Văn phòng HĐND và UBND phường Tam Thanh").is_some());
        assert!(
            c.iter()
                .any(|(_, _, d)| matches!(d, Data::String(s) if s.contains("Mã đơn vị: 1109301")))
        );
        assert!(
            find(
                &c,
                "PHIẾU KIỂM KÊ TÀI SẢN CÔNG TẠI CƠ QUAN, TỔ CHỨC, ĐƠN VỊ"
            )
            .is_some()
        );
        assert!(
            c.iter().any(
                |(_, _, d)| matches!(d, Data::String(s) if s.contains("0 giờ ngày 01/01/2026"))
            )
        );
        let (num_row, _, _) = *find(&c, "(1)").expect("numbering row");
        assert!(find(&c, "(2)").is_some_and(|x| x.0 == num_row));
        let stt = find(&c, "STT").expect("STT header");
        assert!(stt.0 < num_row);
        assert!(find(&c, "Mã tài sản").is_some());
        // Sections with their records, subtotals and the grand total.
        // One table per section: land's under land's columns, the car under the car's.
        let land = find(&c, "I. Đất (đơn vị tính: m²)").expect("section I");
        let car = find(&c, "XE-01").expect("the car");
        assert!(land.0 > num_row && car.0 > land.0);
        let plate = find(&c, "Biển kiểm soát").expect("the car table's header");
        assert!(
            land.0 < plate.0 && plate.0 < car.0,
            "car columns only in the car table"
        );
        let areas = find(&c, "Trụ sở làm việc").expect("the land table's header");
        assert!(areas.0 < land.0, "land-use areas head the land table");
        let cost_col = c
            .iter()
            .find(|(r, _, d)| *r < num_row && matches!(d, Data::String(s) if s == "Tổng cộng"))
            .map(|x| x.1)
            .expect("original cost total column");
        assert_eq!(number_at(&c, car.0, cost_col), 985_000_000.0);
        let sub3 = find(&c, "Cộng phần III").expect("subtotal III");
        assert_eq!(
            number_at(&c, sub3.0, cost_col),
            985_000_000.0,
            "cached subtotal"
        );
        let total = find(&c, "TỔNG CỘNG").expect("grand total");
        let totals = app
            .call(
                "GET",
                &format!("/api/v1/campaigns/{campaign}/units/{unit}/totals"),
            )
            .token(&admin)
            .send()
            .await
            .json();
        assert_eq!(
            number_at(&c, total.0, cost_col),
            totals["types"][0]["total"]["original_cost"]
                .as_f64()
                .unwrap()
        );
        for signer in ["NGƯỜI LẬP BIỂU", "KẾ TOÁN TRƯỞNG", "THỦ TRƯỞNG ĐƠN VỊ"]
        {
            assert!(
                find(&c, signer).is_some_and(|x| x.0 > total.0),
                "{signer} below the table"
            );
        }
        // The subtotal is a formula, so the sheet stays right when edited.
        let mut wb: Xlsx<_> =
            calamine::open_workbook_from_rs(Cursor::new(res.body.clone())).unwrap();
        let formulas = wb.worksheet_formula("01a").unwrap();
        assert!(
            formulas.cells().any(|(_, _, f)| f.starts_with("SUM(")),
            "subtotals are SUM formulas"
        );
    }
);

db_test!(
    the_flat_layout_has_one_header_row_of_keys_and_codes_for_enums,
    |app| {
        let admin = app.admin().await;
        let campaign = app.demo().await;
        let unit = demo_unit(&app, &admin, "1109302").await;
        let res = app
            .call(
                "GET",
                &format!("/api/v1/campaigns/{campaign}/units/{unit}/forms/02a/flat.xlsx"),
            )
            .token(&admin)
            .send()
            .await
            .expect(200);
        let c = cells(&res.body);
        // Written out here, not read from the implementation: a column dropped, added or moved
        // in the flat layout of form 02a (roads) changes what accountants' workbooks must hold.
        let keys = [
            "code",
            "name",
            "route_code",
            "management_class",
            "technical_grade",
            "location",
            "start_point",
            "end_point",
            "length_km",
            "subgrade_width_m",
            "surface_width_m",
            "surface_type",
            "bridge_count",
            "bridge_length_m",
            "culvert_count",
            "land_area",
            "unit_of_measure",
            "qty_books",
            "qty_counted",
            "qty_difference",
            "year_in_use",
            "original_cost",
            "original_cost_budget",
            "original_cost_other",
            "depreciation",
            "remaining_value",
            "price_basis",
            "usage_status",
            "origin",
            "managing_unit",
            "legal_documents",
            "note",
        ];
        let header: Vec<&str> = c
            .iter()
            .filter(|(r, _, _)| *r == 0)
            .map(|(_, _, d)| match d {
                Data::String(s) => s.as_str(),
                other => panic!("a header cell that is not text: {other:?}"),
            })
            .collect();
        assert_eq!(header, keys, "the flat header of 02a");
        let status_col = keys.iter().position(|k| *k == "usage_status").unwrap() as u32;
        assert!(c.iter().any(|(r, col, d)| *r == 1
            && *col == status_col
            && matches!(d, Data::String(s) if s == "1")));
        let rows = c.iter().map(|x| x.0).max().unwrap();
        assert_eq!(rows, 3, "one row per road");
        app.call(
            "GET",
            &format!("/api/v1/campaigns/{campaign}/units/{unit}/forms/18a/flat.xlsx"),
        )
        .token(&admin)
        .send()
        .await
        .expect(404);
        app.call(
            "GET",
            &format!("/api/v1/campaigns/{campaign}/units/{unit}/forms/01a.pdf"),
        )
        .token(&admin)
        .send()
        .await
        .expect(404);
    }
);

/// The text of every non-empty cell of row `row`, by column.
fn row_text(c: &[(u32, u32, Data)], row: u32) -> Vec<(u32, String)> {
    c.iter()
        .filter(|(r, _, _)| *r == row)
        .map(|(_, col, d)| (*col, d.to_string()))
        .collect()
}

fn column_of(c: &[(u32, u32, Data)], header: &str) -> u32 {
    find(c, header)
        .filter(|(r, _, _)| *r == 0)
        .unwrap_or_else(|| panic!("no header {header:?}"))
        .1
}

db_test!(
    the_national_draft_profile_puts_the_units_codes_on_every_row_under_vietnamese_headers,
    |app| {
        let admin = app.admin().await;
        let campaign = app.demo().await;
        let unit = demo_unit(&app, &admin, "1109301").await;
        app.call("PATCH", &format!("/api/v1/units/{unit}"))
            .token(&admin)
            .json(&json!({"registration_code": "TTH001"}))
            .send()
            .await
            .expect(200);
        let res = app
            .call(
                "GET",
                &format!(
                    "/api/v1/campaigns/{campaign}/units/{unit}/forms/01a/flat.xlsx?profile=national-draft"
                ),
            )
            .token(&admin)
            .send()
            .await
            .expect(200);
        assert!(
            res.headers["content-disposition"]
                .to_str()
                .unwrap()
                .contains("01a_1109301_national-draft.xlsx")
        );
        let c = cells(&res.body);
        let header: Vec<String> = row_text(&c, 0).into_iter().map(|(_, t)| t).collect();
        assert_eq!(
            header[..5],
            [
                "Mã đơn vị quan hệ ngân sách",
                "Mã đăng ký kiểm kê",
                "Tên đơn vị",
                "Mã loại tài sản",
                "Nhóm tài sản"
            ]
        );
        assert!(
            header.iter().all(|h| !h.is_ascii()),
            "Vietnamese headers: {header:?}"
        );
        let rows = c.iter().map(|x| x.0).max().unwrap();
        assert!(rows >= 2, "the demo unit has records");
        let (status, origin, number, date) = (
            column_of(&c, "Tình trạng sử dụng"),
            column_of(&c, "Nguồn gốc hình thành"),
            column_of(&c, "Hồ sơ pháp lý - Số"),
            column_of(&c, "Hồ sơ pháp lý - Ngày ban hành"),
        );
        assert!(date == number + 1);
        for r in 1..=rows {
            let row: std::collections::BTreeMap<u32, String> =
                row_text(&c, r).into_iter().collect();
            assert_eq!(row[&0], "1109301", "row {r}: the budget code");
            assert_eq!(row[&1], "TTH001", "row {r}: the registration code");
            assert_eq!(row[&3], "01", "row {r}: the asset type");
            assert!(
                ["1", "2", "3", "4"].contains(&row[&4].as_str()),
                "row {r}: section code"
            );
            assert!(["1", "2", "3", "4"].contains(&row[&status].as_str()));
            if let Some(o) = row.get(&origin) {
                assert!(
                    o.parse::<u8>().is_ok_and(|n| (1..=7).contains(&n)),
                    "origin {o}"
                );
            }
        }
        assert!(
            c.iter()
                .any(|(r, col, d)| *r > 0 && *col == date && matches!(d, Data::DateTime(_))),
            "document dates are date cells"
        );
        // The default profile is the service's own layout, unchanged.
        let own = app
            .call(
                "GET",
                &format!(
                    "/api/v1/campaigns/{campaign}/units/{unit}/forms/01a/flat.xlsx?profile=kiemke"
                ),
            )
            .token(&admin)
            .send()
            .await
            .expect(200);
        let c = cells(&own.body);
        assert_eq!(c[0].2, Data::String("section".into()));
    }
);

db_test!(
    an_unknown_export_profile_is_refused_in_vietnamese_and_english,
    |app| {
        let admin = app.admin().await;
        let campaign = app.demo().await;
        let unit = demo_unit(&app, &admin, "1109301").await;
        for path in [
            format!(
                "/api/v1/campaigns/{campaign}/units/{unit}/forms/01a/flat.xlsx?profile=quocgia"
            ),
            format!("/api/v1/campaigns/{campaign}/forms/01a/flat.xlsx?profile=quocgia"),
        ] {
            let vi = app
                .call("GET", &path)
                .token(&admin)
                .send()
                .await
                .problem(422, "validation");
            assert_eq!(vi.error_fields(), vec!["profile"]);
            let msg = vi.json()["errors"][0]["message"]
                .as_str()
                .unwrap()
                .to_string();
            assert!(msg.contains("Không có hồ sơ xuất «quocgia»"), "{msg}");
            assert!(
                msg.contains("kiemke") && msg.contains("national-draft"),
                "{msg}"
            );
            let en = app
                .call("GET", &path)
                .token(&admin)
                .header("accept-language", "en")
                .send()
                .await
                .problem(422, "validation");
            let msg = en.json()["errors"][0]["message"]
                .as_str()
                .unwrap()
                .to_string();
            assert!(
                msg.contains("There is no export profile \"quocgia\""),
                "{msg}"
            );
        }
    }
);

db_test!(
    every_unit_of_the_ward_comes_in_one_flat_file_per_form,
    |app| {
        let admin = app.admin().await;
        let campaign = app.demo().await;
        let res = app
            .call(
                "GET",
                &format!("/api/v1/campaigns/{campaign}/forms/01a/flat.xlsx"),
            )
            .token(&admin)
            .send()
            .await
            .expect(200);
        let c = cells(&res.body);
        assert_eq!(c[0].2, Data::String("unit_code".into()));
        assert_eq!(c[1].2, Data::String("section".into()));
        let codes: Vec<String> = c
            .iter()
            .filter(|(r, col, _)| *r > 0 && *col == 0)
            .map(|(_, _, d)| d.to_string())
            .collect();
        let rows = c.iter().map(|x| x.0).max().unwrap() as usize;
        assert_eq!(codes.len(), rows, "every row names its unit");
        let mut sorted = codes.clone();
        sorted.sort();
        assert_eq!(codes, sorted, "units in code order");
        sorted.dedup();
        assert!(sorted.len() > 1, "rows of several units: {sorted:?}");
        // As many rows as the units' own files together.
        let mut total = 0;
        for code in &sorted {
            let unit = demo_unit(&app, &admin, code).await;
            let own = app
                .call(
                    "GET",
                    &format!("/api/v1/campaigns/{campaign}/units/{unit}/forms/01a/flat.xlsx"),
                )
                .token(&admin)
                .send()
                .await
                .expect(200);
            total += cells(&own.body).iter().map(|x| x.0).max().unwrap_or(0) as usize;
        }
        assert_eq!(rows, total);
        // Under the national draft the file for 02a has the unit's code on its rows.
        let res = app
            .call(
                "GET",
                &format!("/api/v1/campaigns/{campaign}/forms/02a/flat.xlsx?profile=national-draft"),
            )
            .token(&admin)
            .send()
            .await
            .expect(200);
        let c = cells(&res.body);
        assert_eq!(c[0].2, Data::String("Mã đơn vị quan hệ ngân sách".into()));
        assert!(
            c.iter()
                .any(|(r, col, d)| *r == 1 && *col == 0 && *d == Data::String("1109302".into()))
        );
        // Not for a unit's accountant.
        let unit = demo_unit(&app, &admin, "1109301").await;
        let accountant = app
            .user(&admin, "ketoan.phang", "unit_accountant", &[unit])
            .await;
        app.call(
            "GET",
            &format!("/api/v1/campaigns/{campaign}/forms/01a/flat.xlsx"),
        )
        .token(&accountant)
        .send()
        .await
        .expect(403);
    }
);

db_test!(
    the_consolidated_report_and_progress_sheet_carry_every_unit,
    |app| {
        let admin = app.admin().await;
        let campaign = app.demo().await;
        // Two units send their 01a report; the ward accepts one.
        for (code, accept) in [("1109301", false), ("1109302", true)] {
            let unit = demo_unit(&app, &admin, code).await;
            let report = format!("/api/v1/campaigns/{campaign}/units/{unit}/reports/01");
            app.call("POST", &format!("{report}/submit"))
                .token(&admin)
                .json(&json!({"nil_return": false}))
                .send()
                .await
                .expect(200);
            if accept {
                app.call("POST", &format!("{report}/accept"))
                    .token(&admin)
                    .json(&json!({}))
                    .send()
                    .await
                    .expect(200);
            }
        }
        // The ward's files, as its finance office downloads them (the installation's are by
        // province: the demo ward lies in tỉnh Lạng Sơn).
        let ward = app.login("taichinh", DEMO_PASSWORD).await;
        let res = app
            .call(
                "GET",
                &format!("/api/v1/campaigns/{campaign}/forms/01a/summary.xlsx"),
            )
            .token(&ward)
            .send()
            .await
            .expect(200);
        let c = cells(&res.body);
        for code in ["1109301", "1109316"] {
            assert!(find(&c, code).is_some(), "unit {code}");
        }
        // Each unit's 01a report as the board states it.
        let board = app
            .call(
                "GET",
                &format!("/api/v1/campaigns/{campaign}/progress?per_page=100"),
            )
            .token(&admin)
            .send()
            .await
            .json();
        let mut reports = Vec::new();
        for r in board["rows"].as_array().unwrap() {
            for t in r["reports"].as_array().unwrap() {
                if t["form_code"] == "01a" {
                    reports.push((
                        r["code"].as_str().unwrap().to_string(),
                        r["unit_id"].as_i64().unwrap(),
                        t["state"].as_str().unwrap().to_string(),
                        t["record_count"].as_f64().unwrap(),
                        t["original_cost"].as_f64().unwrap(),
                    ));
                }
            }
        }
        let sent = |state: &str| state == "submitted" || state == "accepted";
        assert!(
            reports.iter().any(|r| sent(&r.2)) && reports.iter().any(|r| !sent(&r.2)),
            "{reports:?}"
        );
        let (h, state_col, _) = find(&c, "Trạng thái báo cáo").unwrap().clone();
        let sum_col = find(&c, "Cộng").unwrap().1;
        let land_col = c
            .iter()
            .find(|(r, _, d)| *r == h + 1 && matches!(d, Data::String(s) if s == "Diện tích (m²)"))
            .map(|(_, col, _)| *col)
            .expect("the land area beside the values");
        let row_of = |text: &str| {
            find(&c, text)
                .map(|x| x.0)
                .unwrap_or_else(|| panic!("{text}"))
        };
        let (sub_a, head_b, sub_b, total) = (
            row_of("Cộng A (đã gửi, đã chấp nhận)"),
            row_of(
                "B. Báo cáo chưa gửi (đang nhập, bị trả lại, chưa bắt đầu) — không cộng vào tổng",
            ),
            row_of("Cộng B (chưa gửi)"),
            row_of("TỔNG CỘNG (= A: báo cáo đã gửi, đã chấp nhận)"),
        );
        let value = |row: u32, col: u32| match c.iter().find(|(r, k, _)| *r == row && *k == col) {
            Some((_, _, Data::Float(f))) => *f,
            Some((_, _, Data::Int(i))) => *i as f64,
            Some((_, _, Data::String(s))) => panic!("text {s} at {row},{col}"),
            _ => 0.0,
        };
        let (mut sent_count, mut sent_cost, mut draft_cost) = (0.0, 0.0, 0.0);
        for (code, unit, state, count, cost) in &reports {
            let row = find(&c, code).unwrap().0;
            let label = match state.as_str() {
                "submitted" => "Đã gửi",
                "accepted" => "Đã chấp nhận",
                "returned" => "Bị trả lại",
                "draft" => "Đang nhập",
                _ => "Chưa bắt đầu",
            };
            assert!(
                matches!(&c.iter().find(|(r, k, _)| *r == row && *k == state_col).unwrap().2,
                    Data::String(s) if s == label),
                "unit {code}: {label}"
            );
            if sent(state) {
                assert!(row < sub_a, "unit {code} is in part A");
                sent_count += count;
                sent_cost += cost;
            } else {
                assert!(row > head_b && row < sub_b, "unit {code} is in part B");
                draft_cost += cost;
            }
            assert_eq!(value(row, sum_col), *count, "unit {code}: assets");
            // m² of land: the counted areas of its land records.
            let assets = app
                .call(
                    "GET",
                    &format!("/api/v1/campaigns/{campaign}/units/{unit}/assets?asset_type=01&per_page=500"),
                )
                .token(&admin)
                .send()
                .await
                .json();
            let land: f64 = assets["items"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|a| a["section"] == "I")
                .filter_map(|a| a["qty_counted"].as_f64())
                .sum();
            assert!(
                (value(row, land_col) - land).abs() < 0.001,
                "unit {code}: {land} m²"
            );
        }
        assert_eq!(
            value(total, sum_col),
            sent_count,
            "the total counts sent reports only"
        );
        assert_eq!(value(total, sum_col + 1), sent_cost);
        assert_eq!(value(sub_b, sum_col + 1), draft_cost, "drafts apart");
        let national = app
            .call(
                "GET",
                &format!("/api/v1/campaigns/{campaign}/progress.xlsx"),
            )
            .token(&admin)
            .send()
            .await
            .expect(200);
        let c = cells(&national.body);
        assert!(
            find(&c, "Tỉnh Lạng Sơn").is_some(),
            "installation-wide: one row per province"
        );
        assert!(find(&c, "1109302").is_none());
        let progress = app
            .call(
                "GET",
                &format!("/api/v1/campaigns/{campaign}/progress.xlsx"),
            )
            .token(&ward)
            .send()
            .await
            .expect(200);
        let c = cells(&progress.body);
        assert!(find(&c, "1109302").is_some());
        // Per type: the deadline in force and the days overdue beside the state.
        let text_at = |row: u32, col: u32| {
            c.iter()
                .find(|(r, k, _)| *r == row && *k == col)
                .map(|(_, _, d)| d.to_string())
                .unwrap_or_default()
        };
        let (hr, hc, _) = find(&c, "Hạn gửi").expect("deadline column").clone();
        assert_eq!(text_at(hr, hc + 1), "Số ngày quá hạn");
        let row = find(&c, "1109302").unwrap().0;
        assert_eq!(text_at(row, hc), "31/03/2026");
        assert!(
            c.iter()
                .any(|(_, _, d)| matches!(d, Data::String(s) if s == "Đang nhập"))
        );
    }
);

/// A word of a rendered PDF page, as `pdftotext -bbox` places it (points).
#[derive(Debug, Clone)]
struct Word {
    page: usize,
    text: String,
    x0: f64,
    y0: f64,
    x1: f64,
    y1: f64,
}

/// Parses `pdftotext -bbox` output: `<page …>` then `<word xMin= yMin= xMax= yMax=>text</word>`.
fn pdf_words(html: &str) -> Vec<Word> {
    let attr = |tag: &str, name: &str| -> f64 {
        let key = format!("{name}=\"");
        tag.split(&key)
            .nth(1)
            .and_then(|s| s.split('"').next())
            .and_then(|s| s.parse().ok())
            .unwrap_or(f64::NAN)
    };
    let mut words = Vec::new();
    for (page, chunk) in html.split("<page ").skip(1).enumerate() {
        for w in chunk.split("<word ").skip(1) {
            let (tag, rest) = w.split_once('>').unwrap_or((w, ""));
            let text = rest.split("</word>").next().unwrap_or("").to_string();
            words.push(Word {
                page: page + 1,
                text,
                x0: attr(tag, "xMin"),
                y0: attr(tag, "yMin"),
                x1: attr(tag, "xMax"),
                y1: attr(tag, "yMax"),
            });
        }
    }
    words
}

/// Height of a word box per point of font size: LibreOffice prints Times New Roman
/// as Liberation Serif, whose box poppler reports 1.30 em high (an 11-pt cell printed
/// at 77 % gives 8.47 pt and an 11.04-pt box).
const BOX_PER_PT: f64 = 1.30;

/// Renders the demo's 01a, 02a and 18a with LibreOffice, as an official prints them,
/// and measures the PDF: A4 landscape pages, no text under 7 pt, no two words
/// overprinting each other (a wrapped cell running into the next row), and the
/// frame (form number, motto, title) on the first page.
#[tokio::test]
async fn the_demo_forms_print_legibly_on_a4_landscape() {
    let test = "the A4 rendering test";
    if !require_program("soffice", "libreoffice-calc-nogui", test)
        || !require_program("pdftotext", "poppler-utils", test)
        || !require_font("Liberation Serif", "fonts-liberation2", test)
    {
        return;
    }
    let (office, pdftotext) = ("soffice", "pdftotext");
    run(Backend::Sqlite, move |app| async move {
        let admin = app.admin().await;
        let campaign = app.demo().await;
        let dir = std::env::temp_dir().join(format!("kiemke-pdf-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for (code, form) in [("1109301", "01a"), ("1109302", "02a"), ("1109303", "18a")] {
            let unit = demo_unit(&app, &admin, code).await;
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
            let xlsx = dir.join(format!("{form}.xlsx"));
            std::fs::write(&xlsx, body).unwrap();
            let out = std::process::Command::new(office)
                .args(["--headless", "--convert-to", "pdf", "--outdir"])
                .arg(&dir)
                .arg(&xlsx)
                .env("HOME", &dir)
                .output()
                .expect("LibreOffice runs");
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            let pdf = dir.join(format!("{form}.pdf"));
            let out = std::process::Command::new(pdftotext)
                .arg("-bbox")
                .arg(&pdf)
                .arg("-")
                .output()
                .expect("pdftotext runs");
            assert!(out.status.success());
            let html = String::from_utf8_lossy(&out.stdout).to_string();
            let pages: Vec<&str> = html.split("<page ").skip(1).collect();
            assert!(!pages.is_empty(), "{form}: pages");
            for page in pages {
                assert!(
                    page.starts_with(r#"width="841.8"#) && page.contains(r#"height="595.3"#),
                    "{form}: A4 landscape pages, not {}",
                    page.lines().next().unwrap_or("")
                );
            }
            let words = pdf_words(&html);
            assert!(words.len() > 100, "{form}: the PDF holds the form's text");

            // The frame on page 1.
            let first: String = words
                .iter()
                .filter(|w| w.page == 1)
                .map(|w| w.text.as_str())
                .collect::<Vec<_>>()
                .join(" ");
            for text in [
                format!("Mẫu số {form}"),
                "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM".to_string(),
                "PHIẾU KIỂM KÊ".to_string(),
            ] {
                assert!(first.contains(&text), "{form}: «{text}» on page 1");
            }

            // Smallest type after fitting.
            let smallest = words
                .iter()
                .map(|w| ((w.y1 - w.y0) / BOX_PER_PT, w))
                .min_by(|a, b| a.0.total_cmp(&b.0))
                .expect("words");
            assert!(
                smallest.0 >= 7.0,
                "{form}: «{}» on page {} prints at {:.1} pt",
                smallest.1.text,
                smallest.1.page,
                smallest.0
            );

            // No two words overprint. Boxes of consecutive lines in one wrapped cell
            // share 0.15 em (1.30-em boxes, 1.15-em line pitch), so a quarter of a box
            // is allowed vertically; 0.5 pt horizontally for glyphs that touch.
            for (i, a) in words.iter().enumerate() {
                for b in words.iter().skip(i + 1).filter(|b| b.page == a.page) {
                    let dx = a.x1.min(b.x1) - a.x0.max(b.x0);
                    let dy = a.y1.min(b.y1) - a.y0.max(b.y0);
                    let height = (a.y1 - a.y0).min(b.y1 - b.y0);
                    assert!(
                        dx <= 0.5 || dy <= 0.25 * height,
                        "{form}: «{}» and «{}» overprint on page {}",
                        a.text,
                        b.text,
                        a.page
                    );
                }
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
    })
    .await;
}
