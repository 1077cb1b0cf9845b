//! The administrative tree (issue 16): provinces and wards managed by the admin, units placed in
//! a ward and moved with their history, accounts bound to a node, and every list of a finance
//! office or a chairman bound to a ward or a province limited to its subtree.

use serde_json::{Value, json};

use crate::{db_test, support::TestApp};

/// A province (20, Lạng Sơn) with two wards, a unit in each, registered for type 01 with one
/// asset each; returns (campaign, unit in Tam Thanh, unit in the other ward).
async fn two_wards(app: &TestApp, admin: &str) -> (i64, i64, i64) {
    app.province(admin, "20", "Tỉnh Lạng Sơn").await;
    app.ward(admin, "05965", "Phường Tam Thanh", "20").await;
    app.ward(admin, "05968", "Phường Thử Nghiệm (thử)", "20")
        .await;
    let campaign = app.campaign(admin).await;
    let here = app
        .unit_in(admin, "1000001", "Đơn vị Tam Thanh", "05965")
        .await;
    let there = app
        .unit_in(admin, "1000002", "Đơn vị phường khác", "05968")
        .await;
    for unit in [here, there] {
        app.register(admin, campaign, unit, &["01"]).await;
        app.call("POST", &format!("/api/v1/campaigns/{campaign}/units/{unit}/assets"))
            .token(admin)
            .json(&json!({"asset_type": "01", "section": "IV", "code": format!("MT-{unit}"),
                          "name": "Máy tính", "unit_of_measure": "bộ", "qty_books": 1, "qty_counted": 1,
                          "original_cost": 10_000_000, "usage_status": "1", "origin": "purchased",
                          "year_in_use": 2021}))
            .send()
            .await
            .expect(201);
    }
    (campaign, here, there)
}

fn ids(v: &Value) -> Vec<i64> {
    let items = v.get("items").unwrap_or(v);
    items
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|i| i["unit_id"].as_i64().or(i["id"].as_i64()))
        .collect()
}

