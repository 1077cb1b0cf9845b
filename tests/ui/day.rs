//! A whole day of a unit accountant, end to end in the browser.

use std::path::{Path, PathBuf};

use calamine::{Data, Reader, open_workbook_auto};
use serde_json::json;

use crate::support::*;

/// Parses a number written the Vietnamese way (`3.000.000.000`).
fn vnd(s: &str) -> i64 {
    let digits: String = s
        .chars()
        .filter(|c| c.is_ascii_digit() || *c == '-')
        .collect();
    digits
        .parse()
        .unwrap_or_else(|_| panic!("not a number: «{s}»"))
}

/// Writes a flat upload workbook (sheet `flat_01a`, header of field keys) with one section IV asset.
fn flat_workbook(dir: &Path, name: &str, original_cost: &str) -> PathBuf {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("flat_01a").expect("sheet name");
    let header = [
        "section",
        "code",
        "name",
        "original_cost",
        "usage_status",
        "price_basis",
    ];
    for (c, h) in header.iter().enumerate() {
        ws.write_string(0, c as u16, *h).expect("header");
    }
    ws.write_string(1, 0, "IV").expect("cell");
    ws.write_string(1, 1, "IMP-01").expect("cell");
    ws.write_string(1, 2, "Máy phát điện dự phòng")
        .expect("cell");
    match original_cost.parse::<f64>() {
        Ok(n) => ws.write_number(1, 3, n).expect("cell"),
        Err(_) => ws.write_string(1, 3, original_cost).expect("cell"),
    };
    ws.write_string(1, 4, "1").expect("cell");
    ws.write_string(1, 5, "actual").expect("cell");
    let path = dir.join(name);
    wb.save(&path).expect("save workbook");
    path
}

/// Every text cell of every sheet of a workbook.
fn cells(path: &Path) -> Vec<String> {
    let mut wb = open_workbook_auto(path).expect("open the downloaded workbook");
    let mut out = Vec::new();
    for name in wb.sheet_names() {
        let range = wb.worksheet_range(&name).expect("sheet");
        for row in range.rows() {
            for c in row {
                match c {
                    Data::String(s) => out.push(s.clone()),
                    Data::Float(f) => out.push(format!("{f}")),
                    Data::Int(i) => out.push(format!("{i}")),
                    _ => {}
                }
            }
        }
    }
    out
}

