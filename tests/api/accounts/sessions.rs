//! Issue 6: logging in, tokens and their end (logout, expiry, a changed password), the lockout.
//! Unit isolation and the permission matrix are in `permissions.rs`.

use serde_json::json;

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