db_test!(
    the_admin_creates_a_province_and_its_wards_and_everyone_lists_them_by_parent_and_level,
    |app| {
        let admin = app.admin().await;
        let province = app.province(&admin, "20", "Tỉnh Lạng Sơn").await;
        let ward = app.ward(&admin, "05965", "Phường Tam Thanh", "20").await;
        let got = app
            .call("GET", &format!("/api/v1/nodes/{ward}"))
            .token(&admin)
            .send()
            .await
            .expect(200)
            .json();
        assert_eq!(got["code"], "05965");
        assert_eq!(got["level"], "ward");
        assert_eq!(got["parent_id"], province);
        let wards = app
            .call("GET", &format!("/api/v1/nodes?parent={province}"))
            .token(&admin)
            .send()
            .await
            .expect(200)
            .json();
        assert_eq!(wards["total"], 1);
        assert_eq!(wards["items"][0]["name"], "Phường Tam Thanh");
        let provinces = app
            .call("GET", "/api/v1/nodes?level=province")
            .token(&admin)
            .send()
            .await
            .expect(200)
            .json();
        assert_eq!(provinces["total"], 1);
        // The search ignores diacritics and case, like the units'.
        let found = app
            .call("GET", "/api/v1/nodes?q=tam%20thanh")
            .token(&admin)
            .send()
            .await
            .expect(200)
            .json();
        assert_eq!(found["total"], 1);
        assert_eq!(found["items"][0]["id"], ward);
        // Renamed, audited.
        let renamed = app
            .call("PATCH", &format!("/api/v1/nodes/{ward}"))
            .token(&admin)
            .json(&json!({"name": "Phường Tam Thanh (mới)"}))
            .send()
            .await
            .expect(200)
            .json();
        assert_eq!(renamed["name"], "Phường Tam Thanh (mới)");
        let events = app
            .call("GET", "/api/v1/audit-events?entity=admin_node")
            .token(&admin)
            .send()
            .await
            .expect(200)
            .json();
        let actions: Vec<&str> = events["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|e| e["action"].as_str())
            .collect();
        assert_eq!(actions, ["update", "create", "create"]);
    }
);

db_test!(
    a_node_with_a_wrong_code_level_or_parent_is_refused_with_every_field_named_and_nothing_is_created,
    |app| {
        let admin = app.admin().await;
        app.province(&admin, "20", "Tỉnh Lạng Sơn").await;
        app.ward(&admin, "05965", "Phường Tam Thanh", "20").await;
        let before = app
            .call("GET", "/api/v1/nodes")
            .token(&admin)
            .send()
            .await
            .expect(200)
            .json()["total"]
            .clone();
        // A province code of 3 digits, a blank name and a parent given to a province.
        let res = app
            .call("POST", "/api/v1/nodes")
            .token(&admin)
            .json(&json!({"code": "201", "name": "  ", "level": "province", "parent_code": "20"}))
            .send()
            .await
            .problem(422, "validation");
        let mut fields = res.error_fields();
        fields.sort();
        assert_eq!(fields, ["code", "name", "parent_code"]);
        // A ward without a province, with a province's code length.
        let res = app
            .call("POST", "/api/v1/nodes")
            .token(&admin)
            .json(&json!({"code": "20", "name": "Phường X", "level": "ward"}))
            .send()
            .await
            .problem(422, "validation");
        let mut fields = res.error_fields();
        fields.sort();
        assert_eq!(fields, ["code", "parent_code"]);
        // A ward's parent must be a province, not another ward.
        let res = app
            .call("POST", "/api/v1/nodes")
            .token(&admin)
            .json(&json!({"code": "05968", "name": "Phường Y", "level": "ward", "parent_code": "05965"}))
            .send()
            .await
            .problem(422, "validation");
        assert_eq!(res.error_fields(), ["parent_code"]);
        // A code already used: 409, in Vietnamese first and in English on request.
        let res = app
            .call("POST", "/api/v1/nodes")
            .token(&admin)
            .json(&json!({"code": "05965", "name": "Phường Z", "level": "ward", "parent_code": "20"}))
            .send()
            .await
            .problem(409, "conflict");
        assert!(
            res.json()["detail"].as_str().unwrap().contains("«05965»"),
            "{}",
            res.json()
        );
        let en = app
            .call("POST", "/api/v1/nodes")
            .token(&admin)
            .header("accept-language", "en")
            .json(&json!({"code": "20", "name": "Again", "level": "province"}))
            .send()
            .await
            .problem(409, "conflict");
        assert!(en.json()["detail"].as_str().unwrap().contains("already used"));
        let after = app
            .call("GET", "/api/v1/nodes")
            .token(&admin)
            .send()
            .await
            .expect(200)
            .json()["total"]
            .clone();
        assert_eq!(before, after);
        // Only the admin manages the tree.
        let finance = app.bound_user(&admin, "taichinh.tt", "finance_officer", "05965").await;
        app.call("POST", "/api/v1/nodes")
            .token(&finance)
            .json(&json!({"code": "21", "name": "Tỉnh khác", "level": "province"}))
            .send()
            .await
            .expect(403);
    }
);

db_test!(
    moving_a_unit_to_another_ward_is_audited_keeps_its_id_and_data_and_moves_its_rows_province,
    |app| {
        let admin = app.admin().await;
        let (campaign, here, _) = two_wards(&app, &admin).await;
        let other_province = app.province(&admin, "24", "Tỉnh Bắc Ninh (thử)").await;
        app.ward(&admin, "07210", "Phường Ở Tỉnh Khác (thử)", "24")
            .await;
        let unit = app
            .call("GET", &format!("/api/v1/units/{here}"))
            .token(&admin)
            .send()
            .await
            .expect(200)
            .json();
        assert_eq!(unit["ward"]["code"], "05965");
        assert_eq!(unit["province"]["code"], "20");
        let moved = app.place(&admin, here, "07210").await;
        assert_eq!(moved["id"], here);
        assert_eq!(moved["ward"]["code"], "07210");
        assert_eq!(moved["province"]["id"], other_province);
        // Its registration, reports and assets are still there, under the same unit id.
        let assets = app
            .call(
                "GET",
                &format!("/api/v1/campaigns/{campaign}/units/{here}/assets"),
            )
            .token(&admin)
            .send()
            .await
            .expect(200)
            .json();
        assert_eq!(assets["total"], 1);
        app.call(
            "GET",
            &format!("/api/v1/campaigns/{campaign}/units/{here}/registration"),
        )
        .token(&admin)
        .send()
        .await
        .expect(200);
        // The distribution key of every row under the unit follows it, in the same transaction.
        use kiemke::entities::{asset, registration, report};
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        let db = &app.state.db;
        for p in asset::Entity::find()
            .filter(asset::Column::UnitId.eq(here))
            .all(db)
            .await
            .unwrap()
            .iter()
            .map(|a| a.province_id)
            .chain(
                registration::Entity::find()
                    .filter(registration::Column::UnitId.eq(here))
                    .all(db)
                    .await
                    .unwrap()
                    .iter()
                    .map(|r| r.province_id),
            )
            .chain(
                report::Entity::find()
                    .filter(report::Column::UnitId.eq(here))
                    .all(db)
                    .await
                    .unwrap()
                    .iter()
                    .map(|r| r.province_id),
            )
        {
            assert_eq!(p, Some(other_province));
        }
        // The move is its own event, with the ward before and after.
        let events = app
            .call(
                "GET",
                &format!("/api/v1/audit-events?unit_id={here}&action=move"),
            )
            .token(&admin)
            .send()
            .await
            .expect(200)
            .json();
        assert_eq!(events["total"], 1, "{events}");
        let e = &events["items"][0];
        assert_eq!(e["before"]["ward"]["code"], "05965");
        assert_eq!(e["after"]["ward"]["code"], "07210");
        assert_eq!(e["after"]["province"]["code"], "24");
        // Moving to what is not a ward changes nothing.
        let res = app
            .call("PATCH", &format!("/api/v1/units/{here}"))
            .token(&admin)
            .json(&json!({"ward_code": "20", "name": "Tên mới"}))
            .send()
            .await
            .problem(422, "validation");
        assert_eq!(res.error_fields(), ["ward_code"]);
        let unit = app
            .call("GET", &format!("/api/v1/units/{here}"))
            .token(&admin)
            .send()
            .await
            .expect(200)
            .json();
        assert_eq!(unit["ward"]["code"], "07210");
        assert_eq!(unit["name"], "Đơn vị Tam Thanh");
    }
);

db_test!(
    only_finance_officers_and_viewers_are_bound_to_a_node_and_a_binding_changes_what_they_see,
    |app| {
        let admin = app.admin().await;
        let (_, here, there) = two_wards(&app, &admin).await;
        for role in ["unit_accountant", "admin"] {
            let res = app
                .call("POST", "/api/v1/users")
                .token(&admin)
                .json(
                    &json!({"username": format!("x.{role}"), "full_name": "X", "role": role,
                              "unit_ids": if role == "admin" { json!([]) } else { json!([here]) },
                              "node_code": "05965", "password": "user-password-1"}),
                )
                .send()
                .await
                .problem(422, "validation");
            assert!(
                res.error_fields().contains(&"node_code".to_string()),
                "{role}"
            );
        }
        let res = app
            .call("POST", "/api/v1/users")
            .token(&admin)
            .json(
                &json!({"username": "x.unknown", "full_name": "X", "role": "viewer",
                          "node_code": "99999", "password": "user-password-1"}),
            )
            .send()
            .await
            .problem(422, "validation");
        assert_eq!(res.error_fields(), ["node_code"]);
        let finance = app
            .bound_user(&admin, "taichinh.tt", "finance_officer", "05965")
            .await;
        let me = app
            .call("GET", "/api/v1/users?per_page=100")
            .token(&admin)
            .send()
            .await
            .expect(200)
            .json();
        let user = me["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["username"] == "taichinh.tt")
            .unwrap()
            .clone();
        assert_eq!(user["node_code"], "05965");
        let seen = |token: String| {
            let app = app.clone();
            async move {
                ids(&app
                    .call("GET", "/api/v1/units")
                    .token(&token)
                    .send()
                    .await
                    .expect(200)
                    .json())
            }
        };
        assert_eq!(seen(finance.clone()).await, [here]);
        // Rebound to the province: both wards, on the very same session.
        let id = user["id"].as_i64().unwrap();
        let rebound = app
            .call("PATCH", &format!("/api/v1/users/{id}"))
            .token(&admin)
            .json(&json!({"node_code": "20"}))
            .send()
            .await
            .expect(200)
            .json();
        assert_eq!(rebound["node_code"], "20");
        assert_eq!(seen(finance.clone()).await, [here, there]);
        // Unbound: the whole installation.
        app.call("PATCH", &format!("/api/v1/users/{id}"))
            .token(&admin)
            .json(&json!({"node_code": null}))
            .send()
            .await
            .expect(200);
        assert_eq!(seen(finance).await.len(), 2);
        // Becoming an accountant while bound to a node is refused, not silently unbound.
        let res = app
            .call("PATCH", &format!("/api/v1/users/{id}"))
            .token(&admin)
            .json(&json!({"role": "unit_accountant", "unit_ids": [here], "node_code": "05965"}))
            .send()
            .await
            .problem(422, "validation");
        assert!(res.error_fields().contains(&"node_code".to_string()));
    }
);

db_test!(
    a_ward_finance_office_lists_only_its_wards_units_registrations_audit_and_workbooks,
    |app| {
        let admin = app.admin().await;
        let (campaign, here, there) = two_wards(&app, &admin).await;
        let finance = app
            .bound_user(&admin, "taichinh.tt", "finance_officer", "05965")
            .await;
        let viewer = app
            .bound_user(&admin, "chutich.tt", "viewer", "05965")
            .await;
        let province = app
            .bound_user(&admin, "sotaichinh", "finance_officer", "20")
            .await;
        let get = |token: &str, path: String| {
            let app = app.clone();
            let token = token.to_string();
            async move {
                app.call("GET", &path)
                    .token(&token)
                    .send()
                    .await
                    .expect(200)
            }
        };
        for token in [&finance, &viewer] {
            assert_eq!(
                ids(&get(token, "/api/v1/units".into()).await.json()),
                [here]
            );
            assert_eq!(
                ids(
                    &get(token, format!("/api/v1/campaigns/{campaign}/registrations"))
                        .await
                        .json()
                ),
                [here]
            );
        }
        assert_eq!(
            ids(&get(&province, "/api/v1/units".into()).await.json()),
            [here, there]
        );
        assert_eq!(
            ids(&get(
                &province,
                format!("/api/v1/campaigns/{campaign}/registrations")
            )
            .await
            .json()),
            [here, there]
        );
        // The audit trail: only events of the ward's units (no account or node events).
        let events = get(&finance, "/api/v1/audit-events?per_page=100".into())
            .await
            .json();
        let units: Vec<Option<i64>> = events["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["unit_id"].as_i64())
            .collect();
        assert!(!units.is_empty());
        assert!(units.iter().all(|u| *u == Some(here)), "{units:?}");
        let everything = get(&admin, "/api/v1/audit-events?per_page=100".into())
            .await
            .json();
        assert!(everything["total"].as_i64() > events["total"].as_i64());
        // The ward's flat file and consolidated report: its unit's rows only.
        for (token, expected) in [(&finance, 1usize), (&province, 2)] {
            let flat = get(
                token,
                format!("/api/v1/campaigns/{campaign}/forms/01a/flat.xlsx"),
            )
            .await;
            let text = xlsx_text(&flat.body);
            assert_eq!(text.matches("MT-").count(), expected, "{text}");
            let summary = get(
                token,
                format!("/api/v1/campaigns/{campaign}/forms/01a/summary.xlsx"),
            )
            .await;
            let text = xlsx_text(&summary.body);
            if expected == 1 {
                assert!(text.contains("1000001"));
                assert!(!text.contains("1000002"), "{text}");
            } else {
                // The province's report: one row per ward, no unit rows.
                assert!(text.contains("Phường Tam Thanh"), "{text}");
                assert!(text.contains("Phường Thử Nghiệm (thử)"), "{text}");
                assert!(!text.contains("1000001"), "{text}");
            }
        }
        // The nodes: the ward and the path up to it.
        let nodes = get(&finance, "/api/v1/nodes".into()).await.json();
        let codes: Vec<&str> = nodes["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|n| n["code"].as_str())
            .collect();
        assert_eq!(codes, ["20", "05965"]);
        let nodes = get(&province, "/api/v1/nodes".into()).await.json();
        assert_eq!(nodes["total"], 3);
    }
);

db_test!(
    a_unit_an_asset_or_a_node_of_another_ward_answers_404_as_if_it_did_not_exist,
    |app| {
        let admin = app.admin().await;
        let (campaign, here, there) = two_wards(&app, &admin).await;
        let finance = app
            .bound_user(&admin, "taichinh.tt", "finance_officer", "05965")
            .await;
        let asset = app
            .call(
                "GET",
                &format!("/api/v1/campaigns/{campaign}/units/{there}/assets"),
            )
            .token(&admin)
            .send()
            .await
            .expect(200)
            .json()["items"][0]["id"]
            .as_i64()
            .unwrap();
        let other_ward = app
            .call("GET", "/api/v1/nodes?q=05968")
            .token(&admin)
            .send()
            .await
            .expect(200)
            .json()["items"][0]["id"]
            .as_i64()
            .unwrap();
        let missing = app
            .call("GET", "/api/v1/units/999999")
            .token(&finance)
            .send()
            .await
            .problem(404, "not-found")
            .json();
        for path in [
            format!("/api/v1/units/{there}"),
            format!("/api/v1/campaigns/{campaign}/units/{there}/registration"),
            format!("/api/v1/assets/{asset}"),
            format!("/api/v1/assets/{asset}/history"),
        ] {
            let res = app
                .call("GET", &path)
                .token(&finance)
                .send()
                .await
                .problem(404, "not-found");
            assert_eq!(res.json()["title"], missing["title"], "{path}");
        }
        app.call("GET", &format!("/api/v1/nodes/{other_ward}"))
            .token(&finance)
            .send()
            .await
            .problem(404, "not-found");
        // Nor may the office act on it: returning, accepting or extending answers 404 too.
        app.call(
            "POST",
            &format!("/api/v1/campaigns/{campaign}/units/{there}/extension"),
        )
        .token(&finance)
        .json(&json!({"until": "2026-04-15", "reason": "x"}))
        .send()
        .await
        .problem(404, "not-found");
        // Its own ward's unit answers.
        app.call("GET", &format!("/api/v1/units/{here}"))
            .token(&finance)
            .send()
            .await
            .expect(200);
    }
);

/// Every text cell of an xlsx file, joined (the shared strings and the inline strings).
fn xlsx_text(bytes: &[u8]) -> String {
    use calamine::{Reader, Xlsx};
    let mut wb: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes.to_vec())).expect("an xlsx file");
    let mut out = String::new();
    for name in wb.sheet_names().to_vec() {
        if let Ok(range) = wb.worksheet_range(&name) {
            for row in range.rows() {
                for c in row {
                    out.push_str(&c.to_string());
                    out.push('\t');
                }
                out.push('\n');
            }
        }
    }
    out
}
