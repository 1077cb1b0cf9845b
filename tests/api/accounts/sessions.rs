//! Issue 6: accounts, roles, unit isolation, tokens, lockout, the permission matrix.

use serde_json::{Value, json};

use crate::{db_test, support::*};

db_test!(login_gives_a_token_and_me_shows_role_and_units, |app| {
    let admin = app.admin().await;
    let unit = app.unit(&admin, "1000001", "Trường A").await;
    let token = app
        .user(&admin, "ketoan.a", "unit_accountant", &[unit])
        .await;
    let me = app
        .call("GET", "/api/v1/me")
        .token(&token)
        .send()
        .await
        .expect(200)
        .json();
    assert_eq!(me["username"], "ketoan.a");
    assert_eq!(me["role"], "unit_accountant");
    assert_eq!(me["unit_ids"], json!([unit]));
    assert!(me.get("password_hash").is_none());
    let users = app
        .call("GET", "/api/v1/users")
        .token(&admin)
        .send()
        .await
        .expect(200)
        .json();
    assert_eq!(users["total"], 2);
});

db_test!(
    unknown_users_and_wrong_passwords_get_the_same_answer,
    |app| {
        app.admin().await;
        let wrong = app
            .call("POST", "/api/v1/auth/login")
            .json(&json!({"username": "admin", "password": "nope-nope-nope"}))
            .send()
            .await
            .expect(401);
        let unknown = app
            .call("POST", "/api/v1/auth/login")
            .json(&json!({"username": "ghost", "password": "nope-nope-nope"}))
            .send()
            .await
            .expect(401);
        assert_eq!(wrong.body, unknown.body);
    }
);

db_test!(
    repeated_failed_logins_lock_the_name_out_for_a_while,
    |app| {
        app.admin().await;
        for _ in 0..5 {
            app.call("POST", "/api/v1/auth/login")
                .json(&json!({"username": "admin", "password": "wrong-password"}))
                .send()
                .await
                .expect(401);
        }
        let locked = app
            .call("POST", "/api/v1/auth/login")
            .json(&json!({"username": "admin", "password": ADMIN_PASSWORD}))
            .send()
            .await
            .expect(429);
        assert_eq!(locked.json()["type"], "/problems/too-many-requests");
        app.clock.advance(chrono::Duration::minutes(16));
        app.login("admin", ADMIN_PASSWORD).await;
    }
);

db_test!(a_logged_out_token_no_longer_works, |app| {
    let admin = app.admin().await;
    app.call("POST", "/api/v1/auth/logout")
        .token(&admin)
        .send()
        .await
        .expect(204);
    let res = app
        .call("GET", "/api/v1/me")
        .token(&admin)
        .send()
        .await
        .expect(401);
    assert_eq!(
        res.headers.get("www-authenticate").unwrap(),
        "Bearer realm=\"kiemke\""
    );
});

db_test!(a_token_expires_after_its_lifetime, |app| {
    let admin = app.admin().await;
    app.call("GET", "/api/v1/me")
        .token(&admin)
        .send()
        .await
        .expect(200);
    app.clock.advance(chrono::Duration::hours(12));
    app.call("GET", "/api/v1/me")
        .token(&admin)
        .send()
        .await
        .expect(401);
});

db_test!(
    requests_without_a_token_get_401_and_public_routes_stay_open,
    |app| {
        let res = app.call("GET", "/api/v1/units").send().await.expect(401);
        assert_eq!(res.content_type(), "application/problem+json");
        assert!(res.headers.get("www-authenticate").is_some());
        app.call("GET", "/api/v1/units")
            .token("kk_forged")
            .send()
            .await
            .expect(401);
        app.call("GET", "/health").send().await.expect(200);
        app.call("GET", "/api/openapi.json")
            .send()
            .await
            .expect(200);
        let docs = app.call("GET", "/docs/").send().await.expect(200);
        assert!(String::from_utf8_lossy(&docs.body).contains("swagger"));
    }
);

