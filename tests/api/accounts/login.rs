//! Issue 15: login throttling that parallel requests cannot beat and an attacker elsewhere
//! cannot use to lock a user out; the change-password route on the same throttle; aggregated
//! failed-login audit rows; the operator's unlock and password reset; trusted proxies; password
//! rules.

use std::{net::SocketAddr, sync::Arc};

use axum::{
    body::Body,
    extract::ConnectInfo,
    http::{Request, header},
};
use http_body_util::BodyExt;
use kiemke::{
    app,
    auth::{
        client::TrustedProxies,
        throttle::{ADDRESS_LIMIT, LoginLimiter, PAIR_LIMIT},
    },
    build_state,
    entities::audit_event,
    state::AppState,
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};
use tokio::task::JoinSet;
use tower::ServiceExt;

use crate::{db_test, support::*};

/// A router over `app`'s database with a limiter of `slots` password-check slots and the
/// given trusted proxies.
fn router_with(app: &TestApp, slots: usize, trusted: &[&str]) -> axum::Router {
    let mut settings = (*app.state.settings).clone();
    settings.trusted_proxies = TrustedProxies::parse(&trusted.join(",")).expect("trusted proxies");
    let state = AppState {
        limiter: Arc::new(LoginLimiter::new(slots)),
        settings: Arc::new(settings),
        ..app.state.clone()
    };
    app::app(state)
}

/// Sends a login from the TCP peer `peer`, with an optional `X-Forwarded-For`; returns
/// (status, Retry-After, body).
async fn login_from(
    router: &axum::Router,
    peer: &str,
    forwarded: Option<&str>,
    username: &str,
    password: &str,
) -> (u16, Option<u64>, Value) {
    let peer: SocketAddr = format!("{peer}:40000").parse().expect("peer");
    let mut req = Request::builder()
        .method("POST")
        .uri("/api/v1/auth/login")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::ACCEPT_LANGUAGE, "en");
    if let Some(f) = forwarded {
        req = req.header("x-forwarded-for", f);
    }
    let mut req = req
        .body(Body::from(
            serde_json::to_vec(&json!({"username": username, "password": password})).expect("json"),
        ))
        .expect("request");
    req.extensions_mut().insert(ConnectInfo(peer));
    let res = router
        .clone()
        .oneshot(req)
        .await
        .expect("router never fails");
    let status = res.status().as_u16();
    let retry = res
        .headers()
        .get(header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    let body = res.into_body().collect().await.expect("body").to_bytes();
    (
        status,
        retry,
        serde_json::from_slice(&body).unwrap_or(Value::Null),
    )
}

/// Fires `n` logins at once and counts the answers by status.
async fn burst(
    router: &axum::Router,
    n: usize,
    attempt: impl Fn(usize) -> (String, String),
) -> std::collections::BTreeMap<u16, usize> {
    let mut set = JoinSet::new();
    for i in 0..n {
        let router = router.clone();
        let (name, password) = attempt(i);
        set.spawn(async move { login_from(&router, "203.0.113.5", None, &name, &password).await });
    }
    let mut counts = std::collections::BTreeMap::new();
    while let Some(r) = set.join_next().await {
        let (status, retry, _) = r.expect("task");
        if status == 429 || status == 503 {
            assert!(
                retry.is_some_and(|s| s >= 1),
                "{status} without Retry-After"
            );
        }
        *counts.entry(status).or_default() += 1;
    }
    counts
}

db_test!(
    fifty_parallel_wrong_passwords_for_one_name_are_checked_only_up_to_the_limit,
    |app| {
        app.admin().await;
        // Enough slots for every request at once: only the counting stops them.
        let router = router_with(&app, 64, &[]);
        let counts = burst(&router, 50, |_| ("admin".into(), "wrong-password-1".into())).await;
        assert_eq!(
            counts.get(&401).copied(),
            Some(PAIR_LIMIT as usize),
            "{counts:?}"
        );
        assert_eq!(
            counts.get(&429).copied(),
            Some(50 - PAIR_LIMIT as usize),
            "{counts:?}"
        );
        // With the default slots (the cores less one), the surplus is refused at once with 503.
        let router = router_with(&app, 1, &[]);
        let counts = burst(&router, 50, |_| {
            ("viewer".into(), "wrong-password-1".into())
        })
        .await;
        assert!(
            counts.get(&401).copied().unwrap_or(0) <= PAIR_LIMIT as usize,
            "{counts:?}"
        );
        assert_eq!(counts.values().sum::<usize>(), 50);
        assert!(
            counts.keys().all(|s| [401, 429, 503].contains(s)),
            "{counts:?}"
        );
    }
);

