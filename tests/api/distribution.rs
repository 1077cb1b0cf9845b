//! Issue 16: the distribution key. Every row under a unit — its registration, reports, assets
//! and report snapshots — carries the unit's province (`province_id`), the key a Citus-style
//! deployment shards by; rows of a unit not yet placed in the tree carry none.

use chrono::Utc;
use kiemke::entities::{admin_node, asset, registration, report, report_snapshot, unit};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use serde_json::json;

use crate::{db_test, support::*};

/// Places `unit` in a new ward of a new province (straight into the tables: placing through
/// the API is the tree's own tests' business); returns the province's id.
async fn place(app: &TestApp, unit: i64, province_code: &str, ward_code: &str) -> i64 {
    let db = &app.state.db;
    let node = |code: &str, name: &str, level: &str, parent: Option<i64>| admin_node::ActiveModel {
        code: Set(code.into()),
        name: Set(name.into()),
        level: Set(level.into()),
        parent_id: Set(parent),
        search: Set(kiemke::search::key(code, name)),
        created_at: Set(Utc::now()),
        updated_at: Set(Utc::now()),
        ..Default::default()
    };
    let province = node(province_code, "Tỉnh Lạng Sơn", "province", None)
        .insert(db)
        .await
        .expect("province");
    let ward = node(ward_code, "Phường Tam Thanh", "ward", Some(province.id))
        .insert(db)
        .await
        .expect("ward");
    let u = unit::Entity::find_by_id(unit)
        .one(db)
        .await
        .expect("unit")
        .expect("unit exists");
    let mut a: unit::ActiveModel = u.into();
    a.ward_id = Set(Some(ward.id));
    a.province_id = Set(Some(province.id));
    a.update(db).await.expect("placed");
    province.id
}

fn computer(code: &str) -> serde_json::Value {
    json!({"asset_type": "01", "section": "IV", "code": code, "name": "Máy tính", "qty_books": 2, "qty_counted": 2,
           "original_cost": 30_000_000, "depreciation": 12_000_000, "usage_status": "1"})
}

/// Registers `unit` for 01 and 18, enters a computer and sends both reports (18 as a nil return).
async fn fill(app: &TestApp, admin: &str, campaign: i64, unit: i64) {
    app.register(admin, campaign, unit, &["01", "18"]).await;
    let base = format!("/api/v1/campaigns/{campaign}/units/{unit}");
    app.call("POST", &format!("{base}/assets"))
        .token(admin)
        .json(&computer("MT-01"))
        .send()
        .await
        .expect(201);
    app.call("POST", &format!("{base}/reports/01/submit"))
        .token(admin)
        .json(&json!({}))
        .send()
        .await
        .expect(200);
    app.call("POST", &format!("{base}/reports/18/submit"))
        .token(admin)
        .json(&json!({"nil_return": true}))
        .send()
        .await
        .expect(200);
}

/// The `province_id` of every row under `unit`: registration, reports, assets, snapshots.
async fn keys(app: &TestApp, unit: i64) -> Vec<(&'static str, Option<i64>)> {
    let db = &app.state.db;
    let mut out = vec![];
    for r in registration::Entity::find()
        .filter(registration::Column::UnitId.eq(unit))
        .all(db)
        .await
        .unwrap()
    {
        out.push(("registration", r.province_id));
    }
    let reports = report::Entity::find()
        .filter(report::Column::UnitId.eq(unit))
        .all(db)
        .await
        .unwrap();
    for r in &reports {
        out.push(("report", r.province_id));
    }
    for a in asset::Entity::find()
        .filter(asset::Column::UnitId.eq(unit))
        .all(db)
        .await
        .unwrap()
    {
        out.push(("asset", a.province_id));
    }
    for s in report_snapshot::Entity::find()
        .filter(report_snapshot::Column::ReportId.is_in(reports.iter().map(|r| r.id)))
        .all(db)
        .await
        .unwrap()
    {
        out.push(("snapshot", s.province_id));
    }
    out
}

db_test!(
    a_placed_unit_s_registration_reports_assets_and_snapshots_carry_its_province,
    |app| {
        let admin = app.admin().await;
        let campaign = app.campaign(&admin).await;
        let placed = app.unit(&admin, "1000001", "Trường A").await;
        let unplaced = app.unit(&admin, "1000002", "Trường B").await;
        let province = place(&app, placed, "20", "06040").await;
        fill(&app, &admin, campaign, placed).await;
        fill(&app, &admin, campaign, unplaced).await;
        let placed_keys = keys(&app, placed).await;
        let kinds: Vec<&str> = placed_keys.iter().map(|k| k.0).collect();
        assert_eq!(
            kinds,
            [
                "registration",
                "report",
                "report",
                "asset",
                "snapshot",
                "snapshot"
            ],
            "one registration, reports 01 and 18, one asset, two snapshots"
        );
        for (what, key) in &placed_keys {
            assert_eq!(
                *key,
                Some(province),
                "the {what} carries the unit's province"
            );
        }
        let unplaced_keys = keys(&app, unplaced).await;
        assert_eq!(unplaced_keys.len(), 6);
        for (what, key) in &unplaced_keys {
            assert_eq!(
                *key, None,
                "the {what} of an unplaced unit carries no province"
            );
        }
    }
);

db_test!(
    a_placed_unit_s_asset_list_and_reports_are_read_with_its_province,
    |app| {
        let admin = app.admin().await;
        let campaign = app.campaign(&admin).await;
        let placed = app.unit(&admin, "1000001", "Trường A").await;
        place(&app, placed, "20", "06040").await;
        fill(&app, &admin, campaign, placed).await;
        let base = format!("/api/v1/campaigns/{campaign}/units/{placed}");
        let list = app
            .call("GET", &format!("{base}/assets"))
            .token(&admin)
            .send()
            .await
            .expect(200)
            .json();
        assert_eq!(list["total"], 1);
        assert_eq!(list["items"][0]["code"], "MT-01");
        let reg = app
            .call("GET", &format!("{base}/registration"))
            .token(&admin)
            .send()
            .await
            .expect(200)
            .json();
        assert_eq!(reg["asset_types"], json!(["01", "18"]));
    }
);
