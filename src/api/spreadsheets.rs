//! Workbooks out (official form, flat upload layout, consolidated report, progress)
//! and accountants' workbooks in.

use axum::{
    Json,
    body::Bytes,
    extract::{Request, State},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use utoipa::IntoParams;
use validator::Validate;

use super::extract::{ApiPath, ApiQuery, too_large};
use crate::{
    auth::Actor,
    error::{AppError, AppResult, FieldError, Lang, ProblemDoc},
    state::AppState,
    workbooks::{self, ImportOptions, ImportReport, Workbook},
};

pub use workbooks::XLSX;

fn xlsx_name(file: &str) -> AppResult<&str> {
    file.strip_suffix(".xlsx").ok_or_else(|| {
        AppError::not_found(
            &format!("tệp «{file}» (dùng dạng 01a.xlsx)"),
            &format!("File \"{file}\" (use the form 01a.xlsx)"),
        )
    })
}

/// A unit's form as Vietnamese officials expect it (e.g. `01a.xlsx`): motto, title, cut-off,
/// grouped headers, numbered columns, sections with subtotals, grand total and signatures.
#[utoipa::path(get, path = "/api/v1/campaigns/{campaign_id}/units/{unit_id}/forms/{form_code}", tag = "exports",
    params(("campaign_id" = i64, Path, minimum = 1), ("unit_id" = i64, Path, minimum = 1),
           ("form_code" = String, Path, description = "Form code followed by .xlsx, e.g. 01a.xlsx", pattern = "^[0-9]{2}a\\.xlsx$")),
    security(("bearer" = ["admin", "finance_officer", "unit_accountant", "viewer"])),
    responses((status = 200, description = "The workbook", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = Vec<u8>),
              (status = 400, body = ProblemDoc), (status = 401, body = ProblemDoc), (status = 404, body = ProblemDoc)))]
pub async fn unit_form(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath((campaign_id, unit_id, file)): ApiPath<(i64, i64, String)>,
) -> AppResult<Response> {
    let code = xlsx_name(&file)?;
    Ok(
        workbooks::unit_form(&state, &actor, campaign_id, unit_id, code, None)
            .await?
            .into_response(),
    )
}

/// Which export profile lays out a flat file.
#[derive(Debug, Clone, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProfileQuery {
    /// Export profile (`profiles/*.toml`): `kiemke` (default; field keys in row 1, our codes,
    /// re-importable) or `national-draft` (PROVISIONAL guess at the national software's template:
    /// Vietnamese headers, the unit's codes on every row, documents split into number and date).
    #[validate(length(min = 1, max = 50))]
    pub profile: Option<String>,
}

impl ProfileQuery {
    fn code(&self) -> &str {
        self.profile
            .as_deref()
            .unwrap_or(crate::forms::DEFAULT_PROFILE)
    }
}

/// A unit's records of one form in a flat layout: one header row, one row per asset, plain
/// numbers. The export profile chooses the headers, codes and extra columns; the default
/// `kiemke` profile is the service's own layout (field keys, our codes), which the import reads
/// back. The national software's own template is not published; `national-draft` is provisional.
#[utoipa::path(get, path = "/api/v1/campaigns/{campaign_id}/units/{unit_id}/forms/{form_code}/flat.xlsx", tag = "exports",
    params(("campaign_id" = i64, Path, minimum = 1), ("unit_id" = i64, Path, minimum = 1),
           ("form_code" = String, Path, pattern = "^[0-9]{2}a$"), ProfileQuery),
    security(("bearer" = ["admin", "finance_officer", "unit_accountant", "viewer"])),
    responses((status = 200, description = "The workbook", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = Vec<u8>),
              (status = 400, body = ProblemDoc), (status = 401, body = ProblemDoc), (status = 404, body = ProblemDoc),
              (status = 422, description = "Unknown export profile", body = ProblemDoc)))]
pub async fn unit_flat(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath((campaign_id, unit_id, code)): ApiPath<(i64, i64, String)>,
    ApiQuery(q): ApiQuery<ProfileQuery>,
) -> AppResult<Response> {
    Ok(
        workbooks::unit_form(&state, &actor, campaign_id, unit_id, &code, Some(q.code()))
            .await?
            .into_response(),
    )
}

/// Every unit's records of one form in one flat file (the units under the node, `node=` as on
/// the board, that registered the form's type, by budget-relationship code), under an export
/// profile as for a unit's flat file.
#[utoipa::path(get, path = "/api/v1/campaigns/{campaign_id}/forms/{form_code}/flat.xlsx", tag = "exports",
    params(("campaign_id" = i64, Path, minimum = 1), ("form_code" = String, Path, pattern = "^[0-9]{2}a$"), ProfileQuery,
           crate::progress::NodeQuery),
    security(("bearer" = ["admin", "finance_officer", "viewer"])),
    responses((status = 200, description = "The workbook", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = Vec<u8>),
              (status = 400, body = ProblemDoc), (status = 401, body = ProblemDoc), (status = 403, body = ProblemDoc),
              (status = 404, body = ProblemDoc), (status = 422, description = "Unknown export profile", body = ProblemDoc)))]