db_test!(
    sixty_parallel_unknown_names_from_one_address_are_checked_only_up_to_the_address_limit,
    |app| {
        app.admin().await;
        let router = router_with(&app, 64, &[]);
        let counts = burst(&router, 60, |i| {
            (format!("ghost{i}"), "wrong-password-1".into())
        })
        .await;
        assert_eq!(
            counts.get(&401).copied(),
            Some(ADDRESS_LIMIT as usize),
            "{counts:?}"
        );
        assert_eq!(
            counts.get(&429).copied(),
            Some(60 - ADDRESS_LIMIT as usize),
            "{counts:?}"
        );
    }
);

db_test!(
    a_name_locked_from_one_address_still_logs_in_from_an_address_without_failures,
    |app| {
        app.admin().await;
        let router = router_with(&app, 4, &[]);
        for _ in 0..PAIR_LIMIT {
            let (s, _, _) =
                login_from(&router, "198.51.100.66", None, "admin", "wrong-password-1").await;
            assert_eq!(s, 401);
        }
        let (s, retry, body) =
            login_from(&router, "198.51.100.66", None, "admin", ADMIN_PASSWORD).await;
        assert_eq!(
            s, 429,
            "the attacker's address is locked, even with the right password"
        );
        assert_eq!(body["type"], "/problems/too-many-requests");
        assert!(retry.is_some_and(|r| r > 60 && r <= 15 * 60), "{retry:?}");
        let (s, _, body) = login_from(&router, "192.0.2.10", None, "admin", ADMIN_PASSWORD).await;
        assert_eq!(s, 200, "the admin elsewhere gets in: {body}");
        // The lock of the attacker's address ends with its window.
        app.clock.advance(chrono::Duration::minutes(16));
        let (s, _, _) = login_from(&router, "198.51.100.66", None, "admin", ADMIN_PASSWORD).await;
        assert_eq!(s, 200);
    }
);

db_test!(
    a_name_that_keeps_failing_waits_a_growing_delay_with_retry_after,
    |app| {
        app.admin().await;
        let router = router_with(&app, 4, &[]);
        // Five failures from five addresses: no pair is locked, the name has its 5 failures.
        for i in 0..5 {
            let (s, _, _) = login_from(
                &router,
                &format!("198.51.100.{i}"),
                None,
                "admin",
                "wrong-password-1",
            )
            .await;
            assert_eq!(s, 401);
        }
        // An address that already failed waits the name's delay (1 s, then 2 s, …).
        let (s, retry, _) =
            login_from(&router, "198.51.100.0", None, "admin", "wrong-password-1").await;
        assert_eq!((s, retry), (429, Some(1)));
        app.clock.advance(chrono::Duration::seconds(1));
        let (s, _, _) =
            login_from(&router, "198.51.100.0", None, "admin", "wrong-password-1").await;
        assert_eq!(s, 401);
        let (s, retry, _) =
            login_from(&router, "198.51.100.1", None, "admin", "wrong-password-1").await;
        assert_eq!((s, retry), (429, Some(2)));
        // The admin from an address without failures is not held back.
        let (s, _, _) = login_from(&router, "192.0.2.10", None, "admin", ADMIN_PASSWORD).await;
        assert_eq!(s, 200);
    }
);

