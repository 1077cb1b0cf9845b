//! The screenshot command: every page at 1280 and 390 px into docs/img/ui-*.png.
//!
//! `cargo test --test ui screenshots -- --ignored` (SQLite, the demo ward, a fixed clock).

use std::path::PathBuf;

use crate::support::*;

fn out(name: &str, width: u32) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/img");
    std::fs::create_dir_all(&dir).expect("docs/img");
    dir.join(format!("ui-{name}-{width}.png"))
}

/// Photographs the current page at both widths (and checks it with axe-core first).
async fn shoot(page: &Page, name: &str) {
    for width in [1280, 390] {
        page.screenshot(width, &out(name, width)).await;
    }
    page.client
        .set_window_size(1280, 900)
        .await
        .expect("resize window");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "writes docs/img/ui-*.png; run with --ignored"]
async fn screenshots_of_every_page_at_1280_and_390_px() {
    run(Backend::Sqlite, |app| async move {
        let unit = app.unit_id("1109302").await;
        let list = format!("/units/{unit}/types/01");
        let page = app.browser().await;

        page.goto("/login").await;
        shoot(&page, "login").await;
        page.login(ACCOUNTANT, "sai-mat-khau-1").await;
        shoot(&page, "login-error").await;
        page.login(ACCOUNTANT, DEMO_PASSWORD).await;
        shoot(&page, "home").await;
        page.goto(&format!("/units/{unit}/registration")).await;
        shoot(&page, "registration").await;
        page.goto(&list).await;
        shoot(&page, "list").await;
        page.goto(&format!("{list}?q=khongtontai")).await;
        shoot(&page, "list-empty").await;
        page.goto(&format!("{list}/new")).await;
        shoot(&page, "new-section").await;
        page.goto(&format!("{list}/new?section=I")).await;
        page.fill("#f-code", "DAT-ANH-01").await;
        page.fill("#f-qty_books", "1.500").await;
        page.fill("#f-qty_counted", "1.450").await;
        page.fill("#f-original_cost", "3.000.000.000").await;
        page.fill("#f-original_cost_budget", "2.000.000.000").await;
        page.fill("#f-year_in_use", "2030").await;
        page.click("#save").await;
        shoot(&page, "new-errors").await;
        page.fill("#f-name", "Khu đất trụ sở Phòng Kinh tế, Hạ tầng và Đô thị")
            .await;
        page.fill("#f-original_cost_budget", "3.000.000.000").await;
        page.fill("#f-year_in_use", "2010").await;
        page.select("#f-usage_status", "1").await;
        page.fill(
            "#f-legal_documents",
            "Giấy chứng nhận QSDĐ số CT-01234 ngày 15/06/2010",
        )
        .await;
        page.click("#save").await;
        page.goto(&format!("{list}?q=DAT-ANH-01")).await;
        page.click("#asset-table tbody tr td a").await;
        let edit = page.path().await;
        page.fill("#f-location", "Số 1 đường Lê Lợi, phường Tam Thanh")
            .await;
        page.click("#save").await;
        page.goto(&edit).await;
        shoot(&page, "edit").await;
        page.goto(&format!("{edit}/history")).await;
        shoot(&page, "history").await;
        page.goto(&format!("{edit}/delete")).await;
        shoot(&page, "delete").await;
        page.goto(&format!("{list}/import")).await;
        shoot(&page, "import").await;
        page.goto(&format!("{list}/submit")).await;
        shoot(&page, "submit").await;
        page.goto("/units/999999/types/01").await;
        shoot(&page, "not-found").await;
        page.goto("/lang/en").await;
        shoot(&page, "home-en").await;
        page.goto("/lang/vi").await;

        // The finance office: the report of type 01 sent and returned once, resubmitted, one
        // unit extended; then the clock past the deadline.
        page.goto(&format!("{list}/submit")).await;
        page.click("#submit-report").await;
        let office = app.logged_in(FINANCE).await;
        office.goto(&format!("/units/{unit}/extension")).await;
        shoot(&office, "office-extension").await;
        office
            .fill("#f-reason", "Đơn vị thay kế toán giữa kỳ")
            .await;
        office
            .client
            .execute(
                "document.getElementById('f-deadline').value = '2026-04-15';",
                vec![],
            )
            .await
            .expect("set date");
        office.click("#confirm-extension").await;
        office.goto(&format!("/units/{unit}/types/01/return")).await;
        office
            .fill("#f-reason", "Đề nghị kiểm tra lại nguyên giá")
            .await;
        office.select("#f-code_1", "DAT-ANH-01").await;
        office
            .fill("#f-comment_1", "Nguyên giá chưa khớp sổ kế toán")
            .await;
        shoot(&office, "office-return").await;
        office.click("#confirm-return").await;
        page.goto(&edit).await;
        page.fill("#f-note", "Đã đối chiếu sổ kế toán").await;
        page.click("#save").await;
        page.goto(&format!("{list}/submit")).await;
        page.click("#submit-report").await;
        // Past the deadline (sessions expire meanwhile: sign in again).
        app.clock.advance(chrono::Duration::days(52));
        let office = app.logged_in(FINANCE).await;
        assert_eq!(office.path().await, "/board");
        shoot(&office, "office-board").await;
        office.goto("/board?overdue=true&q=truong&sort=name").await;
        shoot(&office, "office-board-filtered").await;
        office.goto(&format!("/units/{unit}")).await;
        shoot(&office, "office-unit").await;
        office.goto(&format!("/units/{unit}/types/01/accept")).await;
        shoot(&office, "office-accept").await;
        office.goto("/summary").await;
        shoot(&office, "office-summary").await;
        office.goto("/reminders").await;
        shoot(&office, "office-reminders").await;
        office.goto("/downloads").await;
        shoot(&office, "office-downloads").await;
        // The province's finance department: one row per ward, then down to the demo's ward.
        let province = app.logged_in("sotaichinh").await;
        shoot(&province, "office-province-board").await;
        province
            .click(&format!("#area-{} a", kiemke::demo::WARD.0))
            .await;
        shoot(&province, "office-province-ward").await;
        let chairman = app.logged_in("chutich").await;
        chairman.goto(&format!("/units/{unit}")).await;
        shoot(&chairman, "viewer-unit").await;
    })
    .await;
}
