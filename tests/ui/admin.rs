//! Issue 13: the admin's pages in the browser — a unit, its accountant and its registration
//! set up with no curl at all; campaigns' rules at their fields; the screenshots.

use std::path::PathBuf;

use kiemke::{
    auth::{Actor, Role},
    users::{self, NewUser},
};

use crate::support::*;

/// The admin of these tests (the demo ward has none).
const ADMIN: &str = "quantri";

async fn create_admin(app: &TestApp) {
    users::create(
        &app.state,
        &Actor::system(),
        NewUser {
            username: ADMIN.into(),
            full_name: "Quản trị hệ thống".into(),
            email: None,
            phone: None,
            role: Role::Admin,
            unit_ids: vec![],
            node_code: None,
            password: DEMO_PASSWORD.into(),
        },
    )
    .await
    .expect("admin account");
}

crate::ui_test!(
    the_admin_creates_a_unit_its_accountant_and_its_registration_and_the_accountant_sees_only_that_unit,
    |app| {
        create_admin(&app).await;
        let page = app.logged_in(ADMIN).await;
        assert_eq!(page.path().await, "/admin", "the admin's home is the admin pages");

        // A unit: a wrong budget code and an empty name are shown at their fields, in Vietnamese.
        page.goto("/admin/units").await;
        page.click("#new-unit").await;
        page.fill("#f-code", "12345").await;
        page.fill("#f-parent_code", "1109302").await;
        page.click("#save").await;
        assert!(page.has("#error-summary").await, "{}", page.body().await);
        let code_error = page.text("#err-code").await;
        assert!(
            code_error.contains("«Mã đơn vị có quan hệ với ngân sách» không đúng định dạng"),
            "{code_error}"
        );
        assert_eq!(page.text("#err-name").await, "Không được để trống");
        assert!(page.text("#err-kind").await.contains("loại hình"));
        assert_eq!(page.value("#f-parent_code").await, "1109302", "what was typed stays");
        page.fill("#f-code", "1109399").await;
        page.fill("#f-name", "Trường Mầm non Thử Nghiệm").await;
        page.select("#f-kind", "school").await;
        page.fill("#f-accountant_name", "Lê Thị Hoa").await;
        page.click("#save").await;
        assert!(page.path().await.starts_with("/admin/units?saved=1"), "{}", page.body().await);
        assert!(page.has("#flash").await);
        // Search ignores diacritics.
        page.fill("#f-q", "thu nghiem").await;
        page.click("#filter-submit").await;
        let rows = page.all("#unit-table tbody tr").await;
        assert_eq!(rows.len(), 1, "{}", page.body().await);
        assert!(page.text("#unit-table").await.contains("1109302"), "the superior unit is shown");
        // The same code again is refused at the code.
        page.goto("/admin/units/new").await;
        page.fill("#f-code", "1109399").await;
        page.fill("#f-name", "Trùng mã").await;
        page.select("#f-kind", "other").await;
        page.click("#save").await;
        assert!(page.text("#err-code").await.contains("đã được dùng"), "{}", page.body().await);

        // Its accountant: an unknown unit code is named at the field.
        page.goto("/admin/users/new").await;
        page.fill("#f-username", "ketoan.thunghiem").await;
        page.fill("#f-full_name", "Lê Thị Hoa").await;
        page.select("#f-role", "unit_accountant").await;
        page.fill("#f-unit_codes", "9999999").await;
        page.click("#save").await;
        assert!(
            page.text("#err-unit_codes").await.contains("Không có đơn vị nào mang mã «9999999»"),
            "{}",
            page.body().await
        );
        page.fill("#f-unit_codes", "1109399").await;
        page.click("#save").await;
        // No password typed: one is generated and shown once.
        assert_eq!(page.text("#shown-username").await, "ketoan.thunghiem");
        let first = page.text("#new-password").await;
        assert!(first.len() >= 10, "{first}");
        page.click("#back-to-users").await;
        assert!(!page.body().await.contains(&first), "the password is shown only once");
        page.click_text("ketoan.thunghiem").await;
        assert_eq!(page.value("#f-unit_codes").await, "1109399");
        page.click("#reset-password").await;
        let password = page.text("#new-password").await;
        assert_ne!(password, first);

        // Its registration, on its behalf: no type chosen is refused at the types.
        page.goto("/admin/units?q=1109399").await;
        page.click("#register-1109399").await;
        assert!(page.text("#reg-state").await.contains("chưa đăng ký"));
        page.fill("#f-team_decision_no", "05/QĐ-MNTN").await;
        page.fill("#f-team_decision_date", "20/01/2026").await;
        page.fill("#m0_name", "Lê Thị Hoa").await;
        page.fill("#m0_position", "Kế toán").await;
        page.fill("#m0_role", "Tổ trưởng").await;
        page.click("#save").await;
        assert!(page.has("#err-asset_types").await, "{}", page.body().await);
        assert_eq!(page.value("#m0_name").await, "Lê Thị Hoa");
        page.pick("#type-01").await;
        page.pick("#type-02").await;
        page.click("#save").await;
        assert!(page.has("#flash").await, "{}", page.body().await);
        assert!(page.text("#reg-state").await.contains("đã đăng ký"));

        // The log shows every step, before and after by field label.
        page.goto("/admin/audit?unit=1109399").await;
        let log = page.text("#audit-table").await;
        assert!(log.contains("Đăng ký"), "{log}");
        assert!(log.contains("Tên đơn vị") && log.contains("Trường Mầm non Thử Nghiệm"), "{log}");
        page.goto("/admin/audit?entity=user&action=password_reset").await;
        assert_eq!(page.all("#audit-table > section").await.len(), 1);
        page.click("#audit-table h2 a").await;
        assert_eq!(page.value("#f-unit_codes").await, "1109399", "the event links to the account");

        // The accountant logs in and sees that unit only.
        let other = app.unit_id("1109302").await;
        let acc = app.browser().await;
        acc.login("ketoan.thunghiem", &password).await;
        assert_eq!(acc.path().await, "/");
        assert_eq!(acc.text("#unit-name").await, "Trường Mầm non Thử Nghiệm");
        assert!(acc.has("#type-01").await && acc.has("#type-02").await, "{}", acc.body().await);
        assert!(!acc.has("#type-03").await);
        let home = acc.body().await;
        assert!(home.contains("05/QĐ-MNTN") && home.contains("20/01/2026"), "{home}");
        acc.goto(&format!("/units/{other}/types/01")).await;
        assert!(acc.has("#error-title").await, "another unit is not shown: {}", acc.body().await);
        acc.goto("/admin/units").await;
        assert!(acc.body().await.contains("403"), "the admin pages are refused");
    }
);

