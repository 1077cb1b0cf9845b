//! Issue 4: reports — the workflow from draft to accepted, snapshots, nil returns, deadlines and
//! extensions. The board, the summary and the reminders are in `progress/`.

use serde_json::{Value, json};

use crate::{db_test, support::*};

struct Ctx {
    admin: String,
    campaign: i64,
    unit: i64,
}

impl Ctx {
    fn report(&self, t: &str) -> String {
        format!(
            "/api/v1/campaigns/{}/units/{}/reports/{t}",
            self.campaign, self.unit
        )
    }
    fn assets(&self) -> String {
        format!(
            "/api/v1/campaigns/{}/units/{}/assets",
            self.campaign, self.unit
        )
    }
}

async fn setup(app: &TestApp, types: &[&str]) -> Ctx {
    let admin = app.admin().await;
    let campaign = app.campaign(&admin).await;
    let unit = app.unit(&admin, "1000001", "Trường A").await;
    app.register(&admin, campaign, unit, types).await;
    Ctx {
        admin,
        campaign,
        unit,
    }
}

fn computer(code: &str) -> Value {
    json!({"asset_type": "01", "section": "IV", "code": code, "name": "Máy tính", "qty_books": 2, "qty_counted": 2,
           "original_cost": 30_000_000, "depreciation": 12_000_000, "usage_status": "1"})
}

