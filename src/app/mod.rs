//! The whole application: the API's and the web pages' routers merged, the fallbacks, every
//! cross-cutting layer, and serving ([`server`]). The one module that depends on both [`api`]
//! and [`web`]; neither of them imports the other.

pub mod server;

use std::{sync::Arc, time::Duration};

use axum::{
    Router,
    extract::{DefaultBodyLimit, Request},
    http::{HeaderName, HeaderValue, Method, StatusCode, header},
    middleware::{self, Next},
    response::{IntoResponse, Response},
};
use tower_http::{cors::CorsLayer, set_header::SetResponseHeaderLayer};

use crate::{
    api,
    error::{AppError, Lang},
    state::AppState,
    web,
};

async fn language(req: Request, next: Next) -> Response {
    let lang = Lang::from_header(
        req.headers()
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
    );
    lang.scope(next.run(req)).await
}

async fn method_not_allowed(req: Request) -> Response {
    if web::wants_html(req.headers(), req.uri().path()) {
        return web::page_for(req.headers(), StatusCode::METHOD_NOT_ALLOWED);
    }
    AppError::new(
        crate::error::Problem::MethodNotAllowed,
        "Địa chỉ này không hỗ trợ phương thức HTTP đã dùng.",
        "This route does not support the HTTP method used.",
    )
    .into_response()
}

fn timeout_layer(
    secs: u64,
) -> impl Clone + Fn(Request, Next) -> std::pin::Pin<Box<dyn Future<Output = Response> + Send>> {
    move |req: Request, next: Next| {
        Box::pin(async move {
            match tokio::time::timeout(Duration::from_secs(secs), next.run(req)).await {
                Ok(res) => res,
                Err(_) => AppError::new(
                    crate::error::Problem::Timeout,
                    "Yêu cầu xử lý quá lâu và đã bị dừng; vui lòng thử lại.",
                    "The request took too long and was stopped; please retry.",
                )
                .into_response(),
            }
        })
    }
}

fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    AppError::Internal("handler panicked".into()).into_response()
}

/// The whole application: API, documentation and every cross-cutting layer.
pub fn app(state: AppState) -> Router {
    let settings = Arc::clone(&state.settings);
    let mut app = Router::new()
        .merge(api::router(state.clone()))
        .merge(web::router(state))
        .fallback(web::fallback)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(settings.json_limit))
        .layer(middleware::from_fn(timeout_layer(
            settings.request_timeout_secs,
        )))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(
            panic_response,
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        // The web pages set `same-origin`: with `no-referrer` browsers send `Origin: null`
        // on form posts, and the pages' CSRF check needs the real origin.
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static("cache-control"),
            HeaderValue::from_static("no-store"),
        ));
    let origins: Vec<HeaderValue> = settings
        .cors_origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o.trim()).ok())
        .collect();
    if !origins.is_empty() {
        app = app.layer(
            CorsLayer::new()
                .allow_origin(origins)
                .allow_methods([
                    Method::GET,
                    Method::POST,
                    Method::PUT,
                    Method::PATCH,
                    Method::DELETE,
                ])
                .allow_headers([
                    header::AUTHORIZATION,
                    header::CONTENT_TYPE,
                    header::ACCEPT_LANGUAGE,
                    header::IF_MATCH,
                ]),
        );
    }
    app.layer(middleware::from_fn(language))
        .layer(web::compression())
}