pub async fn ward_flat(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath((campaign_id, code)): ApiPath<(i64, String)>,
    ApiQuery(q): ApiQuery<ProfileQuery>,
    ApiQuery(node): ApiQuery<crate::progress::NodeQuery>,
) -> AppResult<Response> {
    let v = crate::progress::view(&state, &actor, node.node).await?;
    Ok(
        workbooks::ward_flat(&state, &actor, &v, campaign_id, &code, q.code())
            .await?
            .into_response(),
    )
}

/// The consolidated report of one form under the node (`node=`, as on the board). A ward's: a
/// row per unit with its report state, physical quantities, counts and values by section and
/// usage status; the units whose report was sent (submitted or accepted) totalled, the others
/// listed apart. A province's (or the installation's, with a tree): a row per ward (province)
/// with the same columns summing its units' sent reports, and the node's total.
#[utoipa::path(get, path = "/api/v1/campaigns/{campaign_id}/forms/{form_code}/summary.xlsx", tag = "exports",
    params(("campaign_id" = i64, Path, minimum = 1), ("form_code" = String, Path, pattern = "^[0-9]{2}a$"),
           crate::progress::NodeQuery),
    security(("bearer" = ["admin", "finance_officer", "viewer"])),
    responses((status = 200, description = "The workbook", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = Vec<u8>),
              (status = 400, body = ProblemDoc), (status = 401, body = ProblemDoc), (status = 403, body = ProblemDoc),
              (status = 404, body = ProblemDoc), (status = 422, body = ProblemDoc)))]
pub async fn summary(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath((campaign_id, code)): ApiPath<(i64, String)>,
    ApiQuery(node): ApiQuery<crate::progress::NodeQuery>,
) -> AppResult<Response> {
    let v = crate::progress::view(&state, &actor, node.node).await?;
    Ok(
        workbooks::consolidated(&state, &actor, &v, campaign_id, &code)
            .await?
            .into_response(),
    )
}

/// The progress board as a sheet (`node=`, as on the board): a ward's, one row per unit; a
/// province's (or the installation's, with a tree), one row per ward (province) with the
/// board's counts, and the node's totals.
#[utoipa::path(get, path = "/api/v1/campaigns/{campaign_id}/progress.xlsx", tag = "exports",
    params(("campaign_id" = i64, Path, minimum = 1), crate::progress::NodeQuery),
    security(("bearer" = ["admin", "finance_officer", "viewer"])),
    responses((status = 200, description = "The workbook", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = Vec<u8>),
              (status = 400, body = ProblemDoc), (status = 401, body = ProblemDoc), (status = 403, body = ProblemDoc),
              (status = 404, body = ProblemDoc), (status = 422, body = ProblemDoc)))]
pub async fn progress(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(campaign_id): ApiPath<i64>,
    ApiQuery(node): ApiQuery<crate::progress::NodeQuery>,
) -> AppResult<Response> {
    let v = crate::progress::view(&state, &actor, node.node).await?;
    Ok(workbooks::progress_sheet(&state, &actor, &v, campaign_id)
        .await?
        .into_response())
}

/// Options of an import.
#[derive(Debug, Clone, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// `true`: check the file and report, write nothing.
    pub dry_run: Option<bool>,
    /// Form of the file (needed only when the unit registered several types and the file is not in our own layout).
    #[param(pattern = "^[0-9]{2}a$")]
    #[validate(length(equal = 3))]
    pub form_code: Option<String>,
}

async fn upload(req: Request, limit: usize) -> AppResult<(String, Bytes)> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let body = axum::body::to_bytes(req.into_body(), limit)
        .await
        .map_err(|_| too_large())?;
    if let Ok(boundary) = multer::parse_boundary(&content_type) {
        let stream =
            futures_util::stream::once(async move { Ok::<Bytes, std::convert::Infallible>(body) });
        let mut parts = multer::Multipart::new(stream, boundary);
        while let Ok(Some(field)) = parts.next_field().await {
            if field.file_name().is_some() || field.name() == Some("file") {
                let name = field.file_name().unwrap_or("upload").to_string();
                let bytes = field.bytes().await.map_err(|_| {
                    AppError::bad_request(
                        "Không đọc được tệp gửi lên.",
                        "Could not read the uploaded file.",
                    )
                })?;
                return Ok((name, bytes));
            }
        }
        return Err(AppError::field(
            "file",
            "required",
            "Chưa đính kèm tệp (trường «file»)",
            "No file attached (field \"file\")",
        ));
    }
    let name = if content_type.starts_with("text/csv") {
        "upload.csv"
    } else {
        "upload.xlsx"
    };
    Ok((name.to_string(), body))
}

