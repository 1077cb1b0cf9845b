//! The finance office's day and the chairman's read-only view, end to end in the browser.

use std::io::Read;

use calamine::{Data, Reader, open_workbook_auto};
use chrono::Duration;
use serde_json::json;

use crate::support::*;

/// The first asset code of a unit's report of type 01, read through the API.
async fn first_code(app: &TestApp, unit: i64) -> String {
    let token = app.api_login(ACCOUNTANT).await;
    let found = app
        .api(
            "GET",
            &format!(
                "/api/v1/campaigns/{}/units/{unit}/assets?asset_type=01",
                app.campaign_id
            ),
            &token,
            None,
        )
        .await
        .json();
    found["items"][0]["code"]
        .as_str()
        .expect("an asset code")
        .to_string()
}

/// The accountant of 1109302 sends its type-01 report through the API (on time), and the
/// clock moves past the deadline, so that its type-02 report and every other unit's are overdue.
async fn submitted_then_overdue(app: &TestApp, unit: i64) {
    let token = app.api_login(ACCOUNTANT).await;
    let res = app
        .api(
            "POST",
            &format!(
                "/api/v1/campaigns/{}/units/{unit}/reports/01/submit",
                app.campaign_id
            ),
            &token,
            Some(json!({})),
        )
        .await;
    assert_eq!(res.status, 200, "submit: {}", res.text());
    app.clock.advance(Duration::days(52));
}

/// Every text cell of every sheet of a workbook.
fn cells(path: &std::path::Path) -> Vec<String> {
    let mut wb = open_workbook_auto(path).expect("open the workbook");
    let mut out = Vec::new();
    for name in wb.sheet_names() {
        let range = wb.worksheet_range(&name).expect("sheet");
        for row in range.rows() {
            for c in row {
                if let Data::String(s) = c {
                    out.push(s.clone());
                }
            }
        }
    }
    out
}

