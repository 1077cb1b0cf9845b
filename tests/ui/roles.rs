//! Other roles on the accountant's pages: the chairman and the finance office read, and cannot enter.

use crate::support::*;

crate::ui_test!(
    the_chairman_and_the_finance_office_read_a_units_list_but_cannot_open_entry_or_import,
    |app| {
        let unit = app.unit_id("1109302").await;
        let list = format!("/units/{unit}/types/01");
        for who in ["chutich", FINANCE] {
            let page = app.logged_in(who).await;
            // Their home is the board.
            assert_eq!(page.path().await, "/board");
            assert!(page.has("#fig-units").await, "{who}: {}", page.body().await);
            page.goto(&list).await;
            assert!(
                page.has("#asset-table").await,
                "{who} reads the list: {}",
                page.body().await
            );
            assert!(!page.has("#action-new").await, "{who} is offered entry");
            assert!(!page.has("#action-import").await, "{who} is offered import");
            for path in [format!("{list}/new"), format!("{list}/import")] {
                page.goto(&path).await;
                let body = page.body().await;
                assert!(
                    page.has("#error-title").await && body.contains("403"),
                    "{who} on {path}: {body}"
                );
            }
        }
    }
);