db_test!(
    a_report_goes_from_draft_to_submitted_returned_and_accepted,
    |app| {
        let c = setup(&app, &["01"]).await;
        let r = app
            .call("GET", &c.report("01"))
            .token(&c.admin)
            .send()
            .await
            .expect(200)
            .json();
        assert_eq!(r["state"], "not_started");
        let a = app
            .call("POST", &c.assets())
            .token(&c.admin)
            .json(&computer("MT-01"))
            .send()
            .await
            .expect(201)
            .json();
        let asset = format!("/api/v1/assets/{}", a["id"]);
        assert_eq!(
            app.call("GET", &c.report("01"))
                .token(&c.admin)
                .send()
                .await
                .json()["state"],
            "draft"
        );

        let sent = app
            .call("POST", &format!("{}/submit", c.report("01")))
            .token(&c.admin)
            .send()
            .await
            .expect(200)
            .json();
        assert_eq!(sent["state"], "submitted");
        assert_eq!(sent["submissions"], 1);
        assert_eq!(sent["submitted_on_time"], true);
        assert_eq!(sent["digest"].as_str().unwrap().len(), 64);

        // Locked: no create, change or delete while submitted.
        let locked = app
            .call("POST", &c.assets())
            .token(&c.admin)
            .json(&computer("MT-02"))
            .send()
            .await
            .problem(409, "locked");
        assert_eq!(locked.json()["type"], "/problems/locked");
        app.call("PATCH", &asset)
            .token(&c.admin)
            .header("if-match", "\"1\"")
            .json(&json!({"name": "X"}))
            .send()
            .await
            .problem(409, "locked");
        app.call("DELETE", &asset)
            .token(&c.admin)
            .send()
            .await
            .problem(409, "locked");
        // A second click on "submit" changes nothing and answers with the same report.
        let again = app
            .call("POST", &format!("{}/submit", c.report("01")))
            .token(&c.admin)
            .send()
            .await
            .expect(200)
            .json();
        assert_eq!(again["state"], "submitted");
        assert_eq!(again["digest"], sent["digest"]);
        assert_eq!(again["submissions"], 1);
        assert_eq!(again["submitted_at"], sent["submitted_at"]);
        // The same click asking for a nil return is a different submission: refused, naming the state.
        let other = app
            .call("POST", &format!("{}/submit", c.report("01")))
            .token(&c.admin)
            .json(&json!({"nil_return": true}))
            .send()
            .await
            .problem(409, "invalid-state");
        assert_eq!(other.json()["type"], "/problems/invalid-state");
        assert!(
            other.json()["detail"].as_str().unwrap().contains("đã gửi"),
            "names the current state"
        );

        // Returned with a comment on the asset: unlocked, and edits show as changes.
        let back = app
        .call("POST", &format!("{}/return", c.report("01")))
        .token(&c.admin)
        .json(&json!({"reason": "Thiếu số lượng thực tế", "comments": [{"asset_id": a["id"], "comment": "Kiểm lại số lượng"}]}))
        .send()
        .await
        .expect(200)
        .json();
        assert_eq!(back["state"], "returned");
        assert_eq!(back["return_comments"][0]["comment"], "Kiểm lại số lượng");
        app.call("PATCH", &asset)
            .token(&c.admin)
            .header("if-match", "\"1\"")
            .json(&json!({"qty_counted": 1}))
            .send()
            .await
            .expect(200);
        app.call("POST", &c.assets())
            .token(&c.admin)
            .json(&computer("MT-02"))
            .send()
            .await
            .expect(201);
        let pending = app
            .call("GET", &c.report("01"))
            .token(&c.admin)
            .send()
            .await
            .json();
        assert_eq!(pending["changes_since_returned"]["added"], json!(["MT-02"]));
        let changed = &pending["changes_since_returned"]["changed"][0];
        assert_eq!(changed["code"], "MT-01");
        let fields: Vec<&str> = changed["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["field"].as_str().unwrap())
            .collect();
        assert_eq!(fields, ["qty_counted", "qty_difference"]);
        assert_eq!(changed["fields"][0]["before"], 2);
        assert_eq!(changed["fields"][0]["after"], 1);

        let resent = app
            .call("POST", &format!("{}/submit", c.report("01")))
            .token(&c.admin)
            .send()
            .await
            .expect(200)
            .json();
        assert_eq!(resent["submissions"], 2);
        assert_eq!(resent["changes_since_returned"]["added"], json!(["MT-02"]));
        assert_ne!(resent["digest"], sent["digest"]);

        let done = app
            .call("POST", &format!("{}/accept", c.report("01")))
            .token(&c.admin)
            .send()
            .await
            .expect(200)
            .json();
        assert_eq!(done["state"], "accepted");
        let late_click = app
            .call("POST", &format!("{}/submit", c.report("01")))
            .token(&c.admin)
            .send()
            .await
            .problem(409, "invalid-state");
        assert!(
            late_click.json()["detail"]
                .as_str()
                .unwrap()
                .contains("đã chấp nhận"),
            "names the current state"
        );
        app.call("POST", &format!("{}/accept", c.report("01")))
            .token(&c.admin)
            .send()
            .await
            .problem(409, "invalid-state");
        app.call("POST", &format!("{}/return", c.report("01")))
            .token(&c.admin)
            .json(&json!({"reason": "x"}))
            .send()
            .await
            .problem(409, "invalid-state");
        app.call("DELETE", &asset)
            .token(&c.admin)
            .send()
            .await
            .problem(409, "locked");
        // A type with a sent report cannot be dropped from the registration.
        let drop = app
        .call("PUT", &format!("/api/v1/campaigns/{}/units/{}/registration", c.campaign, c.unit))
        .token(&c.admin)
        .json(&json!({"team_decision_no": "1", "team_members": [{"name": "A"}], "asset_types": ["02"]}))
        .send()
        .await;
        assert_eq!(drop.status, 409);
    }
);

db_test!(
    the_snapshot_digest_is_the_sha256_of_the_frozen_records,
    |app| {
        use kiemke::entities::report_snapshot;
        use sea_orm::EntityTrait;
        use sha2::Digest;
        let c = setup(&app, &["01"]).await;
        app.call("POST", &c.assets())
            .token(&c.admin)
            .json(&computer("MT-01"))
            .send()
            .await
            .expect(201);
        let sent = app
            .call("POST", &format!("{}/submit", c.report("01")))
            .token(&c.admin)
            .send()
            .await
            .expect(200)
            .json();
        let snap = report_snapshot::Entity::find()
            .all(&app.state.db)
            .await
            .unwrap()
            .pop()
            .unwrap();
        let digest = hex::encode(sha2::Sha256::digest(
            serde_json::to_vec(&snap.records).unwrap(),
        ));
        assert_eq!(snap.digest, digest);
        assert_eq!(sent["digest"], digest);
        assert_eq!(snap.records[0]["code"], "MT-01");
        assert_eq!(snap.records[0]["remaining_value"], 18_000_000);
    }
);

db_test!(
    submission_is_refused_while_a_record_lacks_what_submission_requires,
    |app| {
        let c = setup(&app, &["01"]).await;
        let land = json!({"asset_type": "01", "section": "I", "code": "DAT-01", "name": "Khu đất", "qty_books": 500, "qty_counted": 500,
                      "original_cost": 900_000_000, "usage_status": "1"});
        app.call("POST", &c.assets())
            .token(&c.admin)
            .json(&land)
            .send()
            .await
            .expect(201);
        let res = app
            .call("POST", &format!("{}/submit", c.report("01")))
            .token(&c.admin)
            .send()
            .await
            .problem(422, "validation");
        assert_eq!(res.error_fields(), ["assets[DAT-01].legal_documents"]);
        assert_eq!(
            app.call("GET", &c.report("01"))
                .token(&c.admin)
                .send()
                .await
                .json()["state"],
            "draft"
        );
    }
);

db_test!(
    a_nil_return_counts_as_submitted_only_for_an_empty_report,
    |app| {
        let c = setup(&app, &["01", "18"]).await;
        let empty = app
            .call("POST", &format!("{}/submit", c.report("18")))
            .token(&c.admin)
            .json(&json!({}))
            .send()
            .await
            .problem(422, "validation");
        assert_eq!(empty.json()["errors"][0]["code"], "empty");
        let nil = app
            .call("POST", &format!("{}/submit", c.report("18")))
            .token(&c.admin)
            .json(&json!({"nil_return": true}))
            .send()
            .await
            .expect(200)
            .json();
        assert_eq!(nil["state"], "submitted");
        assert_eq!(nil["nil_return"], true);
        app.call("POST", &c.assets())
            .token(&c.admin)
            .json(&computer("MT-01"))
            .send()
            .await
            .expect(201);
        let wrong = app
            .call("POST", &format!("{}/submit", c.report("01")))
            .token(&c.admin)
            .json(&json!({"nil_return": true}))
            .send()
            .await
            .problem(422, "validation");
        assert_eq!(wrong.json()["errors"][0]["code"], "has_records");
        let board = app
            .call("GET", &format!("/api/v1/campaigns/{}/progress", c.campaign))
            .token(&c.admin)
            .send()
            .await
            .json();
        assert_eq!(board["reports_by_state"]["submitted"], 1);
        assert_eq!(board["submitted_on_time"], 1);
    }
);

db_test!(the_deadline_day_ends_at_midnight_in_vietnam, |app| {
    let admin = app.admin().await;
    let campaign = app.campaign(&admin).await;
    let early = app.unit(&admin, "1000001", "A").await;
    let late = app.unit(&admin, "1000002", "B").await;
    for u in [early, late] {
        app.register(&admin, campaign, u, &["18"]).await;
    }
    let submit = |unit: i64, token: String| {
        let app = app.clone();
        async move {
            app.call(
                "POST",
                &format!("/api/v1/campaigns/{campaign}/units/{unit}/reports/18/submit"),
            )
            .token(&token)
            .json(&json!({"nil_return": true}))
            .send()
            .await
            .expect(200)
            .json()
        }
    };
    let token = relogin(&app, "2026-03-31T23:59:59+07:00").await;
    let board = app
        .call("GET", &format!("/api/v1/campaigns/{campaign}/progress"))
        .token(&token)
        .send()
        .await
        .json();
    assert_eq!(board["overdue"], 0);
    assert_eq!(board["days_left"], 0);
    assert_eq!(submit(early, token).await["submitted_on_time"], true);
    let token = relogin(&app, "2026-04-01T00:00:00+07:00").await;
    let board = app
        .call(
            "GET",
            &format!("/api/v1/campaigns/{campaign}/progress?overdue=true"),
        )
        .token(&token)
        .send()
        .await
        .json();
    assert_eq!(board["overdue"], 1);
    assert_eq!(board["rows_total"], 1);
    assert_eq!(board["rows"][0]["unit_id"], late);
    let r = submit(late, token.clone()).await;
    assert_eq!(r["submitted_on_time"], false);
    let board = app
        .call("GET", &format!("/api/v1/campaigns/{campaign}/progress"))
        .token(&token)
        .send()
        .await
        .json();
    assert_eq!(
        (
            board["submitted_on_time"].as_i64(),
            board["submitted_late"].as_i64(),
            board["overdue"].as_i64()
        ),
        (Some(1), Some(1), Some(0))
    );
});

db_test!(an_extension_moves_a_units_deadline_and_is_shown, |app| {
    let c = setup(&app, &["18"]).await;
    let bad = app
        .call(
            "POST",
            &format!(
                "/api/v1/campaigns/{}/units/{}/extension",
                c.campaign, c.unit
            ),
        )
        .token(&c.admin)
        .json(&json!({"deadline": "2026-03-01", "reason": "x"}))
        .send()
        .await
        .problem(422, "validation");
    assert_eq!(bad.error_fields(), ["deadline"]);
    let granted = app
        .call(
            "POST",
            &format!(
                "/api/v1/campaigns/{}/units/{}/extension",
                c.campaign, c.unit
            ),
        )
        .token(&c.admin)
        .json(&json!({"deadline": "2026-04-15", "reason": "Trường sáp nhập điểm lẻ"}))
        .send()
        .await
        .expect(200)
        .json();
    assert_eq!(granted[0]["deadline"], "2026-04-15");
    assert_eq!(granted[0]["extension_reason"], "Trường sáp nhập điểm lẻ");
    let token = relogin(&app, "2026-04-10T10:00:00+07:00").await;
    let board = app
        .call("GET", &format!("/api/v1/campaigns/{}/progress", c.campaign))
        .token(&token)
        .send()
        .await
        .json();
    assert_eq!(board["overdue"], 0);
    let r = app
        .call("POST", &format!("{}/submit", c.report("18")))
        .token(&token)
        .json(&json!({"nil_return": true}))
        .send()
        .await
        .expect(200)
        .json();
    assert_eq!(r["submitted_on_time"], true);
    let events = app
        .call(
            "GET",
            &format!("/api/v1/campaigns/{}/reminders", c.campaign),
        )
        .token(&token)
        .send()
        .await
        .json();
    assert_eq!(events, json!([]));
});

db_test!(
    report_urls_take_the_form_code_and_return_comments_name_assets_by_code,
    |app| {
        let c = setup(&app, &["01"]).await;
        let a = app
            .call("POST", &c.assets())
            .token(&c.admin)
            .json(&computer("MT-01"))
            .send()
            .await
            .expect(201)
            .json();
        let by_type = app
            .call("GET", &c.report("01"))
            .token(&c.admin)
            .send()
            .await
            .expect(200)
            .json();
        let by_form = app
            .call("GET", &c.report("01a"))
            .token(&c.admin)
            .send()
            .await
            .expect(200)
            .json();
        assert_eq!(by_form, by_type, "01a names the report of type 01");
        app.call("GET", &c.report("02a"))
            .token(&c.admin)
            .send()
            .await
            .expect(404);
        app.call("POST", &format!("{}/submit", c.report("01a")))
            .token(&c.admin)
            .send()
            .await
            .expect(200);
        // An unknown code, and a comment naming its asset twice, are refused; nothing changes.
        let bad = app
            .call("POST", &format!("{}/return", c.report("01a")))
            .token(&c.admin)
            .json(&json!({"reason": "Sửa lại", "comments": [
                {"asset_code": "KHONG-CO", "comment": "?"},
                {"asset_id": a["id"], "asset_code": "MT-01", "comment": "?"}
            ]}))
            .send()
            .await
            .problem(422, "validation");
        assert_eq!(
            bad.error_fields(),
            vec!["comments[0].asset_code", "comments[1]"]
        );
        assert!(
            bad.json()["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("KHONG-CO")
        );
        let still = app
            .call("GET", &c.report("01"))
            .token(&c.admin)
            .send()
            .await
            .json();
        assert_eq!(still["state"], "submitted");
        let back = app
            .call("POST", &format!("{}/return", c.report("01a")))
            .token(&c.admin)
            .json(&json!({"reason": "Sửa lại", "comments": [{"asset_code": "MT-01", "comment": "Kiểm lại số lượng"}]}))
            .send()
            .await
            .expect(200)
            .json();
        assert_eq!(back["state"], "returned");
        assert_eq!(back["return_comments"][0]["asset_id"], a["id"]);
        assert_eq!(back["return_comments"][0]["comment"], "Kiểm lại số lượng");
    }
);