crate::ui_test!(
    an_accountants_day_from_login_to_a_resubmitted_report,
    |app| {
        let unit = app.unit_id("1109302").await;
        let list = format!("/units/{unit}/types/01");
        let page = app.logged_in(ACCOUNTANT).await;

        // Home: the card of type 01 with its record count.
        assert_eq!(page.path().await, "/");
        assert!(page.text("#deadline").await.contains("31/03/2026"));
        let card = page.text("#type-01").await;
        assert!(card.contains("01"), "card of type 01: {card}");
        page.goto(&list).await;
        let cost_before = vnd(&page.text("#total-cost").await);

        // Enter a land record with two mistakes.
        page.goto("/").await;
        page.click("#enter-01").await;
        page.pick("#section-I").await;
        page.click("#section-continue").await;
        page.fill("#f-code", "DAT-2026-01").await;
        page.fill("#f-name", "").await;
        page.fill("#f-qty_books", "1.500").await;
        page.fill("#f-qty_counted", "1.450").await;
        page.fill("#f-original_cost", "3.000.000.000").await;
        page.select("#f-usage_status", "1").await;
        page.fill("#f-year_in_use", "2030").await;
        page.fill("#f-area_office", "1.200").await;
        page.click("#save").await;
        // Both errors at their fields, a summary linking to them, the typed values kept.
        let summary = page.text("#error-summary").await;
        assert!(!summary.is_empty(), "an error summary");
        assert!(page.has("#err-name").await, "error at the name");
        assert!(
            page.has("#err-year_in_use").await,
            "error at the year in use"
        );
        assert!(page.has("#error-summary a[href='#f-name']").await);
        assert!(page.has("#error-summary a[href='#f-year_in_use']").await);
        assert_eq!(page.value("#f-original_cost").await, "3.000.000.000");
        assert_eq!(page.value("#f-code").await, "DAT-2026-01");
        assert_eq!(
            page.find("#f-name")
                .await
                .attr("aria-invalid")
                .await
                .expect("attr")
                .as_deref(),
            Some("true")
        );

        // Fix both: the list shows the record, the totals grow by its cost.
        page.fill("#f-name", "Khu đất trụ sở Phòng Kinh tế").await;
        page.fill("#f-year_in_use", "2010").await;
        page.click("#save").await;
        assert!(
            page.path().await.starts_with(&list),
            "after saving: {}\n{}",
            page.path().await,
            page.text("#error-summary").await
        );
        assert!(page.has("#flash").await);
        let table = page.text("#asset-table").await;
        assert!(table.contains("DAT-2026-01"), "{table}");
        assert!(table.contains("Khu đất trụ sở Phòng Kinh tế"));
        let cost_after = vnd(&page.text("#total-cost").await);
        assert_eq!(cost_after, cost_before + 3_000_000_000);
        assert!(
            page.text("#total-cost").await.contains('.'),
            "Vietnamese digit groups"
        );

        // Edit with a conflict from a second browser session.
        page.goto(&format!("{list}?q=DAT-2026-01")).await;
        page.click("#asset-table tbody tr td a").await;
        let edit = page.path().await;
        assert!(edit.starts_with("/assets/"), "{edit}");
        let other = app.logged_in(ACCOUNTANT).await;
        other.goto(&edit).await;
        other.fill("#f-location", "Số 2 đường Lê Lợi").await;
        other.click("#save").await;
        assert!(!other.has("#conflict").await);
        page.fill("#f-location", "Số 1 đường Lê Lợi").await;
        page.click("#save").await;
        assert!(
            page.has("#conflict").await,
            "a conflict page: {}",
            page.body().await
        );
        let theirs = page.text("#wrap-location .theirs").await;
        assert!(
            theirs.contains("Số 2 đường Lê Lợi"),
            "their value beside mine: «{theirs}»"
        );
        assert_eq!(page.value("#f-location").await, "Số 1 đường Lê Lợi");
        page.click("#save").await;
        assert!(!page.has("#conflict").await);
        assert!(page.path().await.starts_with(&list));
        page.goto(&edit).await;
        assert_eq!(page.value("#f-location").await, "Số 1 đường Lê Lợi");

        // Import a workbook with one bad cell: the preview shows it and nothing can be confirmed.
        // Files to upload live apart from the downloads, so the export found below is the download.
        let dir = page.downloads.with_extension("uploads");
        std::fs::create_dir_all(&dir).expect("uploads dir");
        let bad = flat_workbook(&dir, "bad.xlsx", "mười triệu");
        page.goto(&format!("{list}/import")).await;
        page.find("#file")
            .await
            .send_keys(&bad.display().to_string())
            .await
            .expect("choose the file");
        page.click("#import-check").await;
        let errors = page.text("#import-errors").await;
        assert!(
            errors.contains("D2"),
            "the bad cell D2 in the preview:\n{errors}"
        );
        assert!(errors.contains("Nguyên giá"), "the column label:\n{errors}");
        let confirm = page.find("#import-confirm").await;
        assert!(
            confirm.attr("disabled").await.expect("attr").is_some(),
            "confirm must be disabled while the file has errors"
        );
        // Fixed: one record would be created; confirm.
        let good = flat_workbook(&dir, "good.xlsx", "25000000");
        page.find("#file")
            .await
            .send_keys(&good.display().to_string())
            .await
            .expect("choose the file");
        page.click("#import-check").await;
        assert!(
            !page.has("#import-errors").await,
            "{}",
            page.text("#import-errors").await
        );
        assert_eq!(page.text("#count-created").await.trim(), "1");
        page.click("#import-confirm").await;
        assert!(page.text("#import-done").await.contains('1'));
        page.goto(&list).await;
        assert!(page.text("#asset-table").await.contains("IMP-01"));
        assert_eq!(
            vnd(&page.text("#total-cost").await),
            cost_before + 3_000_000_000 + 25_000_000
        );

        // Export the official form and read it back.
        page.click("#export-official").await;
        let file = page.downloaded(".xlsx").await;
        let text = cells(&file);
        assert!(
            text.iter().any(|c| c == "DAT-2026-01"),
            "the land record in the export"
        );
        assert!(
            text.iter().any(|c| c == "IMP-01"),
            "the imported record in the export"
        );
        assert!(
            text.iter()
                .any(|c| c.contains("Khu đất trụ sở Phòng Kinh tế"))
        );

        // Submit: the readiness check lists the land record without its legal documents, linked to it.
        page.goto(&list).await;
        page.click("#action-submit").await;
        let problems = page.text("#problems").await;
        assert!(
            problems.contains("DAT-2026-01") && problems.contains("Hồ sơ pháp lý"),
            "the readiness check: {problems}"
        );
        page.click("#problems a").await;
        page.click("#asset-table tbody tr td a").await;
        assert_eq!(page.path().await, edit);
        page.fill(
            "#f-legal_documents",
            "Giấy chứng nhận QSDĐ số CT-01234 ngày 15/06/2010",
        )
        .await;
        page.click("#save").await;
        assert!(
            page.path().await.starts_with(&list),
            "{}",
            page.body().await
        );
        // Now it passes, and the report locks.
        page.click("#action-submit").await;
        assert!(
            page.has("#ready").await,
            "readiness problems: {}",
            page.text("#problems").await
        );
        page.click("#submit-report").await;
        let banner = page.text("#locked-banner").await;
        assert!(!banner.is_empty(), "a locked banner: {}", page.body().await);
        let digest = page.text("#digest").await;
        assert_eq!(digest.trim().len(), 64, "a SHA-256 digest: {digest}");
        page.goto(&list).await;
        assert!(
            !page.has("#action-new").await,
            "a submitted report cannot take new records"
        );

        // The finance office returns it with a comment on the land record.
        let finance = app.api_login(FINANCE).await;
        let token = app.api_login(ACCOUNTANT).await;
        let found = app
            .api(
                "GET",
                &format!(
                    "/api/v1/campaigns/{}/units/{unit}/assets?asset_type=01&q=DAT-2026-01",
                    app.campaign_id
                ),
                &token,
                None,
            )
            .await
            .json();
        let asset_id = found["items"][0]["id"].as_i64().expect("asset id");
        let res = app
        .api(
            "POST",
            &format!(
                "/api/v1/campaigns/{}/units/{unit}/reports/01/return",
                app.campaign_id
            ),
            &finance,
            Some(json!({"reason": "Kiểm tra lại diện tích đất",
                        "comments": [{"asset_id": asset_id, "comment": "Diện tích theo sổ là 1.600 m²"}]})),
        )
        .await;
        assert_eq!(res.status, 200, "{}", res.text());

        // Home and the submit page show the comments by asset code.
        page.goto("/").await;
        let card = page.text("#type-01").await;
        assert!(card.contains("DAT-2026-01"), "{card}");
        assert!(card.contains("Diện tích theo sổ là 1.600 m²"), "{card}");
        page.goto(&format!("{list}/submit")).await;
        let returned = page.text("#returned").await;
        assert!(
            returned.contains("DAT-2026-01") && returned.contains("Kiểm tra lại diện tích đất")
        );

        // Fix the record, see the change listed, resubmit.
        // The books figure changes; the difference shown in its field (50) is derived again (150).
        page.goto(&edit).await;
        page.fill("#f-qty_books", "1.600").await;
        page.click("#save").await;
        assert!(
            page.path().await.starts_with(&list),
            "{}",
            page.body().await
        );
        page.goto(&edit).await;
        assert_eq!(page.value("#f-qty_difference").await, "150");
        page.goto(&format!("{list}/submit")).await;
        let changes = page.text("#changes").await;
        assert!(
            changes.contains("DAT-2026-01"),
            "the change list: {changes}"
        );
        page.click("#submit-report").await;
        assert!(page.has("#locked-banner").await, "{}", page.body().await);
    }
);

