//! The progress board of the demo ward, the summary that reads like the ward's report, and the
//! reminders of the reports still owed.

use serde_json::json;

use crate::{db_test, support::*};

db_test!(
    the_demo_board_shows_16_units_16_teams_and_the_registered_types,
    |app| {
        let admin = app.admin().await;
        let campaign = app.demo().await;
        let b = app
            .call(
                "GET",
                &format!("/api/v1/campaigns/{campaign}/progress?per_page=100"),
            )
            .token(&admin)
            .send()
            .await
            .expect(200)
            .json();
        assert_eq!(b["units_total"], 16);
        assert_eq!(b["teams_established"], 16);
        assert_eq!(b["registered_on_time"], 16);
        assert_eq!(b["registered_late"], 0);
        assert_eq!(b["not_registered"], 0);
        assert_eq!(
            b["registrations_by_type"],
            json!({"01": 16, "02": 1, "18": 1})
        );
        assert_eq!(b["obligations"], 18);
        let by_state: i64 = b["reports_by_state"]
            .as_object()
            .unwrap()
            .values()
            .map(|v| v.as_i64().unwrap())
            .sum();
        assert_eq!(by_state, 18);
        assert_eq!(b["reports_by_state"]["draft"], 18);
        assert_eq!(b["rows"].as_array().unwrap().len(), 16);
        // Totals by type agree with the units' own totals.
        let mut cost_01 = 0;
        for row in b["rows"].as_array().unwrap() {
            let t = app
                .call(
                    "GET",
                    &format!(
                        "/api/v1/campaigns/{campaign}/units/{}/totals",
                        row["unit_id"]
                    ),
                )
                .token(&admin)
                .send()
                .await
                .json();
            for ty in t["types"].as_array().unwrap() {
                if ty["asset_type"] == "01" {
                    cost_01 += ty["total"]["original_cost"].as_i64().unwrap();
                }
            }
        }
        assert_eq!(b["totals_by_type"]["01"]["original_cost"], cost_01);
        let filtered = app
            .call(
                "GET",
                &format!("/api/v1/campaigns/{campaign}/progress?asset_type=02"),
            )
            .token(&admin)
            .send()
            .await
            .json();
        assert_eq!(filtered["rows_total"], 1);
        assert_eq!(
            filtered["obligations"], 18,
            "filters narrow the rows, not the counts"
        );
    }
);

/// The ward's quarterly report (the seed, phường Tam Thanh), section on the inventory:
/// the sentences the summary must reproduce on the demo, markdown italics removed. The
/// seed writes `(mẫu số 01a)` once and `(Mẫu số 02a)` after; the summary writes `Mẫu số` throughout.
const SEED_TYPES: &str = "Đã thực hiện đăng ký 03 loại tài sản/tổng số 19 loại tài sản kiểm kê theo Quyết định 213/QĐ-TTg bao gồm: Tài sản công tại cơ quan, tổ chức, đơn vị (mẫu số 01a), Tài sản kết cấu hạ tầng giao thông (Mẫu số 02a), Tài sản kết cấu hạ tầng thuộc thiết chế văn hóa, thiết chế thể thao ở cơ sở (Mẫu số 18a).";
const SEED_UNITS: &str = "Tổng số đơn vị thuộc phạm vi quản lý thuộc đối tượng kiểm kê là 16 đơn vị, 16/16 đơn vị đã thực hiện thành lập Tổ kiểm kê, đăng ký đối tượng kiểm kê đúng thời hạn quy định, trong đó:";
const SEED_BY_TYPE: [&str; 3] = [
    "+ Tài sản công tại cơ quan, tổ chức, đơn vị: 16 đơn vị;",
    "+ Tài sản kết cấu hạ tầng giao thông: 01 đơn vị;",
    "+ Tài sản kết cấu hạ tầng thuộc thiết chế văn hóa, thiết chế thể thao ở cơ sở: 01 đơn vị.",
];

