//! Serving connections: HTTP/1.1 with a header-read timeout and a connection cap, and a
//! graceful stop on Ctrl-C or SIGTERM.

use std::sync::Arc;

/// Serves HTTP/1.1 on `listener` until Ctrl-C or SIGTERM, then lets the requests in flight finish.
///
/// Unlike `axum::serve`, a connection must send its request headers within `header_timeout`
/// (hyper's `header_read_timeout`, which needs a timer), so slow-header connections are closed
/// early; and at most `max_connections` are open at once: the next ones are not accepted and
/// wait in the kernel's listen queue.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: axum::Router,
    header_timeout: std::time::Duration,
    max_connections: usize,
) -> Result<(), String> {
    use hyper_util::{
        rt::{TokioIo, TokioTimer},
        service::TowerToHyperService,
    };
    use tower::ServiceExt;
    let slots = Arc::new(tokio::sync::Semaphore::new(max_connections));
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut stop = std::pin::pin!(shutdown());
    loop {
        let permit = tokio::select! {
            p = Arc::clone(&slots).acquire_owned() => p.map_err(|e| e.to_string())?,
            _ = &mut stop => break,
        };
        let (stream, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(c) => c,
                Err(e) => {
                    // Out of file descriptors and the like: wait a little, do not spin.
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = &mut stop => break,
        };
        let service = app.clone().map_request(
            move |mut req: axum::extract::Request<hyper::body::Incoming>| {
                req.extensions_mut()
                    .insert(axum::extract::ConnectInfo(peer));
                req.map(axum::body::Body::new)
            },
        );
        let mut stop_rx = stop_rx.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(header_timeout);
            let conn = builder
                .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service))
                .with_upgrades();
            let mut conn = std::pin::pin!(conn);
            tokio::select! {
                _ = conn.as_mut() => return,
                _ = stop_rx.wait_for(|s| *s) => conn.as_mut().graceful_shutdown(),
            }
            let _ = conn.await;
        });
    }
    drop(listener);
    let _ = stop_tx.send(true);
    // Every connection holds a slot until it is closed: taking them all waits for the last one.
    let _ = slots
        .acquire_many(u32::try_from(max_connections).unwrap_or(u32::MAX))
        .await;
    Ok(())
}

/// Installs the Ctrl-C and SIGTERM handlers at once and returns a future that resolves on
/// either; in-flight requests then finish before exit. The handlers are in place before the
/// first connection is accepted, so a signal sent as soon as `/health` answers is a graceful
/// shutdown, never the default action that kills the process (a lazily polled handler left
/// that window open under load).
fn shutdown() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let (term, interrupt) = {
        use tokio::signal::unix::{SignalKind, signal};
        (
            signal(SignalKind::terminate()).ok(),
            signal(SignalKind::interrupt()).ok(),
        )
    };
    async move {
        #[cfg(unix)]
        {
            async fn received(s: Option<tokio::signal::unix::Signal>) {
                match s {
                    Some(mut s) => {
                        s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            }
            tokio::select! {
                _ = received(term) => {},
                _ = received(interrupt) => {},
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
        tracing::info!("shutting down: finishing in-flight requests");
    }
}
