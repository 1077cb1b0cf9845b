//! Issue 16: the workbooks of a node of the administrative tree — a province's progress.xlsx
//! and consolidated report with one row per ward and the province's totals, a ward's as
//! before, `node=` inside the caller's scope only.

use calamine::Data;
use serde_json::{Value, json};

use super::{cells, find, number_at};
use crate::{db_test, support::*};

/// Lạng Sơn (20) with phường Tam Thanh (06565: two units, three reports owed) and phường
/// Lương Văn Tri (06553: one unit), Cao Bằng (04) with phường Thục Phán (01273: one unit).
/// Sent: Tam Thanh's first unit's 01 (two computers, 60 million), Lương Văn Tri's unit's 01
/// (one, 30 million) and Thục Phán's (one); Tam Thanh's second unit has a draft (one computer).
struct Tree {
    admin: String,
    campaign: i64,
    lang_son: i64,
    tam_thanh: i64,
    luong_van_tri: i64,
    province_officer: String,
    tam_thanh_officer: String,
}

fn computer(code: &str) -> Value {
    json!({"asset_type": "01", "section": "IV", "code": code, "name": "Máy tính", "qty_books": 1, "qty_counted": 1,
           "original_cost": 30_000_000, "depreciation": 12_000_000, "usage_status": "1"})
}

async fn tree(app: &TestApp) -> Tree {
    let admin = app.admin().await;
    let campaign = app.campaign(&admin).await;
    let lang_son = app.province(&admin, "20", "Tỉnh Lạng Sơn").await;
    // Another province and ward, out of every officer's scope here.
    app.province(&admin, "04", "Tỉnh Cao Bằng").await;
    let tam_thanh = app.ward(&admin, "06565", "Phường Tam Thanh", "20").await;
    let luong_van_tri = app
        .ward(&admin, "06553", "Phường Lương Văn Tri", "20")
        .await;
    app.ward(&admin, "01273", "Phường Thục Phán", "04").await;
    let u1 = app
        .unit_in(&admin, "1000001", "Trường Tiểu học Tam Thanh", "06565")
        .await;
    let u2 = app
        .unit_in(&admin, "1000002", "Trạm Y tế Tam Thanh", "06565")
        .await;
    let u3 = app
        .unit_in(&admin, "1000003", "Trường Mầm non Lương Văn Tri", "06553")
        .await;
    let u4 = app
        .unit_in(&admin, "1000004", "Trường THCS Thục Phán", "01273")
        .await;
    app.register(&admin, campaign, u1, &["01", "02"]).await;
    for u in [u2, u3, u4] {
        app.register(&admin, campaign, u, &["01"]).await;
    }
    for (unit, computers, send) in [
        (u1, &["MT-01", "MT-02"][..], true),
        (u2, &["MT-03"][..], false),
        (u3, &["MT-04"][..], true),
        (u4, &["MT-05"][..], true),
    ] {
        for code in computers {
            app.call(
                "POST",
                &format!("/api/v1/campaigns/{campaign}/units/{unit}/assets"),
            )
            .token(&admin)
            .json(&computer(code))
            .send()
            .await
            .expect(201);
        }
        if send {
            app.call(
                "POST",
                &format!("/api/v1/campaigns/{campaign}/units/{unit}/reports/01/submit"),
            )
            .token(&admin)
            .json(&json!({}))
            .send()
            .await
            .expect(200);
        }
    }
    let province_officer = app
        .bound_user(&admin, "so_tai_chinh", "finance_officer", "20")
        .await;
    let tam_thanh_officer = app
        .bound_user(&admin, "tc_tam_thanh", "finance_officer", "06565")
        .await;
    Tree {
        admin,
        campaign,
        lang_son,
        tam_thanh,
        luong_van_tri,
        province_officer,
        tam_thanh_officer,
    }
}

async fn xlsx(app: &TestApp, token: &str, path: &str) -> Vec<(u32, u32, Data)> {
    let res = app.call("GET", path).token(token).send().await.expect(200);
    cells(&res.body)
}