db_test!(
    failed_logins_write_one_audit_row_per_name_and_address_with_a_count,
    |app| {
        app.admin().await;
        let router = router_with(&app, 4, &[]);
        for _ in 0..3 {
            login_from(&router, "198.51.100.7", None, "admin", "wrong-password-1").await;
        }
        for _ in 0..2 {
            login_from(&router, "198.51.100.8", None, "ghost", "wrong-password-1").await;
        }
        // Refused attempts (429) write nothing.
        for _ in 0..10 {
            login_from(&router, "198.51.100.7", None, "admin", "wrong-password-1").await;
        }
        let rows = audit_event::Entity::find()
            .filter(audit_event::Column::Action.eq("login_failed"))
            .order_by_asc(audit_event::Column::Id)
            .all(&app.state.db)
            .await
            .expect("audit");
        let seen: Vec<(Option<String>, Option<String>, Value)> = rows
            .into_iter()
            .map(|r| {
                (
                    r.actor_name,
                    r.detail,
                    r.after.expect("after")["failures"].clone(),
                )
            })
            .collect();
        assert_eq!(
            seen,
            vec![
                (
                    Some("admin".into()),
                    Some("address 198.51.100.7".into()),
                    json!(5)
                ),
                (
                    Some("ghost".into()),
                    Some("address 198.51.100.8".into()),
                    json!(2)
                ),
            ]
        );
    }
);

db_test!(
    the_operators_unlock_reaches_a_running_service_through_the_database,
    |app| {
        app.admin().await;
        let router = router_with(&app, 4, &[]);
        for _ in 0..PAIR_LIMIT {
            login_from(&router, "198.51.100.9", None, "admin", "wrong-password-1").await;
        }
        let (s, _, _) = login_from(&router, "198.51.100.9", None, "admin", ADMIN_PASSWORD).await;
        assert_eq!(s, 429);
        // `kiemke unlock admin` is another process with its own (empty) limiter: the same
        // database, a state of its own.
        let cli = build_state(
            app.state.db.clone(),
            Arc::clone(&app.state.forms),
            Arc::new(app.clock.clone()),
            test_settings(),
        )
        .expect("state");
        kiemke::users::unlock(&cli, &kiemke::auth::Actor::system(), "Admin")
            .await
            .expect("unlock");
        // The service looks for an unlock at most every 5 seconds per name.
        app.clock.advance(chrono::Duration::seconds(6));
        let (s, _, body) = login_from(&router, "198.51.100.9", None, "admin", ADMIN_PASSWORD).await;
        assert_eq!(s, 200, "{body}");
    }
);

db_test!(
    the_operators_password_reset_sets_a_password_ends_sessions_and_refuses_weak_ones,
    |app| {
        let old = app.admin().await;
        let err = kiemke::users::operator_reset(&app.state, "admin", Some("1234567890".into()))
            .await
            .expect_err("a common password");
        assert!(format!("{err:?}").contains("phổ biến"), "{err:?}");
        let generated = kiemke::users::operator_reset(&app.state, "admin", None)
            .await
            .expect("reset")
            .expect("a generated password");
        app.call("GET", "/api/v1/me")
            .token(&old)
            .send()
            .await
            .expect(401);
        app.login("admin", &generated).await;
        app.call("POST", "/api/v1/auth/login")
            .json(&json!({"username": "admin", "password": ADMIN_PASSWORD}))
            .send()
            .await
            .expect(401);
    }
);

db_test!(
    wrong_current_passwords_on_the_change_password_route_are_throttled_like_logins,
    |app| {
        let admin = app.admin().await;
        for _ in 0..PAIR_LIMIT {
            let res = app
                .call("POST", "/api/v1/me/password")
                .token(&admin)
                .json(&json!({"current_password": "wrong-password-1", "new_password": "a long new passphrase"}))
                .send()
                .await
                .expect(422);
            assert_eq!(res.error_fields(), vec!["current_password"]);
        }
        let res = app
            .call("POST", "/api/v1/me/password")
            .token(&admin)
            .json(&json!({"current_password": ADMIN_PASSWORD, "new_password": "a long new passphrase"}))
            .send()
            .await
            .expect(429);
        assert!(res.headers.get("retry-after").is_some());
        // The same counts hold for logging in from that address.
        app.call("POST", "/api/v1/auth/login")
            .json(&json!({"username": "admin", "password": ADMIN_PASSWORD}))
            .send()
            .await
            .expect(429);
    }
);