/// Data rows an uploaded file may hold.
const MAX_ROWS: usize = 200_000;

/// Imports an accountant's workbook (our official layout or the flat layout, .xlsx; or CSV in the
/// flat layout), sent as the raw body or as `multipart/form-data` field `file`. Every row is checked;
/// every problem is reported by sheet, row and column, and then nothing is written. Otherwise all rows
/// are written in one transaction, upserting by asset code: a blank cell keeps the stored value, a cell
/// reading `<xóa>` clears it. Re-importing the same file changes nothing. With
/// `Accept: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet` a rejected file comes back as
/// the user's workbook with an error column. At most one import per unit and two in all run at once; another
/// is refused before its upload is read (429 / 503 with `Retry-After`).
#[utoipa::path(post, path = "/api/v1/campaigns/{campaign_id}/units/{unit_id}/imports", tag = "imports",
    params(("campaign_id" = i64, Path, minimum = 1), ("unit_id" = i64, Path, minimum = 1), ImportQuery),
    request_body(content = Vec<u8>, description = "The file (.xlsx or .csv), raw or as multipart field `file`",
                 content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    security(("bearer" = ["admin", "unit_accountant"])),
    responses((status = 200, body = ImportReport, description = "Imported (or checked, with dry_run)"),
              (status = 400, body = ProblemDoc), (status = 401, body = ProblemDoc), (status = 403, body = ProblemDoc),
              (status = 404, body = ProblemDoc), (status = 409, body = ProblemDoc), (status = 413, body = ProblemDoc),
              (status = 415, body = ProblemDoc),
              (status = 429, body = ProblemDoc, description = "The unit is already importing a file; `Retry-After` says when to try again"),
              (status = 503, body = ProblemDoc, description = "Two imports are running (or the database does not answer); `Retry-After` on the former"),
              (status = 422, description = "Rejected, nothing written: a problem document whose `errors` name the cells (with the full `report`), or the file annotated cell by cell when `Accept` asks for .xlsx; also a query that fails validation",
               content((ProblemDoc = "application/problem+json"),
                       (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")))))]
pub async fn import(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath((campaign_id, unit_id)): ApiPath<(i64, i64)>,
    ApiQuery(q): ApiQuery<ImportQuery>,
    req: Request,
) -> AppResult<Response> {
    let wants_xlsx = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains(XLSX));
    // Taken before the upload is read: a refused import costs nothing.
    let permit = match state.imports.try_enter(unit_id) {
        Ok(p) => p,
        Err(e) => {
            let mut res = e.into_response();
            res.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from(workbooks::IMPORT_RETRY_SECONDS),
            );
            return Ok(res);
        }
    };
    let (file_name, bytes) = upload(req, state.settings.upload_limit).await?;
    let opts = ImportOptions {
        dry_run: q.dry_run.unwrap_or(false),
        form_code: q.form_code,
        file_name: file_name.clone(),
        max_rows: MAX_ROWS,
    };
    let report = workbooks::import(
        &state,
        &actor,
        &permit,
        campaign_id,
        unit_id,
        bytes.clone(),
        &opts,
        &|_| {},
    )
    .await?;
    if report.errors.is_empty() {
        return Ok(Json(report).into_response());
    }
    if wants_xlsx {
        let lang = Lang::current();
        let annotated = tokio::task::spawn_blocking(move || {
            workbooks::annotated_workbook(&bytes, &report, MAX_ROWS, lang)
        })
        .await
        .map_err(|e| AppError::Internal(e.to_string()))??;
        let name = format!("loi_{}", file_name.replace(".csv", ".xlsx"));
        let mut res = Workbook::in_memory(name, annotated).into_response();
        *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
        return Ok(res);
    }
    Ok(rejected(report))
}

/// A rejected import as a problem document: the usual `errors` list plus the full cell errors.
fn rejected(report: ImportReport) -> Response {
    let lang = Lang::current();
    let errors: Vec<FieldError> = report
        .errors
        .iter()
        .map(|e| FieldError {
            field: format!("{}!{}{} ({})", e.sheet, e.column_letter, e.row, e.field),
            code: e.code.clone(),
            message: lang.pick(&e.message.vi, &e.message.en).to_string(),
        })
        .collect();
    let n = errors.len();
    let body = serde_json::json!({
        "type": "/problems/import-rejected",
        "title": lang.pick("Tệp có lỗi, chưa nhập gì", "The file has errors; nothing was imported"),
        "status": 422,
        "detail": lang.pick(
            &format!("Tệp có {n} lỗi; chưa ghi dữ liệu nào. Sửa các ô trong danh sách «errors» rồi nhập lại."),
            &format!("The file has {n} error(s); nothing was written. Fix the cells listed in \"errors\" and import again."),
        ),
        "errors": errors,
        "report": report,
    });
    let mut res = (StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    res
}