fn text_at(c: &[(u32, u32, Data)], row: u32, col: u32) -> String {
    c.iter()
        .find(|(r, k, _)| *r == row && *k == col)
        .map(|(_, _, d)| d.to_string())
        .unwrap_or_default()
}

/// The column of the header `text` under the group head `group` (the row below it).
fn column_under(c: &[(u32, u32, Data)], group: &str, text: &str) -> u32 {
    let (g, first, _) = find(c, group).unwrap_or_else(|| panic!("group {group}"));
    c.iter()
        .filter(|(r, k, d)| {
            *r == g + 1 && *k >= *first && matches!(d, Data::String(s) if s == text)
        })
        .map(|(_, k, _)| *k)
        .min()
        .unwrap_or_else(|| panic!("{text} under {group}"))
}

db_test!(
    a_province_officers_progress_workbook_has_one_row_per_ward_with_the_boards_counts_and_the_provinces_totals,
    |app| {
        let t = tree(&app).await;
        let c = xlsx(
            &app,
            &t.province_officer,
            &format!("/api/v1/campaigns/{}/progress.xlsx", t.campaign),
        )
        .await;
        assert!(
            find(&c, "THEO DÕI TIẾN ĐỘ KIỂM KÊ TÀI SẢN CÔNG THEO XÃ, PHƯỜNG").is_some(),
            "the roll-up title"
        );
        assert_eq!(
            find(&c, "TỈNH LẠNG SƠN").map(|x| (x.0, x.1)),
            Some((0, 0)),
            "the province names itself top left"
        );
        assert!(find(&c, "UBND PHƯỜNG TAM THANH").is_none(), "not a ward's header");
        let (lvt, name_col, _) = find(&c, "Phường Lương Văn Tri").expect("a ward row").clone();
        let tt = find(&c, "Phường Tam Thanh").expect("a ward row").0;
        assert_eq!(tt, lvt + 1, "wards in code order, one row each");
        assert_eq!(text_at(&c, lvt, name_col - 1), "06553");
        assert!(find(&c, "Tên xã, phường").is_some_and(|x| x.1 == name_col));
        for unit in ["1000001", "1000002", "1000003", "Phường Thục Phán", "1000004"] {
            assert!(find(&c, unit).is_none(), "{unit}: no unit rows, no other province");
        }
        let col = |group: &str, text: &str| column_under(&c, group, text);
        let units = col("Đơn vị", "Số đơn vị");
        let teams = col("Đơn vị", "Đã thành lập Tổ kiểm kê");
        let complete = col("Đơn vị", "Đã gửi đủ báo cáo");
        let owed = col("Báo cáo kiểm kê", "Phải gửi");
        let sent = col("Báo cáo kiểm kê", "Đã gửi");
        let draft = col("Báo cáo kiểm kê", "Đang nhập");
        let not_started = col("Báo cáo kiểm kê", "Chưa bắt đầu");
        let on_time = col("Báo cáo đã gửi", "Đúng hạn");
        let accepted_all = find(&c, "Đã duyệt hết báo cáo").expect("approval column").1;
        // Each ward's row is the board's row of that ward.
        let board = app
            .call("GET", &format!("/api/v1/campaigns/{}/progress", t.campaign))
            .token(&t.province_officer)
            .send()
            .await
            .expect(200)
            .json();
        let areas = board["areas"].as_array().unwrap();
        for (row, a) in [(lvt, &areas[0]), (tt, &areas[1])] {
            assert_eq!(text_at(&c, row, name_col), a["node"]["name"].as_str().unwrap());
            for (k, col) in [
                ("units_total", units),
                ("teams_established", teams),
                ("units_fully_submitted", complete),
                ("obligations", owed),
                ("submitted_on_time", on_time),
            ] {
                assert_eq!(number_at(&c, row, col), a[k].as_f64().unwrap(), "{k}");
            }
            for (s, col) in [
                ("submitted", sent),
                ("draft", draft),
                ("not_started", not_started),
            ] {
                assert_eq!(
                    number_at(&c, row, col),
                    a["reports_by_state"][s].as_f64().unwrap(),
                    "{s}"
                );
            }
        }
        // The figures themselves: Tam Thanh 2 units, 3 reports (one sent, one draft, one not
        // started); Lương Văn Tri 1 unit, its report sent.
        assert_eq!(
            [units, owed, sent, draft, not_started, complete].map(|k| number_at(&c, tt, k)),
            [2.0, 3.0, 1.0, 1.0, 1.0, 0.0]
        );
        assert_eq!(
            [units, owed, sent, draft, not_started, complete].map(|k| number_at(&c, lvt, k)),
            [1.0, 1.0, 1.0, 0.0, 0.0, 1.0]
        );
        assert_eq!(text_at(&c, tt, accepted_all), "Không");
        // The province's totals are the board's.
        let total = find(&c, "TỔNG CỘNG").expect("total row").0;
        assert_eq!(total, tt + 1);
        for (k, col) in [
            ("units_total", units),
            ("obligations", owed),
            ("units_fully_submitted", complete),
            ("submitted_on_time", on_time),
        ] {
            assert_eq!(number_at(&c, total, col), board[k].as_f64().unwrap(), "{k}");
        }
        assert_eq!(number_at(&c, total, units), 3.0);
        assert_eq!(number_at(&c, total, owed), 4.0);
        assert_eq!(number_at(&c, total, sent), 2.0);
        assert_eq!(number_at(&c, total, accepted_all), 0.0, "no ward accepted all");
        // The same sheet for the admin naming the province.
        let same = xlsx(
            &app,
            &t.admin,
            &format!("/api/v1/campaigns/{}/progress.xlsx?node={}", t.campaign, t.lang_son),
        )
        .await;
        assert_eq!(same, c);
        // The installation's: one row per province.
        let national = xlsx(
            &app,
            &t.admin,
            &format!("/api/v1/campaigns/{}/progress.xlsx", t.campaign),
        )
        .await;
        assert!(find(&national, "Tên tỉnh, thành phố").is_some());
        let cb = find(&national, "Tỉnh Cao Bằng").expect("a province row").0;
        let ls = find(&national, "Tỉnh Lạng Sơn").expect("a province row").0;
        assert_eq!(ls, cb + 1);
        let units = column_under(&national, "Đơn vị", "Số đơn vị");
        assert_eq!(number_at(&national, cb, units), 1.0);
        assert_eq!(number_at(&national, ls, units), 3.0);
        let total = find(&national, "TỔNG CỘNG").unwrap().0;
        assert_eq!(number_at(&national, total, units), 4.0);
    }
);

