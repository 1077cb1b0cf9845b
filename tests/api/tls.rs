//! Issue 15: TLS to PostgreSQL (rustls): `sslmode=require` encrypts, `verify-full` with a CA
//! file checks the server's certificate and name, and refuses a server it cannot verify.
//!
//! Runs against the PostgreSQL of `TEST_DATABASE_URL`, which must have `ssl = on` with a
//! certificate for `localhost` (Debian's cluster: the snakeoil certificate). The CA file is
//! the server's own certificate (self-signed), read from `SHOW ssl_cert_file`.

use std::sync::Arc;

use kiemke::{app, build_state, clock::FixedClock, db, forms::Registry};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};

use crate::support::*;

async fn encrypted(conn: &DatabaseConnection) -> bool {
    let row = conn
        .query_one_raw(Statement::from_string(
            conn.get_database_backend(),
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
        ))
        .await
        .expect("pg_stat_ssl")
        .expect("a row");
    row.try_get::<bool>("", "ssl").expect("ssl column")
}

/// The server's certificate file, or `None` (with the reason) when the server has no TLS.
async fn server_certificate() -> Option<String> {
    let server = std::env::var("TEST_DATABASE_URL").ok()?;
    let admin = Database::connect(&server).await.expect("TEST_DATABASE_URL");
    let show = |what: &'static str| {
        let admin = admin.clone();
        async move {
            admin
                .query_one_raw(Statement::from_string(
                    admin.get_database_backend(),
                    format!("SHOW {what}"),
                ))
                .await
                .expect("SHOW")
                .and_then(|r| r.try_get_by_index::<String>(0).ok())
                .unwrap_or_default()
        }
    };
    let (ssl, cert) = (show("ssl").await, show("ssl_cert_file").await);
    admin.close().await.ok();
    let readable = std::fs::metadata(&cert).is_ok();
    if ssl == "on" && readable {
        return Some(cert);
    }
    let why = format!(
        "PostgreSQL at TEST_DATABASE_URL has ssl={ssl}, ssl_cert_file={cert:?} (readable: {readable}); \
         turn on ssl with a self-signed certificate for localhost, e.g. (Debian, as root): \
         openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj /CN=localhost \
         -addext subjectAltName=DNS:localhost -addext basicConstraints=critical,CA:FALSE \
         -addext extendedKeyUsage=serverAuth -keyout /etc/ssl/private/ssl-cert-snakeoil.key \
         -out /etc/ssl/certs/ssl-cert-snakeoil.pem && chown root:ssl-cert /etc/ssl/private/ssl-cert-snakeoil.key \
         && chmod 640 /etc/ssl/private/ssl-cert-snakeoil.key && psql -U postgres -c 'ALTER SYSTEM SET ssl = on' \
         && psql -U postgres -c 'SELECT pg_reload_conf()'"
    );
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{why}");
    }
    eprintln!("TLS test skipped: {why}");
    None
}

#[tokio::test]
async fn postgresql_connections_use_tls_when_the_url_asks_and_verify_the_server_with_a_ca_file() {
    let Some(cert) = server_certificate().await else {
        return;
    };
    let Some((url, resource)) = create_database(Backend::Postgres).await else {
        return;
    };
    let outcome = tokio::spawn(async move {
        // sslmode=require: encrypted, certificate not checked.
        let require = format!("{url}?sslmode=require");
        let conn = db::connect(&require)
            .await
            .expect("sslmode=require connects");
        assert!(
            encrypted(&conn).await,
            "sslmode=require gave a plain connection"
        );
        db::migrate(&conn).await.expect("migrate over TLS");
        // The whole service over it: a login through the router.
        let state = build_state(
            conn.clone(),
            Arc::new(Registry::embedded().expect("forms")),
            Arc::new(FixedClock::new(default_now())),
            test_settings(),
        )
        .expect("state");
        let app = TestApp {
            router: app::app(state.clone()),
            clock: FixedClock::new(default_now()),
            state,
            backend: Backend::Postgres,
        };
        app.admin().await;
        conn.close().await.ok();

        // verify-full with the server's certificate as the CA, under the name it carries.
        let local = url.replacen("@127.0.0.1:", "@localhost:", 1);
        let verify = format!("{local}?sslmode=verify-full&sslrootcert={cert}");
        let conn = db::connect(&verify)
            .await
            .unwrap_or_else(|e| panic!("verify-full with {cert}: {e}"));
        assert!(encrypted(&conn).await);
        conn.close().await.ok();

        // verify-full refuses a name the certificate does not carry …
        let wrong_name = format!(
            "{}?sslmode=verify-full&sslrootcert={cert}",
            local.replacen("@localhost:", "@127.0.0.1:", 1)
        );
        let err = db::connect(&wrong_name).await.expect_err("wrong name");
        assert!(err.to_string().contains("not valid for name"), "{err}");
        // … and a certificate that no CA it knows has signed.
        let err = db::connect(&format!("{local}?sslmode=verify-full"))
            .await
            .expect_err("unknown issuer");
        assert!(err.to_string().contains("UnknownIssuer"), "{err}");
    })
    .await;
    drop_database(resource).await;
    if let Err(e) = outcome
        && e.is_panic()
    {
        std::panic::resume_unwind(e.into_panic());
    }
}