crate::ui_test!(
    a_campaign_whose_submission_deadline_precedes_registration_is_refused_at_the_field,
    |app| {
        create_admin(&app).await;
        let page = app.logged_in(ADMIN).await;
        page.goto("/admin/campaigns").await;
        page.click("#campaign-table tbody tr td a").await;
        let edit = page.path().await;
        assert_eq!(page.value("#f-cutoff_at").await, "01/01/2026 00:00");
        assert_eq!(page.value("#f-registration_deadline").await, "31/03/2026");
        page.fill("#f-submission_deadline", "15/01/2026").await;
        page.click("#save").await;
        assert!(
            page.text("#err-submission_deadline")
                .await
                .contains("Hạn gửi báo cáo không được trước hạn đăng ký"),
            "{}",
            page.body().await
        );
        page.goto(&edit).await;
        page.fill("#f-submission_deadline", "30/04/2026").await;
        page.click("#save").await;
        assert!(page.has("#flash").await, "{}", page.body().await);
        assert!(page.text("#campaign-table").await.contains("30/04/2026"));
        // A new campaign: every missing field at once.
        page.click("#new-campaign").await;
        page.click("#save").await;
        for id in [
            "#err-name",
            "#err-authority_name",
            "#err-place_name",
            "#err-cutoff_at",
            "#err-registration_deadline",
            "#err-submission_deadline",
        ] {
            assert!(page.has(id).await, "{id}: {}", page.body().await);
        }
        // The finance office may not open the admin's pages.
        let finance = app.logged_in(FINANCE).await;
        finance.goto(&edit).await;
        assert!(finance.body().await.contains("403"));
    }
);