db_test!(
    a_province_officers_consolidated_report_sums_each_wards_sent_reports_and_a_ward_node_covers_only_that_ward,
    |app| {
        let t = tree(&app).await;
        let path = format!("/api/v1/campaigns/{}/forms/01a/summary.xlsx", t.campaign);
        let c = xlsx(&app, &t.province_officer, &path).await;
        let (lvt, name_col, _) = find(&c, "Phường Lương Văn Tri").expect("a ward row").clone();
        let tt = find(&c, "Phường Tam Thanh").expect("a ward row").0;
        assert_eq!(tt, lvt + 1);
        assert!(find(&c, "Tên xã, phường").is_some_and(|x| x.1 == name_col));
        assert!(find(&c, "1000001").is_none(), "no unit rows");
        assert!(find(&c, "Phường Thục Phán").is_none(), "no other province");
        let sent_col = find(&c, "Báo cáo đã gửi / phải gửi").expect("sent column").1;
        assert_eq!(text_at(&c, tt, sent_col), "1/2");
        assert_eq!(text_at(&c, lvt, sent_col), "1/1");
        let count = column_under(&c, "Cộng", "Số tài sản");
        let cost = column_under(&c, "Cộng", "Nguyên giá (đồng)");
        // Tam Thanh: its sent report's two computers; the draft's one is left out.
        assert_eq!(number_at(&c, tt, count), 2.0);
        assert_eq!(number_at(&c, tt, cost), 60_000_000.0);
        assert_eq!(number_at(&c, lvt, count), 1.0);
        assert_eq!(number_at(&c, lvt, cost), 30_000_000.0);
        let section_iv = c
            .iter()
            .find(|(_, _, d)| matches!(d, Data::String(s) if s.starts_with("IV. ")))
            .map(|(_, _, d)| d.to_string())
            .expect("section IV");
        assert_eq!(number_at(&c, tt, column_under(&c, &section_iv, "Số tài sản")), 2.0);
        let total = find(&c, "TỔNG CỘNG (báo cáo đã gửi, đã chấp nhận)")
            .expect("the province's total")
            .0;
        assert_eq!(total, tt + 1);
        assert_eq!(number_at(&c, total, count), 3.0);
        assert_eq!(number_at(&c, total, cost), 90_000_000.0);

        // A ward of the province: that ward's units, as a ward's report.
        let ward = xlsx(
            &app,
            &t.province_officer,
            &format!("{path}?node={}", t.tam_thanh),
        )
        .await;
        assert!(find(&ward, "1000001").is_some());
        assert!(find(&ward, "1000002").is_some());
        assert!(find(&ward, "1000003").is_none(), "another ward's unit");
        assert!(find(&ward, "Trạng thái báo cáo").is_some());
        let total = find(&ward, "TỔNG CỘNG (= A: báo cáo đã gửi, đã chấp nhận)")
            .unwrap()
            .0;
        let count = column_under(&ward, "Cộng", "Số tài sản");
        assert_eq!(number_at(&ward, total, count), 2.0);
        // The ward officer's own file is the same, unchanged by the tree.
        let own = xlsx(&app, &t.tam_thanh_officer, &path).await;
        assert_eq!(own, ward);
        assert!(find(&own, "UBND PHƯỜNG TAM THANH").is_some_and(|x| x.0 == 0));

        // The flat file of every unit follows the node too.
        let flat = xlsx(
            &app,
            &t.province_officer,
            &format!(
                "/api/v1/campaigns/{}/forms/01a/flat.xlsx?node={}",
                t.campaign, t.luong_van_tri
            ),
        )
        .await;
        assert!(find(&flat, "MT-04").is_some());
        for other in ["MT-01", "MT-03", "MT-05"] {
            assert!(find(&flat, other).is_none(), "{other} is not Lương Văn Tri's");
        }
        let province = xlsx(
            &app,
            &t.province_officer,
            &format!("/api/v1/campaigns/{}/forms/01a/flat.xlsx", t.campaign),
        )
        .await;
        for code in ["MT-01", "MT-02", "MT-03", "MT-04"] {
            assert!(find(&province, code).is_some(), "{code}");
        }
        assert!(find(&province, "MT-05").is_none(), "Cao Bằng's");
    }
);

