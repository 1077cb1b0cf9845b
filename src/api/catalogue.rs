//! The asset-type catalogue and the form definitions, as data for clients.

use axum::{Json, extract::State};
use serde::Serialize;
use utoipa::ToSchema;

use super::extract::ApiPath;
use crate::{
    error::{AppError, AppResult, ProblemDoc},
    forms::{AssetGroup, ColumnDef, FieldDef, Form, Provenance, RuleDef, SectionDef, Text},
    state::AppState,
};

/// One of the 19 national asset types.
#[derive(Debug, Serialize, ToSchema)]
pub struct AssetTypeView {
    /// Two-digit code.
    pub code: String,
    /// Form recording it (`01a`).
    pub form_code: String,
    /// Vietnamese name.
    pub name_vi: String,
    /// English name.
    pub name_en: String,
    /// Family.
    pub group: AssetGroup,
}

/// A form definition as served to clients.
#[derive(Debug, Serialize, ToSchema)]
pub struct FormView {
    /// Form code.
    pub code: String,
    /// Definition version.
    pub version: String,
    /// How sure we are of the content.
    pub provenance: Provenance,
    /// Asset type.
    pub asset_type: AssetTypeView,
    /// Title printed on the sheet.
    pub title: Text,
    /// Sections.
    pub sections: Vec<SectionDef>,
    /// Every field, `section` and common fields first.
    pub fields: Vec<FieldDef>,
    /// Cross-field rules.
    pub rules: Vec<RuleDef>,
    /// Columns of the official sheet.
    pub columns: Vec<ColumnDef>,
    /// Column order of the flat upload sheet.
    pub flat_columns: Vec<String>,
}

fn type_view(f: &Form) -> AssetTypeView {
    AssetTypeView {
        code: f.asset_type.code.clone(),
        form_code: f.code.clone(),
        name_vi: f.asset_type.name.vi.clone(),
        name_en: f.asset_type.name.en.clone(),
        group: f.asset_type.group,
    }
}

/// The 19 asset types, ordered by code.
#[utoipa::path(get, path = "/api/v1/asset-types", tag = "catalogue",
    security(("bearer" = ["admin", "finance_officer", "unit_accountant", "viewer"])),
    responses((status = 200, body = Vec<AssetTypeView>), (status = 401, body = ProblemDoc)))]
pub async fn list_asset_types(State(state): State<AppState>) -> Json<Vec<AssetTypeView>> {
    Json(state.forms.forms().map(|f| type_view(f)).collect())
}

/// Every form definition (summary: code, type, title, version).
#[utoipa::path(get, path = "/api/v1/forms", tag = "catalogue",
    security(("bearer" = ["admin", "finance_officer", "unit_accountant", "viewer"])),
    responses((status = 200, body = Vec<AssetTypeView>), (status = 401, body = ProblemDoc)))]
pub async fn list_forms(State(state): State<AppState>) -> Json<Vec<AssetTypeView>> {
    Json(state.forms.forms().map(|f| type_view(f)).collect())
}

/// One form definition in full: fields, rules and layouts, enough to build an entry screen.
#[utoipa::path(get, path = "/api/v1/forms/{form_code}", tag = "catalogue",
    params(("form_code" = String, Path, description = "Form code, e.g. 01a", pattern = "^[0-9]{2}a$")),
    security(("bearer" = ["admin", "finance_officer", "unit_accountant", "viewer"])),
    responses((status = 200, body = FormView), (status = 401, body = ProblemDoc), (status = 404, body = ProblemDoc)))]
pub async fn get_form(
    State(state): State<AppState>,
    ApiPath(code): ApiPath<String>,
) -> AppResult<Json<FormView>> {
    let f = state.forms.form(&code).ok_or_else(|| {
        AppError::not_found(&format!("mẫu biểu «{code}»"), &format!("Form \"{code}\""))
    })?;
    Ok(Json(FormView {
        code: f.code.clone(),
        version: f.version.clone(),
        provenance: f.provenance,
        asset_type: type_view(f),
        title: f.title.clone(),
        sections: f.sections.clone(),
        fields: f.fields.clone(),
        rules: f.rules.clone(),
        columns: f.columns.clone(),
        flat_columns: f.flat_columns.clone(),
    }))
}
