//! Campaigns: an inventory campaign and the order of its deadlines.

use serde_json::json;

use crate::db_test;

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
