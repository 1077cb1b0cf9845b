//! "Nhập từ Excel": upload → dry-run preview → confirm → result, on the API's import.
//!
//! Between the preview and the confirmation the uploaded file waits in a private
//! directory under the system's temporary directory, named by the user and a random
//! id, and is removed after the import (or after an hour).

use std::path::PathBuf;

use askama::Template;
use axum::{
    extract::{Path, Request, State},
    http::{StatusCode, header},
    response::{IntoResponse, Redirect},
};
use rand::Rng;

use super::{
    WebResult, WebUser, html,
    pages::{Layout, campaign_or_404, form_of, layout_for, parse_form},
    text,
};
use crate::{
    error::{AppError, Lang},
    state::AppState,
    units,
    workbooks::{self, ImportOptions, ImportReport},
};

/// How long an uploaded file waits for its confirmation.
const KEEP_SECS: u64 = 3600;

fn dir() -> PathBuf {
    std::env::temp_dir().join("kiemke-uploads")
}

/// The stored upload of `user_id` with `id` (hex only, so no path can be smuggled in).
fn path_of(user_id: i64, id: &str) -> Option<PathBuf> {
    (id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| dir().join(format!("{user_id}-{id}")))
}

fn sweep() {
    let Ok(entries) = std::fs::read_dir(dir()) else {
        return;
    };
    for e in entries.flatten() {
        let old = e
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age.as_secs() > KEEP_SECS);
        if old {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

fn store(user_id: i64, name: &str, bytes: &[u8]) -> WebResult<String> {
    sweep();
    let id = hex::encode(rand::rng().random::<[u8; 16]>());
    let path = path_of(user_id, &id).ok_or_else(|| AppError::Internal("upload id".into()))?;
    std::fs::create_dir_all(dir()).map_err(|e| AppError::Internal(format!("upload dir: {e}")))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(dir(), std::fs::Permissions::from_mode(0o700));
    }
    // The file name travels with the bytes: first line, then the content.
    let mut data = Vec::with_capacity(bytes.len() + name.len() + 1);
    data.extend_from_slice(name.replace('\n', " ").as_bytes());
    data.push(b'\n');
    data.extend_from_slice(bytes);
    let mut open = std::fs::OpenOptions::new();
    open.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        open.mode(0o600);
    }
    open.open(&path)
        .and_then(|mut f| std::io::Write::write_all(&mut f, &data))
        .map_err(|e| AppError::Internal(format!("upload store: {e}")))?;
    Ok(id)
}

fn load(user_id: i64, id: &str) -> WebResult<(String, Vec<u8>)> {
    let gone = || {
        AppError::not_found(
            "tệp đã tải lên (tệp chỉ được giữ một giờ; hãy tải lên lại)",
            "The uploaded file (kept for an hour only; upload it again)",
        )
    };
    let path = path_of(user_id, id).ok_or_else(gone)?;
    let data = std::fs::read(path).map_err(|_| gone())?;
    let cut = data.iter().position(|&b| b == b'\n').unwrap_or(0);
    let name = String::from_utf8_lossy(&data[..cut]).into_owned();
    Ok((name, data[cut + 1..].to_vec()))
}

#[derive(Template)]
#[template(path = "import.html")]
struct ImportPage {
    l: Layout,
    base: String,
    type_name: String,
    form_code: String,
    upload_action: String,
    report: Option<ImportReport>,
    errors: Vec<(String, String, String, String)>,
    upload_id: String,
    file_name: String,
    done: bool,
    problem: Option<String>,
}

/// What the import page shows below its upload form.
#[derive(Default)]
struct Outcome {
    report: Option<ImportReport>,
    /// Id and name of the stored upload awaiting confirmation.
    upload: (String, String),
    done: bool,
    problem: Option<String>,
}

fn problem(msg: String) -> Outcome {
    Outcome {
        problem: Some(msg),
        ..Default::default()
    }
}