crate::ui_test!(
    the_list_page_offers_every_export_profile_and_each_downloads_its_layout,
    |app| {
        let unit = app.unit_id("1109302").await;
        let page = app.logged_in(ACCOUNTANT).await;
        page.goto(&format!("/units/{unit}/types/02")).await;
        assert!(page.has("#export-flat").await);
        let link = page.text("#export-national-draft").await;
        assert!(
            link.contains("tạm thời"),
            "the draft says it is provisional: {link}"
        );
        let cookie = page.cookie_header().await;
        let res = app
            .request(
                "GET",
                &format!("/units/{unit}/types/02/export/national-draft"),
                &[("cookie", &cookie)],
                vec![],
            )
            .await;
        assert_eq!(res.status, 200);
        let path = scratch().join(format!("national-draft-{}.xlsx", std::process::id()));
        std::fs::write(&path, &res.body).unwrap();
        let mut wb = open_workbook_auto(&path).unwrap();
        let range = wb.worksheet_range("Mau_02a").unwrap();
        assert_eq!(
            range.get_value((0, 0)),
            Some(&Data::String("Mã đơn vị quan hệ ngân sách".into()))
        );
        assert_eq!(
            range.get_value((1, 0)),
            Some(&Data::String("1109302".into()))
        );
        let _ = std::fs::remove_file(&path);
        let res = app
            .request(
                "GET",
                &format!("/units/{unit}/types/02/export/no-such-profile"),
                &[("cookie", &cookie)],
                vec![],
            )
            .await;
        assert_eq!(res.status, 404);
    }
);