db_test!(an_accountant_sees_only_their_own_unit, |app| {
    let admin = app.admin().await;
    let campaign = app.campaign(&admin).await;
    let mine = app.unit(&admin, "1000001", "Mine").await;
    let other = app.unit(&admin, "1000002", "Other").await;
    app.register(&admin, campaign, other, &["01"]).await;
    let token = app
        .user(&admin, "ketoan.mine", "unit_accountant", &[mine])
        .await;
    let list = app
        .call("GET", "/api/v1/units")
        .token(&token)
        .send()
        .await
        .expect(200)
        .json();
    assert_eq!(list["total"], 1);
    assert_eq!(list["items"][0]["id"], mine);
    app.call("GET", &format!("/api/v1/units/{other}"))
        .token(&token)
        .send()
        .await
        .expect(404);
    app.call(
        "GET",
        &format!("/api/v1/campaigns/{campaign}/units/{other}/registration"),
    )
    .token(&token)
    .send()
    .await
    .expect(404);
    let reg = app
        .call("PUT", &format!("/api/v1/campaigns/{campaign}/units/{mine}/registration"))
        .token(&token)
        .json(&json!({"team_decision_no": "1", "team_members": [{"name": "A"}], "asset_types": ["01"]}))
        .send()
        .await
        .expect(201);
    assert_eq!(reg.json()["unit_id"], mine);
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
    assert_eq!(regs.as_array().unwrap().len(), 1);
    app.call("PATCH", &format!("/api/v1/units/{mine}"))
        .token(&token)
        .json(&json!({"name": "X"}))
        .send()
        .await
        .expect(403);
});

db_test!(changing_a_password_ends_every_session, |app| {
    let admin = app.admin().await;
    let token = app.user(&admin, "viewer1", "viewer", &[]).await;
    let second = app.login("viewer1", USER_PASSWORD).await;
    let wrong = app
        .call("POST", "/api/v1/me/password")
        .token(&token)
        .json(&json!({"current_password": "bad", "new_password": "new-password-22"}))
        .send()
        .await
        .expect(422);
    assert_eq!(wrong.error_fields(), ["current_password"]);
    app.call("POST", "/api/v1/me/password")
        .token(&token)
        .json(&json!({"current_password": USER_PASSWORD, "new_password": "new-password-22"}))
        .send()
        .await
        .expect(204);
    app.call("GET", "/api/v1/me")
        .token(&second)
        .send()
        .await
        .expect(401);
    app.login("viewer1", "new-password-22").await;
    let id = app
        .call("GET", "/api/v1/users")
        .token(&admin)
        .send()
        .await
        .json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "viewer1")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    app.call("POST", &format!("/api/v1/users/{id}/password"))
        .token(&admin)
        .json(&json!({"new_password": "reset-password-33"}))
        .send()
        .await
        .expect(204);
    app.login("viewer1", "reset-password-33").await;
});

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

db_test!(
    http_hardening_limits_bodies_and_sets_security_headers,
    |app| {
        let admin = app.admin().await;
        let huge = vec![b' '; 2 * 1024 * 1024];
        let res = app
            .call("POST", "/api/v1/units")
            .token(&admin)
            .raw("application/json", huge)
            .send()
            .await
            .expect(413);
        assert_eq!(res.content_type(), "application/problem+json");
        let ok = app.call("GET", "/health").send().await;
        assert_eq!(ok.headers.get("x-content-type-options").unwrap(), "nosniff");
        assert_eq!(ok.headers.get("x-frame-options").unwrap(), "DENY");
        let preflight = app
            .call("OPTIONS", "/api/v1/units")
            .header("origin", "https://evil.example")
            .header("access-control-request-method", "GET")
            .send()
            .await;
        assert!(
            preflight
                .headers
                .get("access-control-allow-origin")
                .is_none(),
            "CORS is off by default"
        );
    }
);

