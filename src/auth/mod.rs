//! Accounts, roles and who may do what.
//!
//! Who may call an operation is declared once, on the operation itself, as the
//! roles of its OpenAPI security requirement; [`policy`] enforces exactly that
//! document for every request, and scopes unit accountants to their own units.

pub mod client;
pub mod password;
pub mod policy;
pub mod throttle;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What a user may do, broadly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, Hash)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Manages users, units and campaigns; may do everything.
    Admin,
    /// The ward's finance office: reads everything, runs campaigns and registrations, reviews reports.
    FinanceOfficer,
    /// A unit's accountant: registers, enters, imports, exports and submits for their own units.
    UnitAccountant,
    /// Read-only (e.g. the ward chairman).
    Viewer,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 4] = [
        Role::Admin,
        Role::FinanceOfficer,
        Role::UnitAccountant,
        Role::Viewer,
    ];

    /// Stored and documented name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::FinanceOfficer => "finance_officer",
            Role::UnitAccountant => "unit_accountant",
            Role::Viewer => "viewer",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// The part of the administrative tree (province → commune/ward → units) a caller sees.
///
/// Plain data: the domain turns it into query conditions (`units::scope_condition`) and
/// checks (`access::check_scope`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Everything in the installation: the admin, and finance officers or viewers bound to no
    /// node (e.g. the Ministry level of a national installation, or a one-ward installation).
    All,
    /// A province's finance department: every ward of the province and their units.
    Province(i64),
    /// A ward's finance office (or its chairman): the units of that ward.
    Ward(i64),
    /// A unit accountant: their own units.
    Units(Vec<i64>),
}

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub struct Actor {
    /// User id.
    pub user_id: i64,
    /// Login name.
    pub username: String,
    /// Role.
    pub role: Role,
    /// Units an accountant is bound to (empty for other roles).
    pub unit_ids: Vec<i64>,
    /// The part of the tree the caller sees.
    pub scope: Scope,
    /// Session the request came with.
    pub session_id: i64,
}

impl Actor {
    /// The system itself (start-up, demo loading, CLI jobs).
    pub fn system() -> Actor {
        Actor {
            user_id: 0,
            username: "system".into(),
            role: Role::Admin,
            unit_ids: vec![],
            scope: Scope::All,
            session_id: 0,
        }
    }

    /// The user id to record in the audit trail (`None` for the system).
    pub fn audit_id(&self) -> Option<i64> {
        (self.user_id != 0).then_some(self.user_id)
    }
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Actor {
    type Rejection = crate::error::AppError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Actor>()
            .cloned()
            .ok_or_else(crate::error::AppError::unauthorized)
    }
}