async fn page(
    state: &AppState,
    u: &WebUser,
    unit_id: i64,
    type_code: &str,
    o: Outcome,
) -> WebResult {
    let Outcome {
        report,
        upload,
        done,
        problem,
    } = o;
    let form = form_of(state, type_code)?;
    let unit = units::get(&state.db, unit_id).await?;
    let base = format!("/units/{unit_id}/types/{type_code}");
    let lang = Lang::current();
    let errors = report
        .as_ref()
        .map(|r| {
            r.errors
                .iter()
                .map(|e| {
                    let column = form
                        .field(&e.field)
                        .map(|f| f.label.get(lang).to_string())
                        .unwrap_or_else(|| e.field.clone());
                    (
                        e.sheet.clone(),
                        format!("{}{}", e.column_letter, e.row),
                        column,
                        e.message.get(lang).to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let mut res = html(&ImportPage {
        l: layout_for(u, Some(unit.name)),
        upload_action: format!("{base}/import?csrf={}", u.csrf),
        base,
        type_name: form.asset_type.name.get(lang).to_string(),
        form_code: form.code.clone(),
        report,
        errors,
        upload_id: upload.0,
        file_name: upload.1,
        done,
        problem: problem.clone(),
    })?;
    if problem.is_some() {
        *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(res)
}

/// `GET …/import`: the upload form.
pub async fn import_page(
    State(state): State<AppState>,
    u: WebUser,
    Path((unit_id, type_code)): Path<(i64, String)>,
) -> WebResult {
    page(&state, &u, unit_id, &type_code, Outcome::default()).await
}

/// Reads the `file` part of a multipart upload, at most `limit` bytes in all.
async fn upload(req: Request, limit: usize) -> Result<(String, Vec<u8>), String> {
    let t = text::of(Lang::current());
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let boundary =
        multer::parse_boundary(&content_type).map_err(|_| t.import_no_file.to_string())?;
    let body = axum::body::to_bytes(req.into_body(), limit)
        .await
        .map_err(|_| t.import_too_large.to_string())?;
    let stream = futures_util::stream::once(async move { Ok::<_, std::convert::Infallible>(body) });
    let mut parts = multer::Multipart::new(stream, boundary);
    while let Ok(Some(field)) = parts.next_field().await {
        if field.name() == Some("file") {
            let name = field.file_name().unwrap_or("upload.xlsx").to_string();
            let bytes = field
                .bytes()
                .await
                .map_err(|_| t.import_no_file.to_string())?;
            if bytes.is_empty() {
                return Err(t.import_no_file.to_string());
            }
            return Ok((name, bytes.to_vec()));
        }
    }
    Err(t.import_no_file.to_string())
}

async fn run(
    state: &AppState,
    u: &WebUser,
    unit_id: i64,
    type_code: &str,
    name: &str,
    bytes: Vec<u8>,
    dry_run: bool,
) -> WebResult<Result<ImportReport, String>> {
    let form = form_of(state, type_code)?;
    let c = campaign_or_404(state).await?;
    let opts = ImportOptions {
        dry_run,
        form_code: Some(form.code.clone()),
        file_name: name.to_string(),
        max_rows: opts_max_rows(),
    };
    // The same gate as the API's import: one import per unit and two in all.
    let outcome = match state.imports.try_enter(unit_id) {
        Ok(permit) => {
            workbooks::import(
                state,
                &u.actor,
                &permit,
                c.id,
                unit_id,
                bytes.into(),
                &opts,
                &|_| {},
            )
            .await
        }
        Err(refused) => Err(refused),
    };
    match outcome {
        Ok(r) => Ok(Ok(r)),
        Err(e)
            if e.status().is_client_error()
                || e.status().is_server_error()
                    && e.status() != axum::http::StatusCode::INTERNAL_SERVER_ERROR =>
        {
            let (_, doc) = e.to_problem(Lang::current());
            let mut msg = doc.detail;
            for f in doc.errors {
                msg.push(' ');
                msg.push_str(&f.message);
            }
            Ok(Err(msg))
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST …/import`: checks the uploaded file (nothing written) and shows the preview.
pub async fn check(
    State(state): State<AppState>,
    u: WebUser,
    Path((unit_id, type_code)): Path<(i64, String)>,
    req: Request,
) -> WebResult {
    let (name, bytes) = match upload(req, state.settings.upload_limit).await {
        Ok(x) => x,
        Err(msg) => {
            return page(&state, &u, unit_id, &type_code, problem(msg)).await;
        }
    };
    let id = store(u.actor.user_id, &name, &bytes)?;
    match run(&state, &u, unit_id, &type_code, &name, bytes, true).await? {
        Ok(report) => {
            page(
                &state,
                &u,
                unit_id,
                &type_code,
                Outcome {
                    report: Some(report),
                    upload: (id, name),
                    ..Default::default()
                },
            )
            .await
        }
        Err(msg) => page(&state, &u, unit_id, &type_code, problem(msg)).await,
    }
}

#[derive(serde::Deserialize)]
pub struct ConfirmForm {
    upload: String,
}

/// `POST …/import/confirm`: imports the previewed file for real.
pub async fn confirm(
    State(state): State<AppState>,
    u: WebUser,
    Path((unit_id, type_code)): Path<(i64, String)>,
    axum::extract::RawForm(body): axum::extract::RawForm,
) -> WebResult {
    let f: ConfirmForm = parse_form(&body)?;
    let (name, bytes) = load(u.actor.user_id, &f.upload)?;
    match run(&state, &u, unit_id, &type_code, &name, bytes, false).await? {
        Ok(report) if report.errors.is_empty() => {
            if let Some(p) = path_of(u.actor.user_id, &f.upload) {
                let _ = std::fs::remove_file(p);
            }
            page(
                &state,
                &u,
                unit_id,
                &type_code,
                Outcome {
                    report: Some(report),
                    done: true,
                    ..Default::default()
                },
            )
            .await
        }
        Ok(report) => {
            page(
                &state,
                &u,
                unit_id,
                &type_code,
                Outcome {
                    report: Some(report),
                    upload: (f.upload, name),
                    ..Default::default()
                },
            )
            .await
        }
        Err(msg) => page(&state, &u, unit_id, &type_code, problem(msg)).await,
    }
}

/// `GET …/import/{upload}/errors.xlsx`: the user's file with an error column.
pub async fn annotated(
    State(state): State<AppState>,
    u: WebUser,
    Path((unit_id, type_code, upload_id)): Path<(i64, String, String)>,
) -> WebResult {
    let (name, bytes) = load(u.actor.user_id, &upload_id)?;
    let report = match run(&state, &u, unit_id, &type_code, &name, bytes.clone(), true).await? {
        Ok(r) => r,
        Err(_) => {
            return Ok(
                Redirect::to(&format!("/units/{unit_id}/types/{type_code}/import")).into_response(),
            );
        }
    };
    let xlsx = workbooks::annotated_workbook(&bytes, &report, opts_max_rows(), Lang::current())?;
    let file = format!("loi_{}", name.replace(".csv", ".xlsx"))
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        .collect::<String>();
    Ok(workbooks::Workbook::in_memory(file, xlsx).into_response())
}

/// The row limit of an import from the web pages (the API's default).
fn opts_max_rows() -> usize {
    200_000
}
