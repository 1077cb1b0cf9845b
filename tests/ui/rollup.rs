//! Issue 16: a province's finance department drills down its board — province → ward → unit —
//! with the node picker, and the summary and reminders follow the chosen node.

use calamine::Reader;
use kiemke::{
    clock::Clock,
    entities::{admin_node, unit, user},
};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set, sea_query::Expr};

use crate::support::*;

/// The node with this code, inserted if the installation does not have it yet.
async fn node(app: &TestApp, code: &str, name: &str, level: &str, parent: Option<i64>) -> i64 {
    let db = &app.state.db;
    if let Some(n) = admin_node::Entity::find()
        .filter(admin_node::Column::Code.eq(code))
        .one(db)
        .await
        .expect("find node")
    {
        return n.id;
    }
    let now = app.clock.now();
    admin_node::ActiveModel {
        code: Set(code.into()),
        name: Set(name.into()),
        level: Set(level.into()),
        parent_id: Set(parent),
        search: Set(kiemke::search::fold(name)),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
    .expect("node")
    .id
}

/// The demo's units placed in phường Tam Thanh of tỉnh Lạng Sơn, a second (empty) ward, and
/// the finance officer bound to the province. Returns (province, Tam Thanh) ids.
async fn province_of_the_demo(app: &TestApp) -> (i64, i64) {
    let db = &app.state.db;
    let province = node(app, "20", "Tỉnh Lạng Sơn", "province", None).await;
    let ward = node(app, "06565", "Phường Tam Thanh", "ward", Some(province)).await;
    node(app, "06553", "Phường Lương Văn Tri", "ward", Some(province)).await;
    unit::Entity::update_many()
        .col_expr(unit::Column::WardId, Expr::value(ward))
        .col_expr(unit::Column::ProvinceId, Expr::value(province))
        .exec(db)
        .await
        .expect("place the units");
    user::Entity::update_many()
        .col_expr(user::Column::NodeId, Expr::value(province))
        .filter(user::Column::Username.eq(FINANCE))
        .exec(db)
        .await
        .expect("bind the officer");
    (province, ward)
}

crate::ui_test!(
    a_province_officer_drills_down_from_the_province_to_a_ward_and_to_a_unit,
    |app| {
        let (province, ward) = province_of_the_demo(&app).await;
        let mut page = app.logged_in(FINANCE).await;
        assert_eq!(page.path().await, "/board");
        assert_eq!(page.text("#node-here").await, "Tỉnh Lạng Sơn");
        // The header names the province's finance department, not a ward's office.
        let who = page.text("#current-user").await;
        assert!(who.contains("(Sở Tài chính)"), "{who}");
        // One row per ward, with its counts and approval.
        let tam_thanh = page.text("#area-06565").await;
        assert!(tam_thanh.contains("Phường Tam Thanh"), "{tam_thanh}");
        assert!(tam_thanh.contains("16/16"), "{tam_thanh}");
        assert!(tam_thanh.contains("Chưa duyệt hết"), "{tam_thanh}");
        let empty = page.text("#area-06553").await;
        assert!(empty.contains("Phường Lương Văn Tri"), "{empty}");
        assert_eq!(page.text("#fig-units").await, "16");

        // Drill down by the table's link: the ward's board, the province in the breadcrumb.
        page.click("#area-06565 a").await;
        assert_eq!(page.path().await, format!("/board?node={ward}"));
        assert_eq!(page.text("#node-here").await, "Phường Tam Thanh");
        assert!(
            page.has(&format!("#node-path a[href='/board?node={province}']"))
                .await
        );
        assert!(!page.has("#areas-table").await);
        assert_eq!(page.text("#fig-units").await, "16");
        // Filters keep the node.
        page.fill("#f-q", "phong kinh te").await;
        page.click("#filter-button").await;
        assert!(page.path().await.contains(&format!("node={ward}")));
        assert_eq!(page.text("#rows-found").await, "1 đơn vị");
        // Down to the unit.
        page.click("#unit-1109302 a").await;
        let unit = app.unit_id("1109302").await;
        assert_eq!(page.path().await, format!("/units/{unit}"));

        // Back up with the breadcrumb, across with the picker.
        page.goto(&format!("/board?node={ward}")).await;
        page.click(&format!("#node-path a[href='/board?node={province}']"))
            .await;
        assert_eq!(page.text("#node-here").await, "Tỉnh Lạng Sơn");
        page.select("#node-select", &ward.to_string()).await;
        page.click("#node-go").await;
        assert_eq!(page.path().await, format!("/board?node={ward}"));

        // The summary and reminders follow the node.
        page.goto("/summary").await;
        let text = page.value("#summary-text").await;
        assert!(text.contains("Tình hình từng xã, phường:"), "{text}");
        assert!(text.contains("+ Phường Tam Thanh: 16/16 đơn vị"), "{text}");
        page.goto(&format!("/summary?node={ward}")).await;
        let text = page.value("#summary-text").await;
        assert!(!text.contains("Tình hình từng xã, phường"), "{text}");
        page.goto(&format!("/reminders?node={ward}")).await;
        assert_eq!(page.text("#node-here").await, "Phường Tam Thanh");
        assert!(page.has("#reminder-1109302").await);

        // The downloads follow the node: the province's files by default, a ward's once picked.
        page.goto("/downloads").await;
        assert_eq!(page.text("#node-here").await, "Tỉnh Lạng Sơn");
        assert!(
            page.has("#download-progress[href='/downloads/progress.xlsx']")
                .await
        );
        page.pick("#download-progress").await;
        let path = page.downloaded("tien_do.xlsx").await;
        let mut wb: calamine::Xlsx<_> = calamine::open_workbook(&path).expect("an xlsx");
        let sheet = wb.worksheet_range("tien_do").expect("sheet");
        let texts: Vec<String> = sheet.cells().map(|(_, _, d)| d.to_string()).collect();
        assert!(
            texts.iter().any(|t| t == "Phường Tam Thanh"),
            "one row per ward"
        );
        assert!(!texts.iter().any(|t| t == "1109301"), "no unit rows");
        std::fs::remove_file(&path).expect("remove the download");
        page.select("#node-select", &ward.to_string()).await;
        page.click("#node-go").await;
        assert_eq!(page.path().await, format!("/downloads?node={ward}"));
        assert_eq!(page.text("#node-here").await, "Phường Tam Thanh");
        for link in [
            format!("#download-progress[href='/downloads/progress.xlsx?node={ward}']"),
            format!("#download-consolidated-01a[href='/downloads/consolidated/01a?node={ward}']"),
            format!("#download-zip-01a[href='/downloads/forms/01a?node={ward}']"),
        ] {
            assert!(page.has(&link).await, "{link}");
        }
        page.pick("#download-progress").await;
        let path = page.downloaded("tien_do.xlsx").await;
        let mut wb: calamine::Xlsx<_> = calamine::open_workbook(&path).expect("an xlsx");
        let sheet = wb.worksheet_range("tien_do").expect("sheet");
        let texts: Vec<String> = sheet.cells().map(|(_, _, d)| d.to_string()).collect();
        assert!(texts.iter().any(|t| t == "1109301"), "the ward's units");

        // Screenshots of the province's board and a ward's, at both widths (looked at).
        let dir = scratch();
        page.goto("/board").await;
        for width in [1280, 390] {
            page.screenshot(width, &dir.join(format!("rollup-province-{width}.png")))
                .await;
        }
        // A node outside the scope: the error page.
        page.axe = false;
        page.goto("/board?node=999999").await;
        assert!(page.body().await.contains("404") || page.body().await.contains("Không tìm thấy"));
    }
);
