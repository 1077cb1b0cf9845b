//! Authorization, decided in one place for every route: who may call which operation.
//!
//! Each operation's `#[utoipa::path(security(...))]` names the roles that may call
//! it (`security(("bearer" = ["admin", "finance_officer"]))`) or marks it public
//! (`security(())`). At start-up [`Policy::from_openapi`] reads those declarations
//! back from the generated document — refusing to start if an operation declares
//! nothing — and the API's request guard (`api::guard::enforce`) applies them to every
//! request.

use std::collections::HashMap;

use axum::http::Method;

use super::Role;

/// Who may call one operation.
#[derive(Debug, Clone, PartialEq)]
pub enum Access {
    /// Anyone, without a token.
    Public,
    /// Authenticated users with one of these roles.
    Roles(Vec<Role>),
}

/// The access rule of every operation, keyed by method and path template.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    ops: HashMap<(Method, String), Access>,
}

impl Policy {
    /// Reads the security declarations of every operation in `doc`.
    pub fn from_openapi(doc: &utoipa::openapi::OpenApi) -> Result<Policy, String> {
        let json = serde_json::to_value(doc).map_err(|e| e.to_string())?;
        let mut ops = HashMap::new();
        let paths = json["paths"].as_object().cloned().unwrap_or_default();
        for (path, item) in paths {
            let Some(item) = item.as_object() else {
                continue;
            };
            for (method, op) in item {
                let Ok(m) = Method::from_bytes(method.to_ascii_uppercase().as_bytes()) else {
                    continue;
                };
                let Some(security) = op.get("security").and_then(|s| s.as_array()) else {
                    return Err(format!(
                        "{method} {path} declares no security; add security(()) or the roles"
                    ));
                };
                let mut roles = Vec::new();
                let mut public = false;
                for req in security {
                    let Some(req) = req.as_object() else { continue };
                    if req.is_empty() {
                        public = true;
                    }
                    for scopes in req.values().filter_map(|v| v.as_array()) {
                        for s in scopes.iter().filter_map(|s| s.as_str()) {
                            roles.push(
                                Role::parse(s)
                                    .ok_or_else(|| format!("{method} {path}: unknown role {s}"))?,
                            );
                        }
                    }
                }
                let access = if public {
                    Access::Public
                } else {
                    Access::Roles(roles)
                };
                ops.insert((m, path.clone()), access);
            }
        }
        Ok(Policy { ops })
    }

    /// The rule for one operation.
    pub fn access(&self, method: &Method, path: &str) -> Option<&Access> {
        self.ops.get(&(method.clone(), path.to_string()))
    }
}