db_test!(the_summary_reads_like_the_wards_report, |app| {
    let campaign = app.demo().await;
    // The ward's finance office reads its own paragraph (an installation-wide account's adds
    // a line per province: tests/api/progress/rollup.rs).
    let finance = app.login("taichinh", DEMO_PASSWORD).await;
    let s = app
        .call(
            "GET",
            &format!("/api/v1/campaigns/{campaign}/progress/summary"),
        )
        .token(&finance)
        .send()
        .await
        .expect(200)
        .json();
    let parts = &s["parts"];
    assert_eq!(
        parts["types"],
        SEED_TYPES.replace("(mẫu số 01a)", "(Mẫu số 01a)")
    );
    assert_eq!(parts["units"], SEED_UNITS);
    assert_eq!(parts["units_by_type"], json!(SEED_BY_TYPE));
    // Reports sent to the ward, stated as such: never the national software.
    let board = app
        .call("GET", &format!("/api/v1/campaigns/{campaign}/progress"))
        .token(&finance)
        .send()
        .await
        .expect(200)
        .json();
    let sent =
        board["submitted_on_time"].as_i64().unwrap() + board["submitted_late"].as_i64().unwrap();
    let submissions = parts["submissions"].as_str().unwrap();
    assert!(
        submissions.starts_with(&format!(
            "Số báo cáo kiểm kê các đơn vị đã gửi UBND phường: {sent}/18 báo cáo ("
        )),
        "{submissions}"
    );
    assert!(
        submissions.contains(&format!(
            "{}/16 đơn vị đã gửi đủ báo cáo",
            board["units_fully_submitted"]
        )),
        "{submissions}"
    );
    assert!(submissions.ends_with("Thời hạn gửi báo cáo là trước ngày 31/03/2026."));
    let text = s["text"].as_str().unwrap();
    assert!(!text.to_lowercase().contains("phần mềm"), "{text}");
    // The values count sent reports only, and say so.
    let values = parts["values"].as_str().unwrap();
    assert!(
        values.starts_with(&format!(
            "Tổng nguyên giá tài sản trong {sent} báo cáo đã gửi UBND phường: "
        )),
        "{values}"
    );
    assert!(values.contains("không tính báo cáo đang nhập"), "{values}");
    // The plain text is the parts, one per line.
    let mut lines = vec![
        parts["types"].as_str().unwrap().to_string(),
        SEED_UNITS.to_string(),
    ];
    lines.extend(SEED_BY_TYPE.iter().map(|l| l.to_string()));
    lines.push(submissions.to_string());
    lines.push(values.to_string());
    assert_eq!(text, lines.join("\n"));
});

db_test!(the_summary_values_leave_out_drafts, |app| {
    let admin = app.admin().await;
    let campaign = app.demo().await;
    let s = app
        .call(
            "GET",
            &format!("/api/v1/campaigns/{campaign}/progress/summary"),
        )
        .token(&admin)
        .send()
        .await
        .expect(200)
        .json();
    let board = app
        .call("GET", &format!("/api/v1/campaigns/{campaign}/progress"))
        .token(&admin)
        .send()
        .await
        .expect(200)
        .json();
    let all: i64 = board["totals_by_type"]
        .as_object()
        .unwrap()
        .values()
        .map(|t| t["original_cost"].as_i64().unwrap())
        .sum();
    let all_text = kiemke::numfmt::vn_money(all);
    let values = s["parts"]["values"].as_str().unwrap();
    assert!(
        all > 0 && !values.contains(&format!(": {all_text} đồng,")),
        "the demo holds drafts, so the sent total is not the total of every record: {values}"
    );
});

db_test!(reminders_list_the_units_still_owing_reports, |app| {
    let admin = app.admin().await;
    let campaign = app.demo().await;
    let token = relogin(&app, "2026-03-25T08:00:00+07:00").await;
    let _ = admin;
    let all = app
        .call("GET", &format!("/api/v1/campaigns/{campaign}/reminders"))
        .token(&token)
        .send()
        .await
        .expect(200)
        .json();
    assert_eq!(all.as_array().unwrap().len(), 16);
    let kinhte = all
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["code"] == "1109302")
        .unwrap();
    assert_eq!(kinhte["owed"].as_array().unwrap().len(), 2);
    assert_eq!(kinhte["owed"][0]["days_left"], 6);
    let soon = app
        .call(
            "GET",
            &format!("/api/v1/campaigns/{campaign}/reminders?within_days=3"),
        )
        .token(&token)
        .send()
        .await
        .json();
    assert_eq!(soon, json!([]));
    let week = app
        .call(
            "GET",
            &format!("/api/v1/campaigns/{campaign}/reminders?within_days=7"),
        )
        .token(&token)
        .send()
        .await
        .json();
    assert_eq!(week.as_array().unwrap().len(), 16);
    app.call(
        "GET",
        &format!("/api/v1/campaigns/{campaign}/reminders?within_days=-1"),
    )
    .token(&token)
    .send()
    .await
    .problem(422, "validation");
});
