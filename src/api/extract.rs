//! Request extractors whose every rejection leaves as a problem document.

use axum::{
    extract::{FromRequest, FromRequestParts, Request, rejection::PathRejection},
    http::{header, request::Parts},
};
use serde::de::DeserializeOwned;
use validator::Validate;

use crate::error::{AppError, FieldError, flatten};

/// A JSON body that is parsed, then checked with its `validator` rules; every
/// failing field is reported at once.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Validate> FromRequest<S> for ApiJson<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        let value = json_value(req, state).await?;
        let parsed: T = serde_path_to_error::deserialize(value).map_err(|e| {
            let path = e.path().to_string();
            let field = if path == "." { String::new() } else { path };
            let inner = e.into_inner().to_string();
            AppError::validation(vec![FieldError::new(
                field,
                "type",
                &format!("Giá trị không đúng kiểu: {inner}"),
                &format!("Wrong value type: {inner}"),
            )])
        })?;
        parsed
            .validate()
            .map_err(|e| AppError::validation(flatten(&e)))?;
        Ok(ApiJson(parsed))
    }
}

/// Like [`ApiJson`], but an empty body means `T::default()` (e.g. `POST …/submit` with no options).
pub struct OptionalJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Validate + Default> FromRequest<S> for OptionalJson<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        let empty = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim() == "0")
            || (req.headers().get(header::CONTENT_TYPE).is_none()
                && req.headers().get(header::CONTENT_LENGTH).is_none()
                && req.headers().get(header::TRANSFER_ENCODING).is_none());
        if empty {
            return Ok(OptionalJson(T::default()));
        }
        ApiJson::<T>::from_request(req, state)
            .await
            .map(|j| OptionalJson(j.0))
    }
}

/// A JSON body as an untyped value (for bodies checked against a form definition).
pub struct RawJson(pub serde_json::Value);

impl<S: Send + Sync> FromRequest<S> for RawJson {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        Ok(RawJson(json_value(req, state).await?))
    }
}

async fn json_value<S: Send + Sync>(
    req: Request,
    state: &S,
) -> Result<serde_json::Value, AppError> {
    let is_json = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|m| {
            let m = m.trim().to_ascii_lowercase();
            m == "application/json" || (m.starts_with("application/") && m.ends_with("+json"))
        })
        .unwrap_or(false);
    if !is_json {
        return Err(AppError::new(
            crate::error::Problem::UnsupportedMediaType,
            "Nội dung phải là JSON với tiêu đề «Content-Type: application/json».",
            "The body must be JSON sent with \"Content-Type: application/json\".",
        ));
    }
    let bytes = axum::body::Bytes::from_request(req, state)
        .await
        .map_err(|e| {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                too_large()
            } else {
                AppError::bad_request(
                    "Không đọc được nội dung yêu cầu.",
                    "Could not read the request body.",
                )
            }
        })?;
    serde_json::from_slice(&bytes).map_err(|e| {
        AppError::new(
            crate::error::Problem::MalformedJson,
            format!("JSON không hợp lệ (dòng {}, cột {}).", e.line(), e.column()),
            format!("Malformed JSON (line {}, column {}).", e.line(), e.column()),
        )
    })
}

/// 413 for a body over the configured limit.
pub fn too_large() -> AppError {
    AppError::new(
        crate::error::Problem::PayloadTooLarge,
        "Dữ liệu gửi lên vượt quá giới hạn cho phép.",
        "The request body is larger than allowed.",
    )
}

/// Path parameters; a malformed one is a 400 naming it.
pub struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(p) => Ok(ApiPath(p.0)),
            Err(PathRejection::FailedToDeserializePathParams(e)) => {
                let text = e.body_text();
                Err(AppError::bad_request(
                    format!("Tham số đường dẫn không hợp lệ: {text}"),
                    format!("Invalid path parameter: {text}"),
                ))
            }
            Err(_) => Err(AppError::bad_request(
                "Thiếu tham số đường dẫn.",
                "Missing path parameter.",
            )),
        }
    }
}

/// Query parameters, parsed then validated; every failing parameter is reported.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Validate> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, AppError> {
        let query = parts.uri.query().unwrap_or("");
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        let parsed: T = serde_path_to_error::deserialize(de).map_err(|e| {
            let field = e.path().to_string();
            let inner = e.into_inner().to_string();
            AppError::validation(vec![FieldError::new(
                field,
                "type",
                &format!("Tham số truy vấn không hợp lệ: {inner}"),
                &format!("Invalid query parameter: {inner}"),
            )])
        })?;
        parsed
            .validate()
            .map_err(|e| AppError::validation(flatten(&e)))?;
        Ok(ApiQuery(parsed))
    }
}
