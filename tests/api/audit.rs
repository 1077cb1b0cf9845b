//! Issue 13: the audit trail through `GET /api/v1/audit-events`.

use serde_json::{Value, json};

use crate::{db_test, support::*};

fn ids(page: &Value) -> Vec<i64> {
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|e| e["id"].as_i64().expect("id"))
        .collect()
}

db_test!(
    the_audit_trail_is_filtered_by_user_unit_kind_and_day_and_paginated_newest_first,
    |app| {
        app.clock.set(at("2026-02-10T09:00:00+07:00"));
        let admin = app.admin().await;
        let a = app.unit(&admin, "1000001", "Trường A").await;
        let b = app.unit(&admin, "1000002", "Trường B").await;
        app.call("PATCH", &format!("/api/v1/units/{a}"))
            .token(&admin)
            .json(&json!({"name": "Trường Tiểu học A"}))
            .send()
            .await
            .expect(200);
        // The next local day (23:30 UTC on the 10th is 06:30 on the 11th in Vietnam).
        app.clock.set(at("2026-02-10T23:30:00Z"));
        // The morning's token has expired by then.
        let admin = app.login("admin", ADMIN_PASSWORD).await;
        app.user(&admin, "ketoan.a", "unit_accountant", &[a]).await;
        let get = |query: &str| {
            let app = app.clone();
            let admin = admin.clone();
            let path = format!("/api/v1/audit-events{query}");
            async move { app.call("GET", &path).token(&admin).send().await }
        };

        let units = get("?entity=unit").await.expect(200).json();
        assert_eq!(units["total"], 3);
        let items = units["items"].as_array().expect("items");
        assert_eq!(items[0]["action"], "update", "newest first");
        assert_eq!(items[0]["unit_id"], a);
        assert_eq!(items[0]["actor_name"], "admin");
        assert_eq!(items[0]["before"]["name"], "Trường A");
        assert_eq!(items[0]["after"]["name"], "Trường Tiểu học A");
        assert_eq!(items[1]["action"], "create");
        assert_eq!(items[1]["unit_id"], b);
        assert_eq!(items[2]["unit_id"], a);
        let sorted = {
            let mut v = ids(&units);
            v.sort_unstable_by(|x, y| y.cmp(x));
            v
        };
        assert_eq!(ids(&units), sorted);

        let of_a = get(&format!("?unit_id={a}")).await.expect(200).json();
        assert_eq!(of_a["total"], 2);
        assert!(
            of_a["items"]
                .as_array()
                .expect("items")
                .iter()
                .all(|e| e["unit_id"] == a)
        );

        let updates = get("?entity=unit&action=update").await.expect(200).json();
        assert_eq!(updates["total"], 1);

        // The user was created on the 11th (Vietnam), everything else on the 10th.
        let day2 = get("?from=2026-02-11&to=2026-02-11&entity=user")
            .await
            .expect(200)
            .json();
        assert_eq!(day2["total"], 1);
        assert_eq!(day2["items"][0]["action"], "create");
        assert_eq!(day2["items"][0]["after"]["username"], "ketoan.a");
        let day1 = get("?to=2026-02-10&entity=user").await.expect(200).json();
        assert_eq!(day1["total"], 1, "only the bootstrap admin: {day1}");
        assert_eq!(day1["items"][0]["after"]["username"], "admin");

        // By who: the bootstrap admin was created by the system, not by `admin`.
        let by_admin = get("?actor=admin&entity=user").await.expect(200).json();
        assert_eq!(by_admin["total"], 1);
        let by_accountant = get("?actor=ketoan.a").await.expect(200).json();
        assert_eq!(by_accountant["items"][0]["action"], "login");
        assert!(
            by_accountant["items"]
                .as_array()
                .expect("items")
                .iter()
                .all(|e| e["actor_name"] == "ketoan.a")
        );

        let second = get("?entity=unit&per_page=2&page=2")
            .await
            .expect(200)
            .json();
        assert_eq!(second["total"], 3);
        assert_eq!(ids(&second), vec![ids(&units)[2]]);

        let wrong = get("?from=2026-02-12&to=2026-02-11").await.expect(422);
        assert_eq!(wrong.error_fields(), vec!["to".to_string()]);
        get("?per_page=501").await.expect(422);
    }
);

db_test!(
    an_accountant_and_the_chairman_cannot_read_the_audit_trail,
    |app| {
        let admin = app.admin().await;
        app.demo().await;
        for who in ["ketoan.mn.tamthanh", "chutich"] {
            let token = app.login(who, DEMO_PASSWORD).await;
            app.call("GET", "/api/v1/audit-events")
                .token(&token)
                .send()
                .await
                .expect(403);
        }
        let finance = app.login("taichinh", DEMO_PASSWORD).await;
        let page = app
            .call("GET", "/api/v1/audit-events?entity=registration")
            .token(&finance)
            .send()
            .await
            .expect(200)
            .json();
        assert_eq!(
            page["total"], 16,
            "one registration event per demo unit: {page}"
        );
        drop(admin);
    }
);

db_test!(the_audit_trail_records_the_acting_user_and_logins, |app| {
    use kiemke::entities::audit_event;
    use sea_orm::EntityTrait;
    let admin = app.admin().await;
    app.unit(&admin, "1000001", "A").await;
    app.call("POST", "/api/v1/auth/login")
        .json(&json!({"username": "admin", "password": "wrong-password"}))
        .send()
        .await
        .expect(401);
    let events = audit_event::Entity::find()
        .all(&app.state.db)
        .await
        .unwrap();
    let create = events
        .iter()
        .find(|e| e.entity == "unit" && e.action == "create")
        .expect("unit create audited");
    assert_eq!(create.actor_name.as_deref(), Some("admin"));
    assert!(create.actor_id.is_some());
    assert_eq!(create.after.as_ref().unwrap()["code"], "1000001");
    assert!(events.iter().any(|e| e.action == "login"));
    assert!(events.iter().any(|e| e.action == "login_failed"));
});
