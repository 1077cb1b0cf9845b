//! Issue 2: units, campaigns, the asset-type catalogue, registrations, errors, demo.

use serde_json::{Value, json};

use crate::{db_test, support::*};

db_test!(health_reports_which_database_answers, |app| {
    let body = app.call("GET", "/health").send().await.expect(200).json();
    assert_eq!(body["status"], "ok");
    let expected = match app.backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgresql",
    };
    assert_eq!(body["database"], expected);
});

db_test!(
    the_catalogue_lists_the_19_asset_types_with_their_forms,
    |app| {
        let admin = app.admin().await;
        let types = app
            .call("GET", "/api/v1/asset-types")
            .token(&admin)
            .send()
            .await
            .expect(200)
            .json();
        let types = types.as_array().expect("list");
        assert_eq!(types.len(), 19);
        assert_eq!(types[0]["code"], "01");
        assert_eq!(types[0]["form_code"], "01a");
        assert_eq!(types[0]["group"], "unit_assets");
        assert_eq!(types[17]["code"], "18");
        assert_eq!(types[17]["form_code"], "18a");
        assert!(types[1]["name_vi"].as_str().unwrap().contains("giao thông"));
        let form = app
            .call("GET", "/api/v1/forms/01a")
            .token(&admin)
            .send()
            .await
            .expect(200)
            .json();
        let keys: Vec<&str> = form["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["key"].as_str().unwrap())
            .collect();
        for k in [
            "section",
            "code",
            "original_cost",
            "usage_status",
            "license_plate",
            "area_office",
        ] {
            assert!(keys.contains(&k), "01a lacks {k}");
        }
        app.call("GET", "/api/v1/forms/99z")
            .token(&admin)
            .send()
            .await
            .expect(404);
    }
);

db_test!(a_unit_is_created_read_and_listed, |app| {
    let admin = app.admin().await;
    let res = app
        .call("POST", "/api/v1/units")
        .token(&admin)
        .json(&json!({"code": "1012345", "registration_code": "001002003", "name": "Trường THCS Tam Thanh",
                      "kind": "school", "accountant_email": "ketoan@example.vn", "accountant_phone": "0912 345 678"}))
        .send()
        .await
        .expect(201)
        .json();
    let id = res["id"].as_i64().unwrap();
    assert_eq!(res["active"], true);
    let got = app
        .call("GET", &format!("/api/v1/units/{id}"))
        .token(&admin)
        .send()
        .await
        .expect(200)
        .json();
    assert_eq!(got["name"], "Trường THCS Tam Thanh");
    assert_eq!(got["registration_code"], "001002003");
    let list = app
        .call("GET", "/api/v1/units?kind=school&q=tam%20thanh")
        .token(&admin)
        .send()
        .await
        .expect(200)
        .json();
    assert_eq!(list["total"], 1);
    let none = app
        .call("GET", "/api/v1/units?kind=party_agency")
        .token(&admin)
        .send()
        .await
        .expect(200)
        .json();
    assert_eq!(none["total"], 0);
});

db_test!(
    a_duplicate_budget_code_is_a_conflict_and_changes_nothing,
    |app| {
        let admin = app.admin().await;
        app.unit(&admin, "1012345", "Đơn vị A").await;
        let res = app
            .call("POST", "/api/v1/units")
            .token(&admin)
            .json(&json!({"code": "1012345", "name": "Đơn vị B", "kind": "other"}))
            .send()
            .await
            .problem(409, "conflict");
        assert_eq!(res.content_type(), "application/problem+json");
        assert_eq!(res.json()["type"], "/problems/conflict");
        let list = app
            .call("GET", "/api/v1/units")
            .token(&admin)
            .send()
            .await
            .expect(200)
            .json();
        assert_eq!(list["total"], 1);
    }
);

db_test!(an_invalid_unit_lists_every_failing_field, |app| {
    let admin = app.admin().await;
    let res = app
        .call("POST", "/api/v1/units")
        .token(&admin)
        .json(&json!({"code": "12AB", "name": "", "kind": "school", "accountant_email": "not-an-email", "registration_code": "12"}))
        .send()
        .await
        .problem(422, "validation");
    let mut fields = res.error_fields();
    fields.sort();
    assert_eq!(
        fields,
        ["accountant_email", "code", "name", "registration_code"]
    );
    assert!(
        res.json()["detail"]
            .as_str()
            .unwrap()
            .contains("không hợp lệ")
    );
});

db_test!(
    malformed_requests_get_problem_documents_never_a_500,
    |app| {
        let admin = app.admin().await;
        let broken = app
            .call("POST", "/api/v1/units")
            .token(&admin)
            .raw("application/json", b"{\"code\": ".to_vec())
            .send()
            .await
            .problem(400, "malformed-json");
        assert_eq!(broken.content_type(), "application/problem+json");
        assert_eq!(broken.json()["type"], "/problems/malformed-json");
        let text = app
            .call("POST", "/api/v1/units")
            .token(&admin)
            .raw("text/plain", b"hello".to_vec())
            .send()
            .await
            .expect(415);
        assert_eq!(text.json()["type"], "/problems/unsupported-media-type");
        let wrong_type = app
            .call("POST", "/api/v1/units")
            .token(&admin)
            .json(&json!({"code": 1234567, "name": "X", "kind": "school"}))
            .send()
            .await
            .problem(422, "validation");
        assert_eq!(wrong_type.error_fields(), ["code"]);
        let unknown_kind = app
            .call("POST", "/api/v1/units")
            .token(&admin)
            .json(&json!({"code": "1234567", "name": "X", "kind": "castle"}))
            .send()
            .await
            .problem(422, "validation");
        assert_eq!(unknown_kind.error_fields(), ["kind"]);
        let array = app
            .call("POST", "/api/v1/units")
            .token(&admin)
            .json(&json!([1, 2]))
            .send()
            .await
            .problem(422, "validation");
        assert_eq!(array.content_type(), "application/problem+json");
        let route = app
            .call("GET", "/api/v1/nothing-here")
            .send()
            .await
            .expect(404);
        assert_eq!(route.json()["type"], "/problems/not-found");
        let method = app
            .call("DELETE", "/api/v1/campaigns")
            .token(&admin)
            .send()
            .await
            .expect(405);
        assert_eq!(method.json()["type"], "/problems/method-not-allowed");
        let bad_id = app
            .call("GET", "/api/v1/units/abc")
            .token(&admin)
            .send()
            .await
            .problem(400, "bad-request");
        assert_eq!(bad_id.content_type(), "application/problem+json");
        let huge = app
            .call("GET", "/api/v1/units/99999999999999999999999")
            .token(&admin)
            .send()
            .await
            .problem(400, "bad-request");
        assert_eq!(huge.content_type(), "application/problem+json");
        let bad_page = app
            .call("GET", "/api/v1/units?per_page=0&page=x")
            .token(&admin)
            .send()
            .await
            .problem(422, "validation");
        assert_eq!(bad_page.content_type(), "application/problem+json");
    }
);

db_test!(
    details_are_english_when_the_client_asks_for_english,
    |app| {
        let admin = app.admin().await;
        let res = app
            .call("POST", "/api/v1/units")
            .token(&admin)
            .header("accept-language", "en-US,en;q=0.9")
            .json(&json!({"code": "bad", "name": "X", "kind": "school"}))
            .send()
            .await
            .problem(422, "validation");
        let body = res.json();
        assert_eq!(body["title"], "Invalid data");
        assert!(
            body["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("expected format")
        );
        let vi = app
            .call("GET", "/api/v1/units/12345")
            .token(&admin)
            .send()
            .await
            .expect(404)
            .json();
        assert!(vi["detail"].as_str().unwrap().starts_with("Không tìm thấy"));
    }
);

db_test!(a_unit_with_data_is_deactivated_not_deleted, |app| {
    let admin = app.admin().await;
    let campaign = app.campaign(&admin).await;
    let empty = app.unit(&admin, "1000001", "Đơn vị trống").await;
    let busy = app.unit(&admin, "1000002", "Đơn vị có dữ liệu").await;
    app.register(&admin, campaign, busy, &["01"]).await;
    app.call("DELETE", &format!("/api/v1/units/{busy}"))
        .token(&admin)
        .send()
        .await
        .problem(409, "conflict");
    let off = app
        .call("PATCH", &format!("/api/v1/units/{busy}"))
        .token(&admin)
        .json(&json!({"active": false, "address": null}))
        .send()
        .await
        .expect(200)
        .json();
    assert_eq!(off["active"], false);
    app.call(
        "GET",
        &format!("/api/v1/campaigns/{campaign}/units/{busy}/registration"),
    )
    .token(&admin)
    .send()
    .await
    .expect(200);
    app.call("DELETE", &format!("/api/v1/units/{empty}"))
        .token(&admin)
        .send()
        .await
        .expect(204);
    app.call("GET", &format!("/api/v1/units/{empty}"))
        .token(&admin)
        .send()
        .await
        .expect(404);
});

db_test!(a_unit_cannot_be_its_own_superior, |app| {
    let admin = app.admin().await;
    let a = app.unit(&admin, "1000001", "A").await;
    let b = app.unit(&admin, "1000002", "B").await;
    app.call("PATCH", &format!("/api/v1/units/{b}"))
        .token(&admin)
        .json(&json!({"parent_id": a}))
        .send()
        .await
        .expect(200);
    let res = app
        .call("PATCH", &format!("/api/v1/units/{a}"))
        .token(&admin)
        .json(&json!({"parent_id": b}))
        .send()
        .await
        .problem(422, "validation");
    assert_eq!(res.error_fields(), ["parent_id"]);
});

db_test!(campaign_deadlines_must_be_in_order, |app| {
    let admin = app.admin().await;
    let res = app
        .call("POST", "/api/v1/campaigns")
        .token(&admin)
        .json(
            &json!({"name": "X", "authority_name": "UBND", "place_name": "Tam Thanh",
                      "cutoff_at": "2026-01-01T00:00:00+07:00",
                      "registration_deadline": "2026-03-31", "submission_deadline": "2026-03-01"}),
        )
        .send()
        .await
        .problem(422, "validation");
    assert_eq!(res.json()["errors"][0]["code"], "deadline_order");
    let id = app.campaign(&admin).await;
    let c = app
        .call("GET", &format!("/api/v1/campaigns/{id}"))
        .token(&admin)
        .send()
        .await
        .expect(200)
        .json();
    assert_eq!(c["cutoff_at"], "2025-12-31T17:00:00Z");
    assert_eq!(c["submission_deadline"], "2026-03-31");
    app.call("PATCH", &format!("/api/v1/campaigns/{id}"))
        .token(&admin)
        .json(&json!({"submission_deadline": "2026-03-30"}))
        .send()
        .await
        .problem(422, "validation");
    let patched = app
        .call("PATCH", &format!("/api/v1/campaigns/{id}"))
        .token(&admin)
        .json(&json!({"submission_deadline": "2026-04-15"}))
        .send()
        .await
        .expect(200)
        .json();
    assert_eq!(patched["submission_deadline"], "2026-04-15");
});

db_test!(
    registration_is_on_time_until_the_end_of_the_deadline_day_in_vietnam,
    |app| {
        let admin = app.admin().await;
        let campaign = app.campaign(&admin).await;
        let early = app.unit(&admin, "1000001", "A").await;
        let late = app.unit(&admin, "1000002", "B").await;
        app.clock.set(at("2026-03-31T23:59:59+07:00"));
        let admin = app.login("admin", ADMIN_PASSWORD).await;
        let r = app.register(&admin, campaign, early, &["01"]).await;
        assert_eq!(r["on_time"], true);
        assert_eq!(r["asset_types"], json!(["01"]));
        assert_eq!(r["forms"], json!(["01a"]));
        app.clock.set(at("2026-04-01T00:00:00+07:00"));
        let r = app.register(&admin, campaign, late, &["01"]).await;
        assert_eq!(r["on_time"], false);
    }
);

db_test!(
    changing_the_registered_types_after_the_deadline_is_allowed_and_counted,
    |app| {
        let admin = app.admin().await;
        let campaign = app.campaign(&admin).await;
        let unit = app.unit(&admin, "1000001", "A").await;
        app.register(&admin, campaign, unit, &["01"]).await;
        let same = app.register(&admin, campaign, unit, &["01", "02"]).await;
        assert_eq!(same["late_changes"], 0);
        app.clock.set(at("2026-04-02T08:00:00+07:00"));
        let admin = app.login("admin", ADMIN_PASSWORD).await;
        let changed = app
            .register(&admin, campaign, unit, &["01", "02", "18"])
            .await;
        assert_eq!(changed["late_changes"], 1);
        assert_eq!(
            changed["on_time"], true,
            "the first registration stays on time"
        );
        assert_eq!(changed["asset_types"], json!(["01", "02", "18"]));
        let dropped = app.register(&admin, campaign, unit, &["01"]).await;
        assert_eq!(dropped["asset_types"], json!(["01"]));
        assert_eq!(dropped["late_changes"], 2);
    }
);

db_test!(
    a_registration_with_unknown_or_repeated_types_is_refused,
    |app| {
        let admin = app.admin().await;
        let campaign = app.campaign(&admin).await;
        let unit = app.unit(&admin, "1000001", "A").await;
        let path = format!("/api/v1/campaigns/{campaign}/units/{unit}/registration");
        let bad = app
            .call("PUT", &path)
            .token(&admin)
            .json(&json!({"team_decision_no": "", "team_members": [], "asset_types": ["01", "01"]}))
            .send()
            .await
            .problem(422, "validation");
        let mut fields = bad.error_fields();
        fields.sort();
        assert_eq!(fields, ["asset_types", "team_decision_no", "team_members"]);
        let unknown = app
        .call("PUT", &path)
        .token(&admin)
        .json(&json!({"team_decision_no": "1", "team_members": [{"name": "A"}], "asset_types": ["20"]}))
        .send()
        .await
        .problem(422, "validation");
        assert_eq!(unknown.error_fields(), ["asset_types[0]"]);
        app.call("GET", &path)
            .token(&admin)
            .send()
            .await
            .expect(404);
    }
);

db_test!(
    the_demo_ward_loads_once_with_16_units_registered_on_time,
    |app| {
        let campaign = app.demo().await;
        let again = app.demo().await;
        assert_eq!(campaign, again);
        let token = app.login("taichinh", DEMO_PASSWORD).await;
        let units = app
            .call("GET", "/api/v1/units?per_page=100")
            .token(&token)
            .send()
            .await
            .expect(200)
            .json();
        assert_eq!(units["total"], 16);
        let regs = app
            .call(
                "GET",
                &format!("/api/v1/campaigns/{campaign}/registrations"),
            )
            .token(&token)
            .send()
            .await
            .expect(200)
            .json();
        let regs = regs.as_array().unwrap();
        assert_eq!(regs.len(), 16);
        assert!(
            regs.iter()
                .all(|r| r["on_time"] == true && !r["team_members"].as_array().unwrap().is_empty())
        );
        let count = |t: &str| {
            regs.iter()
                .filter(|r| {
                    r["asset_types"]
                        .as_array()
                        .unwrap()
                        .contains(&Value::from(t))
                })
                .count()
        };
        assert_eq!((count("01"), count("02"), count("18")), (16, 1, 1));
        let c = app
            .call("GET", &format!("/api/v1/campaigns/{campaign}"))
            .token(&token)
            .send()
            .await
            .expect(200)
            .json();
        assert_eq!(
            c["name"],
            "Tổng kiểm kê tài sản công thời điểm 0h00 ngày 01/01/2026"
        );
        assert_eq!(c["registration_deadline"], "2026-03-31");
    }
);

/// The OpenAPI document is kept in `tests/snapshots/openapi.json`, so that every API
/// change shows up in review. Regenerate with `UPDATE_SNAPSHOTS=1 cargo test openapi`.
#[test]
fn the_openapi_document_matches_its_snapshot() {
    let doc = serde_json::to_string_pretty(&kiemke::api::openapi()).expect("openapi serialises");
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/openapi.json");
    // Only UPDATE_SNAPSHOTS=1 rewrites it (UPDATE_SNAPSHOTS=0, or empty, compares), and never in CI.
    if std::env::var("UPDATE_SNAPSHOTS").as_deref() == Ok("1") {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "UPDATE_SNAPSHOTS=1 under CI=true: CI compares the snapshot, it never rewrites it"
        );
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, format!("{doc}\n")).unwrap();
    }
    let stored = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        stored.trim_end() == doc,
        "the OpenAPI document changed; review and run UPDATE_SNAPSHOTS=1 cargo test openapi"
    );
}

#[test]
fn the_openapi_document_is_3_1_and_states_constraints() {
    let doc = serde_json::to_value(kiemke::api::openapi()).unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    let unit = &doc["components"]["schemas"]["NewUnit"]["properties"]["code"];
    assert_eq!(unit["pattern"], "^[0-9]{7}$");
    assert_eq!(unit["maxLength"], 7);
    let create = &doc["paths"]["/api/v1/units"]["post"]["responses"];
    for status in ["201", "401", "403", "409", "422"] {
        assert!(
            create.get(status).is_some(),
            "POST /units documents {status}"
        );
    }
}