db_test!(forwarded_for_is_believed_only_from_a_trusted_proxy, |app| {
    app.admin().await;
    let router = router_with(&app, 4, &["127.0.0.1", "10.0.0.0/8"]);
    // Through the proxy: each forwarded client counts on its own.
    for _ in 0..PAIR_LIMIT {
        login_from(
            &router,
            "127.0.0.1",
            Some("198.51.100.20"),
            "admin",
            "wrong-password-1",
        )
        .await;
    }
    let (s, _, _) = login_from(
        &router,
        "127.0.0.1",
        Some("198.51.100.20"),
        "admin",
        ADMIN_PASSWORD,
    )
    .await;
    assert_eq!(s, 429);
    let (s, _, _) = login_from(
        &router,
        "127.0.0.1",
        Some("1.2.3.4, 198.51.100.21, 10.0.0.3"),
        "admin",
        ADMIN_PASSWORD,
    )
    .await;
    assert_eq!(s, 200, "the right-most untrusted hop is the client");
    // From anyone else the header is ignored: changing it does not escape the count.
    for i in 0..PAIR_LIMIT {
        let (s, _, _) = login_from(
            &router,
            "203.0.113.50",
            Some(&format!("192.0.2.{i}")),
            "ghost",
            "wrong-password-1",
        )
        .await;
        assert_eq!(s, 401);
    }
    let (s, _, _) = login_from(
        &router,
        "203.0.113.50",
        Some("192.0.2.99"),
        "ghost",
        "wrong-password-1",
    )
    .await;
    assert_eq!(s, 429);
    // The audit trail names the forwarded client, not the proxy.
    let details: Vec<String> = audit_event::Entity::find()
        .filter(audit_event::Column::Action.eq("login_failed"))
        .all(&app.state.db)
        .await
        .expect("audit")
        .into_iter()
        .filter_map(|r| r.detail)
        .collect();
    assert_eq!(
        details,
        vec!["address 198.51.100.20", "address 203.0.113.50"]
    );
});

db_test!(
    weak_passwords_are_refused_with_the_reason_in_vietnamese_and_english,
    |app| {
        let admin = app.admin().await;
        let cases = [
            (
                "ketoan.truong",
                "Mật khẩu không được là tên đăng nhập",
                "The password must not be the user name",
            ),
            (
                "1234567890",
                "Mật khẩu này nằm trong danh sách mật khẩu phổ biến nhất",
                "most common passwords",
            ),
            ("          ", "khoảng trắng", "only spaces"),
            (
                "xxxxxxxxxxxx",
                "lặp lại một ký tự",
                "one character repeated",
            ),
        ];
        for (password, vi, en) in cases {
            let body = json!({"username": "ketoan.truong", "full_name": "Kế toán", "role": "viewer", "password": password});
            let res = app
                .call("POST", "/api/v1/users")
                .token(&admin)
                .json(&body)
                .send()
                .await
                .expect(422);
            assert_eq!(res.json()["errors"][0]["field"], "password");
            assert_eq!(res.json()["errors"][0]["code"], "weak");
            assert!(
                res.json()["errors"][0]["message"]
                    .as_str()
                    .expect("message")
                    .contains(vi),
                "{password:?}"
            );
            let res = app
                .call("POST", "/api/v1/users")
                .token(&admin)
                .header("accept-language", "en")
                .json(&body)
                .send()
                .await
                .expect(422);
            assert!(
                res.json()["errors"][0]["message"]
                    .as_str()
                    .expect("message")
                    .contains(en),
                "{password:?}"
            );
        }
        app.call("GET", "/api/v1/users")
            .token(&admin)
            .send()
            .await
            .expect(200);
        let res = app
            .call("POST", "/api/v1/me/password")
            .token(&admin)
            .json(&json!({"current_password": ADMIN_PASSWORD, "new_password": "qwertyuiop"}))
            .send()
            .await
            .expect(422);
        assert_eq!(res.error_fields(), vec!["new_password"]);
    }
);
