//! The HTTP layer: thin handlers (extract → call the domain → view), the OpenAPI
//! document, and the layers every request passes through.

pub mod assets;
pub mod audit;
pub mod auth;
pub mod campaigns;
pub mod catalogue;
pub mod extract;
pub mod guard;
pub mod health;
pub mod nodes;
pub mod progress;
pub mod registrations;
pub mod reports;
pub mod spreadsheets;
pub mod units;
pub mod users;

use axum::{
    Router,
    http::{HeaderValue, header},
    middleware,
};
use tower_http::set_header::SetResponseHeaderLayer;
use utoipa::{
    Modify, OpenApi,
    openapi::security::{Http, HttpAuthScheme, SecurityScheme},
};
use utoipa_axum::{router::OpenApiRouter, routes};
use utoipa_swagger_ui::SwaggerUi;

use crate::{auth::policy::Policy, state::AppState};

struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                Http::builder()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "Token from POST /api/v1/auth/login. The scopes of each operation list the roles allowed to call it.",
                    ))
                    .build(),
            ),
        );
    }
}

/// Error responses leave as `application/problem+json` (see [`crate::error::problem_response`]);
/// the annotations say `body = ProblemDoc`, which utoipa files under `application/json`.
/// This moves every such body to the media type the service really sends (found by
/// schemathesis: every error answer was an undocumented content type).
struct ProblemMediaType;

impl Modify for ProblemMediaType {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::RefOr;
        for item in openapi.paths.paths.values_mut() {
            let ops = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for op in ops.into_iter().flatten() {
                for response in op.responses.responses.values_mut() {
                    let RefOr::T(response) = response else {
                        continue;
                    };
                    let is_problem = response.content.get("application/json").is_some_and(|c| {
                        matches!(c, RefOr::T(c) if matches!(&c.schema,
                            Some(RefOr::Ref(r)) if r.ref_location.ends_with("/ProblemDoc")))
                    });
                    if is_problem
                        && let Some(content) = response.content.shift_remove("application/json")
                    {
                        response
                            .content
                            .insert("application/problem+json".into(), content);
                    }
                }
            }
        }
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "kiemke — Tổng kiểm kê tài sản công",
        description = "Public-asset inventory service: units register asset types, enter and import assets, submit reports; the finance office tracks progress. Errors are application/problem+json, Vietnamese first (send Accept-Language: en for English).",
        license(name = "MIT OR Apache-2.0", identifier = "MIT OR Apache-2.0")
    ),
    modifiers(&BearerScheme),
    // Types that only a query parameter names: nothing else registers them.
    components(schemas(crate::progress::UnitSort)),
    tags(
        (name = "system", description = "Health"),
        (name = "auth", description = "Login, logout, own account"),
        (name = "users", description = "Accounts (admin)"),
        (name = "catalogue", description = "The 19 asset types and their form definitions"),
        (name = "tree", description = "The administrative tree: provinces and communes/wards above the units"),
        (name = "units", description = "Reporting units"),
        (name = "campaigns", description = "Inventory campaigns"),
        (name = "registrations", description = "Units' registrations: team and asset types"),
        (name = "assets", description = "The asset register, checked against the form definitions"),
        (name = "reports", description = "Submitting, returning and accepting reports; extensions"),
        (name = "progress", description = "The finance office's progress board, summary and reminders"),
        (name = "exports", description = "Standard forms, flat upload layout, consolidated report and progress as .xlsx"),
        (name = "imports", description = "Accountants' workbooks in (xlsx or CSV), checked cell by cell"),
        (name = "audit", description = "The audit trail: every change, who and when, before and after"),
    )
)]
struct ApiDoc;

fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(health::health))
        .routes(routes!(auth::login))
        .routes(routes!(auth::logout))
        .routes(routes!(auth::me))
        .routes(routes!(auth::change_password))
        .routes(routes!(users::list_users, users::create_user))
        .routes(routes!(users::get_user, users::update_user))
        .routes(routes!(users::reset_password))
        .routes(routes!(catalogue::list_asset_types))
        .routes(routes!(catalogue::list_forms))
        .routes(routes!(catalogue::get_form))
        .routes(routes!(nodes::list_nodes, nodes::create_node))
        .routes(routes!(nodes::get_node, nodes::update_node))
        .routes(routes!(units::list_units, units::create_unit))
        .routes(routes!(
            units::get_unit,
            units::update_unit,
            units::delete_unit
        ))
        .routes(routes!(
            campaigns::list_campaigns,
            campaigns::create_campaign
        ))
        .routes(routes!(campaigns::get_campaign, campaigns::update_campaign))
        .routes(routes!(
            registrations::get_registration,
            registrations::put_registration
        ))
        .routes(routes!(registrations::list_registrations))
        .routes(routes!(assets::list_assets, assets::create_asset))
        .routes(routes!(
            assets::get_asset,
            assets::update_asset,
            assets::delete_asset
        ))
        .routes(routes!(assets::asset_history))
        .routes(routes!(assets::unit_totals))
        .routes(routes!(reports::list_reports))
        .routes(routes!(reports::get_report))
        .routes(routes!(reports::submit_report))
        .routes(routes!(reports::return_report))
        .routes(routes!(reports::accept_report))
        .routes(routes!(reports::grant_extension))
        .routes(routes!(progress::get_progress))
        .routes(routes!(progress::get_summary))
        .routes(routes!(progress::get_reminders))
        .routes(routes!(spreadsheets::unit_form))
        .routes(routes!(spreadsheets::unit_flat))
        .routes(routes!(spreadsheets::ward_flat))
        .routes(routes!(spreadsheets::summary))
        .routes(routes!(spreadsheets::progress))
        .routes(routes!(spreadsheets::import))
        .routes(routes!(audit::list_audit_events))
}

/// The router and the OpenAPI document of every operation.
fn api_parts() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let (router, mut doc) = api_router().split_for_parts();
    // After the split: the paths exist only once every route is added.
    ProblemMediaType.modify(&mut doc);
    (router, doc)
}

/// The OpenAPI document of every operation.
pub fn openapi() -> utoipa::openapi::OpenApi {
    api_parts().1
}

/// The access policy read from the OpenAPI document.
pub fn policy() -> Result<Policy, String> {
    Policy::from_openapi(&openapi())
}

/// The API and its documentation, ready to merge: every operation behind the policy's guard
/// ([`guard::enforce`]), and Swagger UI at `/docs` reading `/api/openapi.json`.
pub fn router(state: AppState) -> Router {
    let (api, doc) = api_parts();
    let api = api
        // Inside the guard: it sees the caller the guard resolved.
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            crate::replica::note_writes,
        ))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            guard::enforce,
        ))
        .with_state(state);
    Router::new().merge(api).merge(
        Router::from(SwaggerUi::new("/docs").url("/api/openapi.json", doc)).layer(
            SetResponseHeaderLayer::overriding(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(DOCS_CSP),
            ),
        ),
    )
}

/// Content-Security-Policy of `/docs` (Swagger UI): its scripts and styles come from the
/// service itself; it needs inline style attributes and `data:` images (its icons), and it
/// fetches only `/api/openapi.json` and the API it documents.
pub const DOCS_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; \
frame-ancestors 'none'";
