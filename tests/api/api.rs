//! The API's plumbing, shared by every route: `/health`, problem documents and their language,
//! the OpenAPI document, HTTP hardening (body limits, security headers, the CSP of `/docs`) and,
//! on the real binary, the header-read timeout and the cap on connections.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::{
    db_test,
    http::{SERVER_ADMIN_PASSWORD, Server, send},
    support::*,
};

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
    postgresql_connections_of_the_service_run_without_jit_compilation,
    |app| {
        use sea_orm::ConnectionTrait;
        if app.backend != Backend::Postgres {
            return;
        }
        // Every connection of the pool, not only the first: take several at once.
        let shows = futures_util::future::join_all((0..4).map(|_| {
            app.state.db.query_one_raw(sea_orm::Statement::from_string(
                sea_orm::DatabaseBackend::Postgres,
                "SELECT current_setting('jit') AS jit, pg_sleep(0.05)::text AS pause".to_string(),
            ))
        }))
        .await;
        for row in shows {
            let row = row.expect("SHOW jit").expect("a row");
            let jit: String = row.try_get("", "jit").expect("jit");
            assert_eq!(jit, "off");
        }
    }
);

db_test!(
    postgresql_connections_of_the_service_send_without_waiting_for_acknowledgements,
    |app| {
        use sea_orm::ConnectionTrait;
        if app.backend != Backend::Postgres {
            return;
        }
        // Every connection of the pool, not only the first: take several at once. The server
        // names each one's local port.
        let ports = futures_util::future::join_all((0..4).map(|_| {
            app.state.db.query_one_raw(sea_orm::Statement::from_string(
                sea_orm::DatabaseBackend::Postgres,
                "SELECT inet_client_port() AS port, pg_sleep(0.05)::text AS pause".to_string(),
            ))
        }))
        .await;
        for row in ports {
            let row = row.expect("inet_client_port").expect("a row");
            let port: i32 = row.try_get("", "port").expect("a TCP connection");
            let port = u16::try_from(port).expect("a port");
            assert_eq!(
                kiemke::db::tcp_nodelay_from(port),
                Some(true),
                "connection from port {port}: Nagle's algorithm left on"
            );
        }
    }
);

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

/// Every `$ref` names a schema the document holds: a dangling one makes clients and
/// schemathesis skip the parameter it types (found for the board's `sort`, whose enum
/// appeared in no body, so nothing registered it).
#[test]
fn every_reference_in_the_openapi_document_resolves() {
    fn refs<'a>(v: &'a serde_json::Value, out: &mut Vec<&'a str>) {
        match v {
            serde_json::Value::Object(map) => {
                for (key, value) in map {
                    match (key.as_str(), value) {
                        ("$ref", serde_json::Value::String(r)) => out.push(r),
                        _ => refs(value, out),
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter().for_each(|i| refs(i, out)),
            _ => {}
        }
    }
    let doc = serde_json::to_value(kiemke::api::openapi()).expect("openapi serialises");
    let mut found = Vec::new();
    refs(&doc, &mut found);
    assert!(
        found.len() > 50,
        "the document uses references ({})",
        found.len()
    );
    let dangling: Vec<&str> = found
        .into_iter()
        .filter(|r| {
            let path = r.trim_start_matches('#');
            doc.pointer(path).is_none()
        })
        .collect();
    assert!(dangling.is_empty(), "references to nothing: {dangling:?}");
}

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

db_test!(the_docs_page_carries_a_content_security_policy, |app| {
    let res = app.call("GET", "/docs/").send().await.expect(200);
    let csp = res
        .headers
        .get("content-security-policy")
        .and_then(|v| v.to_str().ok())
        .expect("CSP on /docs");
    assert!(
        csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    assert!(!csp.contains("script-src 'self' 'unsafe"), "{csp}");
});

/// The real binary closes a connection that does not finish its headers in time, and keeps
/// answering others meanwhile.
#[tokio::test]
async fn a_connection_that_sends_its_headers_too_slowly_is_closed() {
    let Some((url, resource)) = create_database(Backend::Sqlite).await else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("kiemke-slowloris-{}", std::process::id()));
    let server = Server::start(&url, &["--header-timeout-secs", "2"], &dir).await;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut slow = tokio::net::TcpStream::connect(server.addr)
        .await
        .expect("connect");
    slow.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n")
        .await
        .expect("write");
    let started = Instant::now();
    let health = send(server.addr, "GET", "/health", None, None)
        .await
        .expect("health");
    assert_eq!(health.status, 200);
    let mut buf = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(30), slow.read_to_end(&mut buf)).await;
    assert!(read.is_ok(), "the slow connection was not closed");
    assert!(
        started.elapsed() >= Duration::from_millis(1500),
        "{:?}",
        started.elapsed()
    );
    server.login("admin", SERVER_ADMIN_PASSWORD).await;
    let mut server = server;
    server.kill();
    drop_database(resource).await;
}

/// The real binary holds at most `--max-connections` connections: the next one is not served
/// until one of them closes.
#[tokio::test]
async fn connections_beyond_the_cap_wait_until_one_closes() {
    let Some((url, resource)) = create_database(Backend::Sqlite).await else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("kiemke-conncap-{}", std::process::id()));
    let mut server = Server::start(
        &url,
        &["--max-connections", "2", "--header-timeout-secs", "60"],
        &dir,
    )
    .await;
    // Two idle connections take both places (the health checks of `start` have closed).
    tokio::time::sleep(Duration::from_millis(200)).await;
    let idle1 = tokio::net::TcpStream::connect(server.addr)
        .await
        .expect("connect");
    let _idle2 = tokio::net::TcpStream::connect(server.addr)
        .await
        .expect("connect");
    tokio::time::sleep(Duration::from_millis(200)).await;
    let addr = server.addr;
    let third = tokio::spawn(async move { send(addr, "GET", "/health", None, None).await });
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(
        !third.is_finished(),
        "a third connection was served beyond the cap of 2"
    );
    drop(idle1);
    let res = tokio::time::timeout(Duration::from_secs(10), third)
        .await
        .expect("served once a place is free")
        .expect("task")
        .expect("health");
    assert_eq!(res.status, 200);
    server.kill();
    drop_database(resource).await;
}
