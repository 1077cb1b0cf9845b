//! Issue 19: lower bounds of the account limits. accounts.rs shows that a token expires and
//! that failures lock a name out; these show that neither happens too early — a one-minute
//! token, or a lock after one failure, would fail here (docs/SECURITY.md: tokens last 12
//! hours; 5 failures of a name within 15 minutes lock it for 15 minutes).

use chrono::{DateTime, Duration, Utc};
use kiemke::clock::Clock;
use serde_json::json;

use crate::{db_test, support::*};

/// Failed logins of one name that are tolerated: the next one locks it (docs/SECURITY.md).
const TOLERATED_FAILURES: usize = 4;
/// The shortest a lock-out lasts.
const LOCKED_AT_LEAST: Duration = Duration::minutes(14);
/// A token lasts at least a working day.
const WORKING_DAY: Duration = Duration::hours(8);

async fn fail_login(app: &TestApp, username: &str) {
    app.call("POST", "/api/v1/auth/login")
        .json(&json!({"username": username, "password": "wrong-password"}))
        .send()
        .await
        .expect(401);
}

db_test!(
    a_token_works_until_the_moment_it_expires_and_lasts_a_working_day,
    |app| {
        let admin = app.admin().await;
        let res = app
            .call("POST", "/api/v1/auth/login")
            .json(&json!({"username": "admin", "password": ADMIN_PASSWORD}))
            .send()
            .await
            .expect(200)
            .json();
        let token = res["token"].as_str().expect("token").to_string();
        let expires_at: DateTime<Utc> = res["expires_at"]
            .as_str()
            .expect("expires_at")
            .parse()
            .expect("an RFC 3339 instant");
        let lifetime = expires_at - app.clock.now();
        assert_eq!(
            lifetime,
            Duration::hours(app.state.settings.token_hours),
            "the token lasts the configured hours"
        );
        assert!(
            lifetime >= WORKING_DAY,
            "a token of {lifetime} does not last a working day"
        );
        // Used all day long, it keeps working until one second before it expires.
        for elapsed in [
            Duration::zero(),
            Duration::hours(1),
            WORKING_DAY,
            lifetime - Duration::seconds(1),
        ] {
            app.clock.set(default_now() + elapsed);
            app.call("GET", "/api/v1/me")
                .token(&token)
                .send()
                .await
                .expect(200);
        }
        app.clock.set(expires_at);
        app.call("GET", "/api/v1/me")
            .token(&token)
            .send()
            .await
            .expect(401);
        // The first token (of app.admin()) is from the same instant: it is gone too.
        app.call("GET", "/api/v1/me")
            .token(&admin)
            .send()
            .await
            .expect(401);
    }
);

db_test!(
    four_failed_logins_do_not_lock_a_name_and_the_fifth_locks_it_for_a_quarter_hour,
    |app| {
        let admin = app.admin().await;
        app.user(&admin, "nguoidung", "viewer", &[]).await;
        // Four failures of one name from one address: the right password still gets in.
        for _ in 0..TOLERATED_FAILURES {
            fail_login(&app, "admin").await;
        }
        app.login("admin", ADMIN_PASSWORD).await;

        // Another name, five failures: the fifth is still an ordinary 401, then the name is
        // locked, even for the right password.
        for _ in 0..=TOLERATED_FAILURES {
            fail_login(&app, "nguoidung").await;
        }
        let refused = app
            .call("POST", "/api/v1/auth/login")
            .json(&json!({"username": "nguoidung", "password": USER_PASSWORD}))
            .send()
            .await
            .expect(429);
        assert_eq!(refused.json()["type"], "/problems/too-many-requests");
        // Still locked just short of a quarter hour later...
        app.clock.advance(LOCKED_AT_LEAST);
        app.call("POST", "/api/v1/auth/login")
            .json(&json!({"username": "nguoidung", "password": USER_PASSWORD}))
            .send()
            .await
            .expect(429);
        // ...and free after it.
        app.clock.advance(Duration::minutes(2));
        app.login("nguoidung", USER_PASSWORD).await;
    }
);

#[tokio::test]
async fn the_service_refuses_to_start_with_argon2_memory_below_the_owasp_minimum() {
    let dir = std::env::temp_dir().join(format!("kiemke-argon2-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch directory");
    let url = format!("sqlite://{}?mode=rwc", dir.join("argon2.db").display());
    // A port already taken: a start that gets past the settings stops at `bind`, never serves.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let bind = taken.local_addr().expect("address").to_string();
    let serve = |memory: &str, test_flag: bool| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_kiemke"));
        cmd.args(["serve", "--bind", &bind])
            .env("DATABASE_URL", &url)
            .env("KIEMKE_ARGON2_MEMORY_KIB", memory)
            .env_remove("KIEMKE_INSECURE_ARGON2_FOR_TESTS")
            .env("KIEMKE_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("RUST_LOG", "warn");
        if test_flag {
            cmd.env("KIEMKE_INSECURE_ARGON2_FOR_TESTS", "1");
        }
        let out = cmd.output().expect("kiemke runs");
        assert!(
            !out.status.success(),
            "kiemke serve on a taken port exited 0"
        );
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    // One KiB below the minimum: refused before the port is even tried.
    let err = serve("19455", false);
    assert!(
        err.contains("KIEMKE_ARGON2_MEMORY_KIB=19455") && err.contains("19456"),
        "{err}"
    );
    assert!(!err.contains("cannot listen"), "{err}");
    // At the minimum, and below it with the test flag, the start goes on to `bind`.
    for (memory, flag) in [("19456", false), ("8", true)] {
        let err = serve(memory, flag);
        assert!(
            err.contains("cannot listen") && !err.contains("OWASP"),
            "{memory} KiB (test flag: {flag}): {err}"
        );
    }
    drop(taken);
    let _ = std::fs::remove_dir_all(&dir);
}