fn out(name: &str, width: u32) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/img");
    std::fs::create_dir_all(&dir).expect("docs/img");
    dir.join(format!("ui-{name}-{width}.png"))
}

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
#[ignore = "writes docs/img/ui-admin-*.png; run with --ignored"]
async fn screenshots_of_the_admin_pages_at_1280_and_390_px() {
    run(Backend::Sqlite, |app| async move {
        create_admin(&app).await;
        let unit = app.unit_id("1109302").await;
        let page = app.logged_in(ADMIN).await;
        shoot(&page, "admin").await;
        page.goto("/admin/users").await;
        shoot(&page, "admin-users").await;
        page.goto("/admin/users/new").await;
        page.fill("#f-username", "Ke Toan").await;
        page.select("#f-role", "unit_accountant").await;
        page.fill("#f-unit_codes", "1109302, 9999999").await;
        page.click("#save").await;
        shoot(&page, "admin-user-errors").await;
        page.goto("/admin/users").await;
        page.click_text(ACCOUNTANT).await;
        shoot(&page, "admin-user-edit").await;
        page.click("#reset-password").await;
        shoot(&page, "admin-password").await;
        page.goto("/admin/tree?parent=1").await;
        shoot(&page, "admin-tree").await;
        page.goto("/admin/tree/new?parent_code=20").await;
        page.fill("#f-code", "059").await;
        page.click("#save").await;
        shoot(&page, "admin-node-errors").await;
        page.goto("/admin/units").await;
        shoot(&page, "admin-units").await;
        page.goto(&format!("/admin/units/{unit}")).await;
        shoot(&page, "admin-unit-edit").await;
        page.goto("/admin/units/new").await;
        page.fill("#f-code", "11093").await;
        page.click("#save").await;
        shoot(&page, "admin-unit-errors").await;
        page.goto(&format!("/admin/units/{unit}/registration"))
            .await;
        shoot(&page, "admin-registration").await;
        page.goto("/admin/campaigns").await;
        shoot(&page, "admin-campaigns").await;
        page.click("#campaign-table tbody tr td a").await;
        page.fill("#f-submission_deadline", "15/01/2026").await;
        page.click("#save").await;
        shoot(&page, "admin-campaign-errors").await;
        page.goto(&format!("/admin/units/{unit}")).await;
        page.fill("#f-accountant_phone", "0205 3870 123").await;
        page.click("#save").await;
        page.goto("/admin/audit?actor=quantri").await;
        shoot(&page, "admin-audit").await;
    })
    .await;
}

