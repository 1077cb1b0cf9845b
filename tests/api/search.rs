//! Issue 15, point 10: searching units and assets by a folded key (NFC or NFD, any case,
//! with or without diacritics), on SQLite and PostgreSQL alike.

use kiemke::{
    entities::{asset, unit},
    generate::{self, GenerateArgs},
    search,
};
use migration::{Migrator, MigratorTrait};
use sea_orm::EntityTrait;
use serde_json::{Value, json};
use unicode_normalization::UnicodeNormalization;

use crate::{db_test, support::*};

fn nfd(s: &str) -> String {
    s.nfd().collect()
}

fn encode(q: &str) -> String {
    form_urlencoded::byte_serialize(q.as_bytes()).collect()
}

/// Codes of the units `GET /units?q=…` finds, in order.
async fn unit_codes(app: &TestApp, token: &str, q: &str) -> Vec<String> {
    let page = app
        .call("GET", &format!("/api/v1/units?q={}", encode(q)))
        .token(token)
        .send()
        .await
        .expect(200)
        .json();
    codes(&page)
}

fn codes(page: &Value) -> Vec<String> {
    let items = page["items"].as_array().expect("items");
    assert_eq!(page["total"], items.len(), "one page holds every match");
    items
        .iter()
        .map(|u| u["code"].as_str().expect("code").to_string())
        .collect()
}

/// Every stored unit and asset carries the key of its current code and name.
async fn assert_keys_current(app: &TestApp) {
    let db = &app.state.db;
    let units = unit::Entity::find().all(db).await.unwrap();
    assert!(!units.is_empty());
    for u in units {
        assert_eq!(u.search, search::key(&u.code, &u.name), "unit {}", u.code);
    }
    for a in asset::Entity::find().all(db).await.unwrap() {
        assert_eq!(a.search, search::key(&a.code, &a.name), "asset {}", a.code);
    }
}

async fn three_units(app: &TestApp, admin: &str) {
    app.unit(admin, "1000001", "Trường Tiểu học Tam Thanh")
        .await;
    app.unit(admin, "1000002", "Đảng ủy phường Tam Thanh").await;
    app.unit(admin, "1000003", "Ủy ban nhân dân phường Tam Thanh")
        .await;
}

db_test!(
    a_unit_is_found_by_its_name_typed_in_nfc_nfd_capitals_or_without_accents,
    |app| {
        let admin = app.admin().await;
        three_units(&app, &admin).await;
        for q in [
            "Trường",
            "trường",
            "TRƯỜNG",
            "truong",
            "TRUONG",
            &nfd("Trường"),
            &nfd("TRƯỜNG"),
            "  tiểu học  ",
        ] {
            assert_eq!(unit_codes(&app, &admin, q).await, ["1000001"], "q={q:?}");
        }
        for q in ["Đảng", "đảng", "ĐẢNG", "dang", "Dang", &nfd("Đảng ủy")] {
            assert_eq!(unit_codes(&app, &admin, q).await, ["1000002"], "q={q:?}");
        }
        for q in ["Ủy ban", "ủy ban", "uy ban", &nfd("Ủy ban"), "ỦY BAN"] {
            assert_eq!(unit_codes(&app, &admin, q).await, ["1000003"], "q={q:?}");
        }
        // "ủy" is in two names: the Đảng ủy and the Ủy ban.
        assert_eq!(unit_codes(&app, &admin, "uy").await, ["1000002", "1000003"]);
        assert_eq!(unit_codes(&app, &admin, "tam thanh").await.len(), 3);
        assert_eq!(unit_codes(&app, &admin, "1000002").await, ["1000002"]);
        assert!(unit_codes(&app, &admin, "trương x").await.is_empty());
        // Wildcards are literal: `%` and `_` match only themselves.
        assert!(unit_codes(&app, &admin, "%").await.is_empty());
        assert!(unit_codes(&app, &admin, "_").await.is_empty());
    }
);

db_test!(a_renamed_unit_is_found_by_its_new_name_only, |app| {
    let admin = app.admin().await;
    three_units(&app, &admin).await;
    let id = app.unit(&admin, "1000004", "Trạm Y tế").await;
    app.call("PATCH", &format!("/api/v1/units/{id}"))
        .token(&admin)
        .json(&json!({"name": "Nhà Văn hóa khu phố", "code": "1000044"}))
        .send()
        .await
        .expect(200);
    assert!(unit_codes(&app, &admin, "y te").await.is_empty());
    assert_eq!(unit_codes(&app, &admin, "van hoa").await, ["1000044"]);
    assert_eq!(unit_codes(&app, &admin, "1000044").await, ["1000044"]);
    assert!(unit_codes(&app, &admin, "1000004").await.is_empty());
    // A change that touches neither code nor name keeps the key.
    app.call("PATCH", &format!("/api/v1/units/{id}"))
        .token(&admin)
        .json(&json!({"address": "Khu phố 3"}))
        .send()
        .await
        .expect(200);
    assert_eq!(unit_codes(&app, &admin, "NHÀ VĂN").await, ["1000044"]);
    assert_keys_current(&app).await;
});

