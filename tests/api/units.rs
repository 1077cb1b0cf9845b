//! Units: the ward's units with their budget codes and superiors, validated, and deactivated
//! rather than deleted once they hold data.

use serde_json::json;

use crate::db_test;

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
