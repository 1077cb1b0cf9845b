//! Vietnamese search in the asset list: case and diacritics do not matter.

use crate::support::*;

crate::ui_test!(
    searching_truong_without_accents_finds_truong_with_accents,
    |app| {
        let unit = app.unit_id("1109302").await;
        let page = app.logged_in(ACCOUNTANT).await;
        for (code, name) in [
            ("TR-01", "Nhà lớp học Trường Tiểu học"),
            ("DG-01", "Hội trường Đảng ủy"),
        ] {
            page.goto(&format!("/units/{unit}/types/01/new?section=IV"))
                .await;
            page.fill("#f-code", code).await;
            page.fill("#f-name", name).await;
            page.fill("#f-original_cost", "15.000.000").await;
            page.select("#f-usage_status", "1").await;
            page.click("#save").await;
            assert!(
                !page.has("#error-summary").await,
                "{}",
                page.text("#error-summary").await
            );
        }
        let list = format!("/units/{unit}/types/01");
        for (query, expected) in [
            ("truong", vec!["TR-01", "DG-01"]),
            ("TRƯỜNG", vec!["TR-01", "DG-01"]),
            ("truong tieu hoc", vec!["TR-01"]),
            ("dang", vec!["DG-01"]),
        ] {
            page.goto(&list).await;
            page.fill("#q", query).await;
            page.click("#filter-submit").await;
            let table = page.text("#asset-table tbody").await;
            for code in &expected {
                assert!(
                    table.contains(code),
                    "«{query}» should find {code}:\n{table}"
                );
            }
            for code in ["TR-01", "DG-01"] {
                if !expected.contains(&code) {
                    assert!(
                        !table.contains(code),
                        "«{query}» should not find {code}:\n{table}"
                    );
                }
            }
        }
        page.goto(&format!("{list}?q=khongtontai")).await;
        assert!(page.has("#empty-state").await);
    }
);
