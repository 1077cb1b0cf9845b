//! Keyboard only: an asset is entered with Tab, arrow keys and Enter, no mouse.

use crate::support::*;

/// Presses Tab until the element with `id` has the focus.
async fn tab_to(page: &Page, id: &str) {
    for _ in 0..80 {
        let active = page
            .client
            .execute(
                "return document.activeElement ? document.activeElement.id : '';",
                vec![],
            )
            .await
            .expect("active element");
        if active.as_str() == Some(id) {
            return;
        }
        page.keys(key::TAB).await;
    }
    panic!("Tab never reaches #{id} on {}", page.path().await);
}

/// Types into the focused element.
async fn type_text(page: &Page, text: &str) {
    page.keys(text).await;
}

crate::ui_test!(an_asset_is_entered_with_the_keyboard_alone, |app| {
    let unit = app.unit_id("1109302").await;
    let page = app.logged_in(ACCOUNTANT).await;
    page.goto(&format!("/units/{unit}/types/01/new")).await;
    // Sections are radio buttons: Tab to the group, arrows to section IV, Tab to continue, Enter.
    tab_to(&page, "section-I").await;
    for _ in 0..3 {
        page.keys(key::DOWN).await;
    }
    tab_to(&page, "section-continue").await;
    page.mark().await;
    page.keys(key::ENTER).await;
    page.settle().await;
    assert!(
        page.path().await.contains("section=IV"),
        "{}",
        page.path().await
    );

    tab_to(&page, "f-code").await;
    type_text(&page, "BP-01").await;
    tab_to(&page, "f-name").await;
    type_text(&page, "Bộ bàn ghế phòng họp").await;
    tab_to(&page, "f-original_cost").await;
    type_text(&page, "18.500.000").await;
    tab_to(&page, "f-usage_status").await;
    page.keys(key::DOWN).await; // from "— chọn —" to the first status
    tab_to(&page, "f-year_in_use").await;
    type_text(&page, "2019").await;
    // Enter in a text field submits the form.
    page.mark().await;
    page.keys(key::ENTER).await;
    page.settle().await;
    assert!(
        page.path()
            .await
            .starts_with(&format!("/units/{unit}/types/01")),
        "after Enter: {}\n{}",
        page.path().await,
        page.text("#error-summary").await
    );
    page.goto(&format!("/units/{unit}/types/01?q=BP-01")).await;
    let table = page.text("#asset-table").await;
    assert!(table.contains("Bộ bàn ghế phòng họp"), "{table}");
    assert!(table.contains("18.500.000"), "{table}");
});