db_test!(
    an_asset_is_found_by_name_or_code_however_the_query_is_typed,
    |app| {
        let admin = app.admin().await;
        let campaign = app.campaign(&admin).await;
        let unit = app.unit(&admin, "1000001", "Trường THCS A").await;
        app.register(&admin, campaign, unit, &["01"]).await;
        let base = format!("/api/v1/campaigns/{campaign}/units/{unit}/assets");
        for (code, name) in [
            ("D-01", "Khu đất Trường THCS"),
            ("D-02", "Đất Đảng ủy"),
            ("ĐX-03", "Khu đất Ủy ban"),
        ] {
            app.call("POST", &base)
                .token(&admin)
                .json(&json!({"asset_type": "01", "section": "I", "code": code, "name": name,
                    "qty_books": 100, "qty_counted": 100, "original_cost": 1_000_000, "usage_status": "1",
                    "origin": "transferred_in", "year_in_use": 2010, "fields": {"area_office": 100}}))
                .send()
                .await
                .expect(201);
        }
        let find = |q: String| {
            let app = app.clone();
            let (admin, base) = (admin.clone(), base.clone());
            async move {
                codes(
                    &app.call("GET", &format!("{base}?q={}", encode(&q)))
                        .token(&admin)
                        .send()
                        .await
                        .expect(200)
                        .json(),
                )
            }
        };
        for q in ["truong", "TRƯỜNG", "Trường", &nfd("trường")] {
            assert_eq!(find(q.into()).await, ["D-01"], "q={q:?}");
        }
        for q in ["dang", "Đảng", &nfd("ĐẢNG")] {
            assert_eq!(find(q.into()).await, ["D-02"], "q={q:?}");
        }
        assert_eq!(find("Ủy ban".into()).await, ["ĐX-03"]);
        // Codes as before, in any case, and an accented code by its plain letters.
        assert_eq!(find("d-02".into()).await, ["D-02"]);
        assert_eq!(find("D-0".into()).await, ["D-01", "D-02"]);
        assert_eq!(find("dx-03".into()).await, ["ĐX-03"]);
        assert_eq!(find("khu dat".into()).await, ["D-01", "ĐX-03"]);
        // A renamed asset is found by its new name.
        let id = app
            .call("GET", &format!("{base}?q=d-02"))
            .token(&admin)
            .send()
            .await
            .json()["items"][0]["id"]
            .as_i64()
            .unwrap();
        app.call("PATCH", &format!("/api/v1/assets/{id}"))
            .token(&admin)
            .header("if-match", "\"1\"")
            .json(&json!({"name": "Sân vận động"}))
            .send()
            .await
            .expect(200);
        assert!(find("dang".into()).await.is_empty());
        assert_eq!(find("SAN VAN DONG".into()).await, ["D-02"]);
        assert_keys_current(&app).await;
    }
);

db_test!(imported_assets_are_found_by_their_folded_names, |app| {
    let admin = app.admin().await;
    let campaign = app.campaign(&admin).await;
    let unit = app.unit(&admin, "1000001", "Trường A").await;
    app.register(&admin, campaign, unit, &["18"]).await;
    let path = format!("/api/v1/campaigns/{campaign}/units/{unit}/imports");
    let file = |name: &str| {
        format!(
            "code;name;original_cost;usage_status;price_basis;facility_kind\nVH-1;{name};1;1;conventional;group_house\n"
        )
        .into_bytes()
    };
    app.call("POST", &path)
        .token(&admin)
        .raw("text/csv", file(&nfd("Nhà Văn hóa Đồng Tâm")))
        .send()
        .await
        .expect(200);
    let base = format!("/api/v1/campaigns/{campaign}/units/{unit}/assets");
    let found = |q: &str| {
        let url = format!("{base}?q={}", encode(q));
        let (app, admin) = (app.clone(), admin.clone());
        async move {
            app.call("GET", &url)
                .token(&admin)
                .send()
                .await
                .expect(200)
                .json()["total"]
                .clone()
        }
    };
    assert_eq!(found("dong tam").await, 1);
    assert_eq!(found("ĐỒNG TÂM").await, 1);
    // The same code imported again updates the row, and its key.
    app.call("POST", &path)
        .token(&admin)
        .raw("text/csv", file("Nhà Văn hóa Tân Lập"))
        .send()
        .await
        .expect(200);
    assert_eq!(found("dong tam").await, 0);
    assert_eq!(found("tan lap").await, 1);
    assert_keys_current(&app).await;
});

db_test!(
    demo_and_generated_rows_carry_the_key_of_their_code_and_name,
    |app| {
        let admin = app.admin().await;
        app.demo().await;
        let args = GenerateArgs {
            units_per_transaction: 7,
            ..GenerateArgs::new(20, 3, 248)
        };
        generate::generate(&app.state, &args, |_, _| {})
            .await
            .expect("generate");
        assert_keys_current(&app).await;
        // The demo's "Trạm Y tế" or similar: any generated "Trường" is found unaccented.
        let all = unit_codes(&app, &admin, "truong").await;
        let accented = unit_codes(&app, &admin, "Trường").await;
        assert!(!all.is_empty());
        assert_eq!(all, accented);
    }
);

db_test!(the_migration_backfills_the_keys_of_existing_rows, |app| {
    let admin = app.admin().await;
    app.demo().await;
    let db = &app.state.db;
    let names: Vec<String> = Migrator::migrations()
        .iter()
        .map(|m| m.name().to_string())
        .collect();
    let mine = names
        .iter()
        .position(|n| n == "m20261128_000001_search_keys")
        .expect("the search-key migration is listed");
    // Undo it (and any later one): the column and its keys are gone, then come back.
    Migrator::down(db, Some((names.len() - mine) as u32))
        .await
        .expect("down");
    Migrator::up(db, None).await.expect("up");
    assert_keys_current(&app).await;
    assert!(!unit_codes(&app, &admin, "uy ban").await.is_empty());
});