crate::ui_test!(
    the_finance_offices_day_from_the_board_to_an_accepted_report_and_the_zip_of_forms,
    |app| {
        let unit = app.unit_id("1109302").await;
        let code = first_code(&app, unit).await;
        submitted_then_overdue(&app, unit).await;

        // The board: the demo's figures.
        let page = app.logged_in(FINANCE).await;
        assert_eq!(page.path().await, "/board");
        assert_eq!(page.text("#fig-units").await, "16");
        assert_eq!(page.text("#fig-teams").await, "16/16");
        assert_eq!(page.text("#fig-registered").await, "16/0/0");
        let by_type = page.text("#fig-by-type").await;
        assert!(
            by_type.contains("01a: 16") && by_type.contains("02a: 1") && by_type.contains("18a: 1"),
            "{by_type}"
        );
        assert!(page.text("#fig-states").await.contains("Đã gửi: 1"));
        assert!(page.text("#fig-states").await.contains("Đã chấp nhận: 0"));
        assert_eq!(page.text("#fig-overdue").await, "17");
        assert!(page.has("svg[role=img] title#chart-states-title").await);
        assert!(page.has("svg[role=img] title#chart-timeline-title").await);
        assert!(page.text("#timeline-table").await.contains("10/02/2026"));

        // Filter the overdue units, search without diacritics, open the unit.
        page.select("#f-overdue", "true").await;
        page.click("#filter-button").await;
        assert!(page.path().await.contains("overdue=true"));
        assert!(page.has("#unit-1109302").await, "{}", page.body().await);
        assert_eq!(page.text("#rows-found").await, "16 đơn vị");
        page.fill("#f-q", "phong kinh te").await;
        page.click("#filter-button").await;
        assert_eq!(page.text("#rows-found").await, "1 đơn vị");
        page.click("#unit-1109302 a").await;
        assert_eq!(page.path().await, format!("/units/{unit}"));
        assert_eq!(page.text("#state-01").await, "Đã gửi");
        assert_eq!(page.text("#digest-01").await.trim().len(), 64);
        assert!(page.text("#history-01").await.contains("Gửi báo cáo"));
        // Type 02 is not sent: no action, and the page says why.
        assert!(!page.has("#action-return-02").await);
        let why = page.text("#why-02").await;
        assert!(
            why.contains("báo cáo đã gửi") && why.contains("«Đang nhập»"),
            "{why}"
        );
        assert!(page.has("#records-01").await);

        // Return it with a comment on one asset code.
        page.click("#action-return-01").await;
        page.fill("#f-reason", "Đề nghị kiểm tra lại số liệu").await;
        page.fill("#f-comment_1", "Sai nguyên giá, đối chiếu sổ kế toán")
            .await;
        page.click("#confirm-return").await;
        // A comment without its asset code: said at the field, the typed text kept, nothing returned.
        let summary = page.text("#error-summary").await;
        assert!(summary.contains("Chọn mã tài sản"), "{summary}");
        assert!(page.has("#error-summary a[href='#f-code_1']").await);
        assert_eq!(
            page.value("#f-reason").await,
            "Đề nghị kiểm tra lại số liệu"
        );
        page.select("#f-code_1", &code).await;
        page.click("#confirm-return").await;
        assert_eq!(page.path().await, format!("/units/{unit}?done=returned"));
        assert!(page.text("#flash").await.contains("trả lại"));
        assert_eq!(page.text("#state-01").await, "Bị trả lại");
        let history = page.text("#history-01").await;
        assert!(
            history.contains(&code) && history.contains("Sai nguyên giá"),
            "{history}"
        );

        // The accountant, in a second browser, sees the comment beside the asset, fixes, resubmits.
        let acc = app.logged_in(ACCOUNTANT).await;
        let list = format!("/units/{unit}/types/01");
        acc.goto(&format!("{list}?q={code}")).await;
        let row = acc.text("#asset-table tbody tr").await;
        assert!(
            row.contains("Sai nguyên giá"),
            "the comment beside the asset: {row}"
        );
        acc.click("#asset-table tbody tr td a").await;
        acc.fill("#f-location", "Đã đối chiếu sổ kế toán").await;
        acc.click("#save").await;
        acc.goto(&format!("{list}/submit")).await;
        acc.click("#submit-report").await;
        assert!(acc.has("#locked-banner").await, "{}", acc.body().await);

        // Back at the finance office: the change list, then accept.
        page.goto(&format!("/units/{unit}")).await;
        let changes = page.text("#changes-01").await;
        assert!(changes.contains(&code), "the change list: {changes}");
        assert!(page.text("#history-01").await.contains("Gửi lại báo cáo"));
        page.click("#action-accept-01").await;
        page.click("#confirm-accept").await;
        assert_eq!(page.text("#state-01").await, "Đã chấp nhận");
        assert!(page.text("#history-01").await.contains("Chấp nhận"));
        // Accepting again is not offered, and the page says why.
        page.goto(&format!("/units/{unit}/types/01/accept")).await;
        assert!(page.text("#why-not").await.contains("Đã chấp nhận"));

        // The board's counts change.
        page.goto("/board").await;
        assert!(page.text("#fig-states").await.contains("Đã chấp nhận: 1"));
        assert!(page.text("#fig-states").await.contains("Đã gửi: 0"));

        // The summary paragraph, copied.
        page.goto("/summary").await;
        let text = page.value("#summary-text").await;
        assert!(text.contains("16/16 đơn vị"), "{text}");
        assert!(
            text.contains("+ Tài sản kết cấu hạ tầng giao thông: 01 đơn vị;"),
            "{text}"
        );
        page.pick("#copy-summary").await;
        let mut status = String::new();
        for _ in 0..50 {
            status = page.text("#copy-status").await;
            if !status.is_empty() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert_eq!(status, "Đã sao chép.");

        // Reminders: a ready message per unit that owes a report.
        page.goto("/reminders").await;
        let msg = page.text("#msg-1109302").await;
        assert!(
            msg.contains("Mẫu số 02a") && msg.contains("đã quá hạn"),
            "{msg}"
        );
        assert!(!page.text("#msg-1109301").await.is_empty());

        // The zip of every unit's official form 01a, read back.
        page.goto("/downloads").await;
        page.pick("#download-zip-01a").await;
        let zip_path = page.downloaded("01a_tat_ca_don_vi.zip").await;
        let mut zip = zip::ZipArchive::new(std::fs::File::open(&zip_path).expect("open zip"))
            .expect("a zip archive");
        assert_eq!(zip.len(), 16);
        let names: Vec<String> = (0..zip.len())
            .map(|i| {
                zip.by_index(i)
                    .expect("entry")
                    .name()
                    .expect("name")
                    .to_string()
            })
            .collect();
        assert_eq!(names[0], "01a_1109301.xlsx");
        assert!(names.contains(&"01a_1109302.xlsx".to_string()), "{names:?}");
        let mut bytes = Vec::new();
        zip.by_name("01a_1109302.xlsx")
            .expect("the unit's form")
            .read_to_end(&mut bytes)
            .expect("read entry");
        let xlsx = zip_path.with_extension("1109302.xlsx");
        std::fs::write(&xlsx, bytes).expect("write entry");
        let all = cells(&xlsx);
        assert!(
            all.iter()
                .any(|c| c.contains("Phòng Kinh tế, Hạ tầng và Đô thị phường Tam Thanh")),
            "the unit's name on its form"
        );
        assert!(
            all.iter().any(|c| c == &code),
            "its asset {code} on its form"
        );
    }
);

crate::ui_test!(
    the_chairman_reads_the_board_and_a_unit_but_every_action_is_refused,
    |app| {
        let unit = app.unit_id("1109302").await;
        submitted_then_overdue(&app, unit).await;
        let page = app.logged_in("chutich").await;
        assert_eq!(page.path().await, "/board");
        assert_eq!(page.text("#fig-units").await, "16");
        assert!(!page.has("#nav-reminders").await);
        page.goto(&format!("/units/{unit}")).await;
        assert_eq!(page.text("#state-01").await, "Đã gửi");
        for id in [
            "#action-return-01",
            "#action-accept-01",
            "#action-extension",
        ] {
            assert!(!page.has(id).await, "the chairman is offered {id}");
        }
        page.goto("/summary").await;
        assert!(page.value("#summary-text").await.contains("16/16"));

        // Every action route refuses the role, even with a valid session and form token.
        page.goto(&format!("/units/{unit}")).await;
        let csrf = page.value("input[name=csrf]").await;
        let cookie = page.cookie_header().await;
        let host = app.base.trim_start_matches("http://").to_string();
        let actions = [
            (
                format!("/units/{unit}/types/01/return"),
                format!("csrf={csrf}&reason=Tra+lai"),
            ),
            (
                format!("/units/{unit}/types/01/accept"),
                format!("csrf={csrf}"),
            ),
            (
                format!("/units/{unit}/extension"),
                format!("csrf={csrf}&deadline=2026-05-15&reason=Gia+han"),
            ),
        ];
        for (path, body) in actions {
            page.goto(&path).await;
            assert!(
                page.has("#error-title").await && page.body().await.contains("403"),
                "GET {path}: {}",
                page.body().await
            );
            let res = app
                .request(
                    "POST",
                    &path,
                    &[
                        ("host", host.as_str()),
                        ("cookie", cookie.as_str()),
                        ("content-type", "application/x-www-form-urlencoded"),
                    ],
                    body.into_bytes(),
                )
                .await;
            assert_eq!(res.status, 403, "POST {path}: {}", res.text());
        }
        page.goto("/reminders").await;
        assert!(page.body().await.contains("403"));
        // Nothing changed.
        let finance = app.api_login(FINANCE).await;
        let report = app
            .api(
                "GET",
                &format!(
                    "/api/v1/campaigns/{}/units/{unit}/reports/01",
                    app.campaign_id
                ),
                &finance,
                None,
            )
            .await
            .json();
        assert_eq!(report["state"], "submitted");
        assert!(report["extension_deadline"].is_null());
    }
);

crate::ui_test!(
    the_finance_office_grants_an_extension_and_a_wrong_date_is_shown_at_its_field,
    |app| {
        let unit = app.unit_id("1109302").await;
        let page = app.logged_in(FINANCE).await;
        page.goto(&format!("/units/{unit}")).await;
        page.click("#action-extension").await;
        page.fill("#f-reason", "Đơn vị thay kế toán").await;
        page.client
            .execute(
                "document.getElementById('f-deadline').value = '2026-03-01';",
                vec![],
            )
            .await
            .expect("set date");
        page.click("#confirm-extension").await;
        assert!(
            page.text("#error-summary").await.contains("31/03/2026"),
            "{}",
            page.body().await
        );
        page.client
            .execute(
                "document.getElementById('f-deadline').value = '2026-04-20';",
                vec![],
            )
            .await
            .expect("set date");
        page.click("#confirm-extension").await;
        assert_eq!(page.path().await, format!("/units/{unit}?done=extended"));
        let report = page.text("#report-01").await;
        assert!(report.contains("20/04/2026"), "{report}");
        page.goto("/board").await;
        let chart = page
            .text("section[aria-labelledby='chart-timeline-h']")
            .await;
        assert!(
            chart.contains("Gia hạn 20/04/2026"),
            "the extension marked: {chart}"
        );
    }
);