db_test!(
    a_ward_officers_progress_workbook_still_lists_its_units,
    |app| {
        let t = tree(&app).await;
        let path = format!("/api/v1/campaigns/{}/progress.xlsx", t.campaign);
        let own = xlsx(&app, &t.tam_thanh_officer, &path).await;
        assert!(find(&own, "Mẫu số 01a").is_some());
        assert!(find(&own, "Mã đơn vị").is_some());
        let a = find(&own, "1000001").expect("unit row").0;
        assert_eq!(find(&own, "1000002").expect("unit row").0, a + 1);
        assert!(find(&own, "1000003").is_none());
        assert!(find(&own, "Tên xã, phường").is_none());
        let seen = xlsx(
            &app,
            &t.province_officer,
            &format!("{path}?node={}", t.tam_thanh),
        )
        .await;
        assert_eq!(
            seen, own,
            "the province sees the ward's sheet as the ward does"
        );
    }
);

// A node outside the caller's scope answers 404 on every node workbook as on the board:
// progress::rollup::a_node_outside_the_callers_scope_answers_404_on_the_board_summary_reminders_and_workbooks.
db_test!(
    a_node_that_is_not_an_id_is_refused_on_the_consolidated_workbook,
    |app| {
        let t = tree(&app).await;
        let c = t.campaign;
        app.call(
            "GET",
            &format!("/api/v1/campaigns/{c}/forms/01a/summary.xlsx?node=0"),
        )
        .token(&t.admin)
        .send()
        .await
        .expect(422);
    }
);