crate::ui_test!(
    the_admin_disables_an_account_and_deactivates_a_unit_from_their_edit_pages,
    |app| {
        create_admin(&app).await;
        let page = app.logged_in(ADMIN).await;
        page.goto("/admin/users").await;
        page.click_text("chutich").await;
        page.pick("#f-active").await;
        page.click("#save").await;
        assert!(page.has("#flash").await, "{}", page.body().await);
        let row = page.text("#user-table tbody tr:nth-child(1)").await;
        assert!(
            row.contains("chutich") && row.contains("Ngừng hoạt động"),
            "{row}"
        );
        let chairman = app.browser().await;
        chairman.login("chutich", DEMO_PASSWORD).await;
        assert_eq!(
            chairman.path().await,
            "/login",
            "a disabled account cannot log in"
        );

        page.goto("/admin/units?q=1109316").await;
        page.click("#unit-1109316").await;
        page.pick("#f-active").await;
        page.click("#save").await;
        assert!(page.has("#flash").await, "{}", page.body().await);
        page.goto("/admin/units?active=false").await;
        let rows = page.all("#unit-table tbody tr").await;
        assert_eq!(rows.len(), 1);
        assert!(page.text("#unit-table").await.contains("1109316"));
        // The admin cannot disable their own account: refused in Vietnamese, nothing changes.
        page.goto("/admin/users").await;
        page.click_text(ADMIN).await;
        page.pick("#f-active").await;
        page.click("#save").await;
        assert!(
            page.text("#error-summary")
                .await
                .contains("Không thể tự bỏ quyền quản trị"),
            "{}",
            page.body().await
        );
    }
);

crate::ui_test!(
    the_admin_adds_a_ward_to_the_demo_province_and_moves_a_unit_there_from_the_unit_form,
    |app| {
        create_admin(&app).await;
        let page = app.logged_in(ADMIN).await;
        // The tree page lists the demo's province; its wards are one click away.
        page.goto("/admin").await;
        page.click("#admin-nav a[href='/admin/tree']").await;
        assert!(
            page.text("#node-table").await.contains("Tỉnh Lạng Sơn"),
            "{}",
            page.body().await
        );
        page.click("#wards-20").await;
        assert!(page.text("#node-table").await.contains("Phường Tam Thanh"));
        // A new ward of the province: a 3-digit code is refused at the code, in Vietnamese.
        page.click("#new-node").await;
        assert_eq!(
            page.value("#f-parent_code").await,
            "20",
            "the province is filled in"
        );
        page.fill("#f-code", "059").await;
        page.fill("#f-name", "Phường Thử Nghiệm").await;
        page.click("#save").await;
        assert!(
            page.text("#err-code").await.contains("5 chữ số"),
            "{}",
            page.body().await
        );
        assert_eq!(
            page.value("#f-name").await,
            "Phường Thử Nghiệm",
            "what was typed stays"
        );
        page.fill("#f-code", "05968").await;
        page.click("#save").await;
        assert!(page.has("#flash").await, "{}", page.body().await);
        assert!(page.text("#node-table").await.contains("Phường Thử Nghiệm"));
        // The tree is searched without diacritics.
        page.fill("#f-q", "thu nghiem").await;
        page.click("#filter-submit").await;
        assert_eq!(
            page.all("#node-table tbody tr").await.len(),
            1,
            "{}",
            page.body().await
        );

        // The unit form shows the unit's ward; a code that is not a ward is refused at the field.
        let unit = app.unit_id("1109306").await;
        page.goto(&format!("/admin/units/{unit}")).await;
        assert_eq!(page.value("#f-ward_code").await, "05965");
        page.fill("#f-ward_code", "20").await;
        page.click("#save").await;
        assert!(
            page.text("#err-ward_code")
                .await
                .contains("không phải mã xã, phường"),
            "{}",
            page.body().await
        );
        page.fill("#f-ward_code", "05968").await;
        page.click("#save").await;
        assert!(page.has("#flash").await, "{}", page.body().await);
        assert!(
            page.text("#unit-table")
                .await
                .contains("05968 — Phường Thử Nghiệm")
        );
        // The move is in the log, and the ward's finance office no longer sees the unit.
        page.goto("/admin/audit?unit=1109306").await;
        assert!(
            page.text("#audit-table").await.contains("05965 → 05968"),
            "{}",
            page.body().await
        );
        let finance = app.logged_in(FINANCE).await;
        finance.goto(&format!("/units/{unit}")).await;
        assert!(
            finance.has("#error-title").await,
            "{}",
            finance.body().await
        );
    }
);