/// Every operation of the OpenAPI document, called by every role and by an
/// accountant of another unit, answers as its security declaration says.
async fn walk_permission_matrix(app: TestApp) {
    let admin = app.admin().await;
    let campaign = app.demo().await;
    let units = app
        .call("GET", "/api/v1/units?per_page=100")
        .token(&admin)
        .send()
        .await
        .json();
    let own = units["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["code"] == "1109306")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let viewer_id = app
        .call("GET", "/api/v1/users?per_page=100")
        .token(&admin)
        .send()
        .await
        .json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "chutich")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let asset_id = app
        .call(
            "GET",
            &format!("/api/v1/campaigns/{campaign}/units/{own}/assets"),
        )
        .token(&admin)
        .send()
        .await
        .json()["items"][0]["id"]
        .as_i64()
        .unwrap();
    let doc = serde_json::to_value(kiemke::api::openapi()).unwrap();
    let roles: [(&str, &str, &str); 5] = [
        ("admin", "admin", ADMIN_PASSWORD),
        ("finance_officer", "taichinh", DEMO_PASSWORD),
        ("unit_accountant", "ketoan.mn.tamthanh", DEMO_PASSWORD),
        ("viewer", "chutich", DEMO_PASSWORD),
        ("foreign_accountant", "ketoan.mn.hoahong", DEMO_PASSWORD),
    ];
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let security = op["security"]
                .as_array()
                .expect("every operation declares security");
            let public = security
                .iter()
                .any(|s| s.as_object().is_some_and(|o| o.is_empty()));
            let allowed: Vec<&str> = security
                .iter()
                .filter_map(|s| s["bearer"].as_array())
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            for (role, username, password) in roles {
                let concrete = path
                    .replace("{campaign_id}", &campaign.to_string())
                    .replace("{unit_id}", &own.to_string())
                    .replace("{user_id}", &viewer_id.to_string())
                    .replace("{asset_id}", &asset_id.to_string())
                    .replace("{asset_type}", "01")
                    .replace("{form_code}", "01a");
                let token = app.login(username, password).await;
                // A stale If-Match keeps allowed writes from destroying the fixtures the walk needs.
                let mut call = app
                    .call(&method.to_uppercase(), &concrete)
                    .token(&token)
                    .header("if-match", "\"999\"");
                if ["post", "put", "patch"].contains(&method.as_str()) {
                    call = call.json(&json!({}));
                }
                let status = call.send().await.status.as_u16();
                let unit_scoped = path.contains("{unit_id}") || path.contains("{asset_id}");
                let expected_role = if role == "foreign_accountant" {
                    "unit_accountant"
                } else {
                    role
                };
                let may = public || allowed.contains(&expected_role);
                if role == "foreign_accountant" && unit_scoped {
                    assert_eq!(
                        status, 404,
                        "{role} {method} {path}: another unit's data must not be revealed"
                    );
                } else if may {
                    assert!(
                        ![401, 403].contains(&status),
                        "{role} {method} {path}: allowed but got {status}"
                    );
                    assert!(
                        status < 500,
                        "{role} {method} {path}: server error {status}"
                    );
                } else {
                    assert_eq!(status, 403, "{role} {method} {path}: expected 403");
                }
                checked += 1;
            }
            let anonymous = app
                .call(
                    &method.to_uppercase(),
                    &path
                        .replace("{campaign_id}", "1")
                        .replace("{unit_id}", "1")
                        .replace("{user_id}", "1")
                        .replace("{form_code}", "01a"),
                )
                .send()
                .await
                .status
                .as_u16();
            if !public {
                assert_eq!(anonymous, 401, "anonymous {method} {path}");
            }
        }
    }
    assert!(checked >= 5 * 20, "the matrix walked {checked} calls");
}

db_test!(
    every_route_answers_each_role_as_its_security_declaration_says,
    |app| {
        walk_permission_matrix(app).await;
    }
);
