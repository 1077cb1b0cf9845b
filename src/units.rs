//! Reporting units (đơn vị): the agencies, schools and service centres that inventory their assets.

use std::sync::LazyLock;

use regex::Regex;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set, TransactionTrait, sea_query::LikeExpr,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::{
    audit::Event,
    auth::{Actor, Scope},
    entities::{admin_node, asset, registration, report, report_snapshot, unit, user_unit},
    error::{AppError, AppResult, OnUnique},
    pagination::{Page, PageQuery, patch_field},
    search,
    state::AppState,
    tree,
};

/// Budget relationship code: a leading digit then a six-digit sequence.
pub static UNIT_CODE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[0-9]{7}$").expect("valid regex"));
/// National registration code: 3, 6, 9, 12 or 15 letters and digits.
pub static REGISTRATION_CODE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(?:[0-9A-Za-z]{3}){1,5}$").expect("valid regex"));
/// 8 to 20 characters in all (the column's width), a leading `+` included.
static PHONE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(?:\+[0-9 .-]{7,19}|[0-9 .-]{8,20})$").expect("valid regex"));

/// What kind of body a unit is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum UnitKind {
    /// Cơ quan nhà nước.
    StateAgency,
    /// Đơn vị sự nghiệp công lập.
    PublicServiceUnit,
    /// Trường học (a public service unit that is a school).
    School,
    /// Cơ quan Đảng.
    PartyAgency,
    /// Mặt trận Tổ quốc, tổ chức chính trị - xã hội.
    SocioPoliticalOrganisation,
    /// Đơn vị lực lượng vũ trang.
    ArmedForcesUnit,
    /// Hội, tổ chức khác.
    Other,
}

impl UnitKind {
    /// Every kind, in the order forms list them.
    pub const ALL: [UnitKind; 7] = [
        UnitKind::StateAgency,
        UnitKind::PublicServiceUnit,
        UnitKind::School,
        UnitKind::PartyAgency,
        UnitKind::SocioPoliticalOrganisation,
        UnitKind::ArmedForcesUnit,
        UnitKind::Other,
    ];

    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            UnitKind::StateAgency => "state_agency",
            UnitKind::PublicServiceUnit => "public_service_unit",
            UnitKind::School => "school",
            UnitKind::PartyAgency => "party_agency",
            UnitKind::SocioPoliticalOrganisation => "socio_political_organisation",
            UnitKind::ArmedForcesUnit => "armed_forces_unit",
            UnitKind::Other => "other",
        }
    }

    /// Vietnamese name, as forms print it.
    pub fn label_vi(self) -> &'static str {
        match self {
            UnitKind::StateAgency => "Cơ quan nhà nước",
            UnitKind::PublicServiceUnit => "Đơn vị sự nghiệp công lập",
            UnitKind::School => "Trường học",
            UnitKind::PartyAgency => "Cơ quan Đảng",
            UnitKind::SocioPoliticalOrganisation => "Mặt trận Tổ quốc, tổ chức chính trị - xã hội",
            UnitKind::ArmedForcesUnit => "Đơn vị lực lượng vũ trang",
            UnitKind::Other => "Hội, tổ chức khác",
        }
    }

    /// The kind stored as `s` (an unknown name reads as [`UnitKind::Other`]).
    pub fn parse(s: &str) -> UnitKind {
        serde_json::from_value(serde_json::Value::String(s.to_string())).unwrap_or(UnitKind::Other)
    }
}

/// A new unit.
#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUnit {
    /// Budget relationship code (mã đơn vị có quan hệ với ngân sách), 7 digits.
    #[validate(regex(path = *UNIT_CODE))]
    #[schema(
        pattern = "^[0-9]{7}$",
        min_length = 7,
        max_length = 7,
        example = "1012345"
    )]
    pub code: String,
    /// Registration code in the national inventory software (3/6/9/12/15 characters).
    #[validate(regex(path = *REGISTRATION_CODE))]
    #[schema(pattern = "^(?:[0-9A-Za-z]{3}){1,5}$", nullable = false)]
    pub registration_code: Option<String>,
    /// Full name.
    #[validate(length(min = 1, max = 255))]
    #[schema(min_length = 1, max_length = 255)]
    pub name: String,
    /// Kind of body.
    pub kind: UnitKind,
    /// Superior unit, if it is also a unit here.
    #[schema(minimum = 1, nullable = false)]
    pub parent_id: Option<i64>,
    /// Address.
    #[validate(length(max = 500))]
    #[schema(max_length = 500, nullable = false)]
    pub address: Option<String>,
    /// Accountant's name.
    #[validate(length(max = 255))]
    #[schema(max_length = 255, nullable = false)]
    pub accountant_name: Option<String>,
    /// Accountant's phone.
    #[validate(regex(path = *PHONE))]
    #[schema(pattern = r"^(?:\+[0-9 .-]{7,19}|[0-9 .-]{8,20})$", nullable = false)]
    pub accountant_phone: Option<String>,
    /// Accountant's e-mail.
    #[validate(email, length(max = 254))]
    #[schema(format = "email", max_length = 254, nullable = false)]
    pub accountant_email: Option<String>,
    /// The commune or ward the unit reports to (its 5-digit code); absent: not yet placed in
    /// the tree (seen only by installation-wide accounts).
    #[serde(default)]
    #[schema(pattern = "^[0-9]{5}$", nullable = false, example = "05965")]
    pub ward_code: Option<String>,
}

/// Changes to a unit; absent fields stay as they are, `null` clears an optional field.
#[derive(Debug, Clone, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UnitPatch {
    /// New budget relationship code.
    #[validate(regex(path = *UNIT_CODE))]
    #[schema(pattern = "^[0-9]{7}$", min_length = 7, max_length = 7)]
    pub code: Option<String>,
    /// New registration code, or `null`.
    #[serde(default, deserialize_with = "patch_field")]
    #[schema(value_type = Option<String>, pattern = "^(?:[0-9A-Za-z]{3}){1,5}$")]
    pub registration_code: Option<Option<String>>,
    /// New name.
    #[validate(length(min = 1, max = 255))]
    #[schema(min_length = 1, max_length = 255)]
    pub name: Option<String>,
    /// New kind.
    pub kind: Option<UnitKind>,
    /// New superior unit, or `null`.
    #[serde(default, deserialize_with = "patch_field")]
    #[schema(value_type = Option<i64>)]
    pub parent_id: Option<Option<i64>>,
    /// New address, or `null`.
    #[serde(default, deserialize_with = "patch_field")]
    #[schema(value_type = Option<String>, max_length = 500)]
    pub address: Option<Option<String>>,
    /// New accountant's name, or `null`.
    #[serde(default, deserialize_with = "patch_field")]
    #[schema(value_type = Option<String>, max_length = 255)]
    pub accountant_name: Option<Option<String>>,
    /// New accountant's phone, or `null`.
    #[serde(default, deserialize_with = "patch_field")]
    #[schema(value_type = Option<String>, pattern = r"^(?:\+[0-9 .-]{7,19}|[0-9 .-]{8,20})$")]
    pub accountant_phone: Option<Option<String>>,
    /// New accountant's e-mail, or `null`.
    #[serde(default, deserialize_with = "patch_field")]
    #[schema(value_type = Option<String>, format = "email", max_length = 254)]
    pub accountant_email: Option<Option<String>>,
    /// `false` deactivates the unit (it keeps its data); `true` reactivates it.
    pub active: Option<bool>,
    /// Moves the unit to the commune or ward of this 5-digit code (audited as a `move`; the
    /// unit keeps its id and all its data), or `null` to take it out of the tree.
    #[serde(default, deserialize_with = "patch_field")]
    #[schema(value_type = Option<String>, pattern = "^[0-9]{5}$")]
    pub ward_code: Option<Option<String>>,
}

impl UnitPatch {
    /// Checks the nullable fields, which `validator` cannot see inside `Option<Option<_>>`.
    fn check_nullable(&self) -> AppResult<()> {
        let mut errors = Vec::new();
        let text = |v: &Option<Option<String>>| v.clone().flatten();
        if let Some(c) = text(&self.registration_code)
            && !REGISTRATION_CODE.is_match(&c)
        {
            errors.push(crate::error::FieldError::new(
                "registration_code",
                "regex",
                "«registration_code» phải gồm 3, 6, 9, 12 hoặc 15 chữ/số",
                "\"registration_code\" must be 3, 6, 9, 12 or 15 letters or digits",
            ));
        }
        for (name, v, max) in [
            ("address", &self.address, 500),
            ("accountant_name", &self.accountant_name, 255),
        ] {
            if text(v).is_some_and(|s| s.chars().count() > max) {
                errors.push(crate::error::FieldError::new(
                    name,
                    "length",
                    &format!("«{name}» dài tối đa {max} ký tự"),
                    &format!("\"{name}\" must be at most {max} characters long"),
                ));
            }
        }
        if text(&self.accountant_phone).is_some_and(|p| !PHONE.is_match(&p)) {
            errors.push(crate::error::FieldError::new(
                "accountant_phone",
                "regex",
                "«accountant_phone» không phải số điện thoại hợp lệ",
                "\"accountant_phone\" is not a valid phone number",
            ));
        }
        if text(&self.accountant_email)
            .is_some_and(|e| !validator::ValidateEmail::validate_email(&e) || e.len() > 254)
        {
            errors.push(crate::error::FieldError::new(
                "accountant_email",
                "email",
                "«accountant_email» không phải địa chỉ thư điện tử hợp lệ",
                "\"accountant_email\" is not a valid e-mail address",
            ));
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(AppError::validation(errors))
        }
    }
}

/// A unit as the API shows it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct UnitView {
    /// Id.
    pub id: i64,
    /// Budget relationship code.
    pub code: String,
    /// National registration code.
    pub registration_code: Option<String>,
    /// Name.
    pub name: String,
    /// Kind.
    pub kind: UnitKind,
    /// Superior unit.
    pub parent_id: Option<i64>,
    /// Address.
    pub address: Option<String>,
    /// Accountant's name.
    pub accountant_name: Option<String>,
    /// Accountant's phone.
    pub accountant_phone: Option<String>,
    /// Accountant's e-mail.
    pub accountant_email: Option<String>,
    /// Whether the unit is active.
    pub active: bool,
    /// The commune or ward the unit reports to (`null`: not yet placed in the tree).
    pub ward: Option<Place>,
    /// The ward's province.
    pub province: Option<Place>,
    /// Created (UTC).
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// Last changed (UTC).
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

/// A node of the administrative tree as a unit's view names it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Place {
    /// Node id.
    pub id: i64,
    /// Official code.
    pub code: String,
    /// Name.
    pub name: String,
}

impl Place {
    fn of(n: &admin_node::Model) -> Place {
        Place {
            id: n.id,
            code: n.code.clone(),
            name: n.name.clone(),
        }
    }
}

/// A unit's view with its ward and province named (the nodes read in one query for all of them).
pub async fn view_all(
    db: &impl ConnectionTrait,
    models: Vec<unit::Model>,
) -> AppResult<Vec<UnitView>> {
    let mut ids: Vec<i64> = models
        .iter()
        .flat_map(|m| [m.ward_id, m.province_id])
        .flatten()
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let nodes: std::collections::HashMap<i64, admin_node::Model> = tree::by_ids(db, &ids)
        .await?
        .into_iter()
        .map(|n| (n.id, n))
        .collect();
    let place = |id: Option<i64>| id.and_then(|id| nodes.get(&id)).map(Place::of);
    Ok(models
        .into_iter()
        .map(|m| {
            let (ward, province) = (place(m.ward_id), place(m.province_id));
            UnitView {
                ward,
                province,
                ..UnitView::from(m)
            }
        })
        .collect())
}

/// One unit's view with its ward and province named.
pub async fn view(db: &impl ConnectionTrait, m: unit::Model) -> AppResult<UnitView> {
    view_all(db, vec![m])
        .await?
        .pop()
        .ok_or_else(|| AppError::Internal("unit view".into()))
}

impl From<unit::Model> for UnitView {
    fn from(m: unit::Model) -> Self {
        UnitView {
            id: m.id,
            kind: UnitKind::parse(&m.kind),
            code: m.code,
            registration_code: m.registration_code,
            name: m.name,
            parent_id: m.parent_id,
            address: m.address,
            accountant_name: m.accountant_name,
            accountant_phone: m.accountant_phone,
            accountant_email: m.accountant_email,
            active: m.active,
            ward: None,
            province: None,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

/// Filters of the unit list.
#[derive(Debug, Clone, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UnitFilter {
    /// Only units of this kind.
    pub kind: Option<UnitKind>,
    /// Text searched in code and name, ignoring case and Vietnamese diacritics (`truong` finds «Trường», `dang` finds «Đảng»).
    #[validate(length(max = 100))]
    #[param(max_length = 100)]
    pub q: Option<String>,
    /// Only active (`true`) or inactive (`false`) units.
    pub active: Option<bool>,
}

fn duplicate_code() -> AppError {
    AppError::new(
        crate::error::Problem::Conflict,
        "Mã đơn vị có quan hệ với ngân sách (hoặc mã đăng ký) đã được dùng cho một đơn vị khác.",
        "The budget relationship code (or registration code) is already used by another unit.",
    )
}

/// The 404 of a unit that does not exist, or that the caller may not see: one body for both.
pub fn not_found() -> AppError {
    AppError::not_found("đơn vị", "Unit")
}

/// Loads a unit that may be written to, or fails: 404 when it does not exist, 409 when it was
/// deactivated. A deactivated unit is read-only (issue 15 point 8): every write to its data —
/// assets created, changed or deleted, files imported, reports submitted — calls this first.
/// On PostgreSQL the row is share-locked until the caller's transaction ends, so a concurrent
/// deactivation waits for the write (or the write sees the deactivation); SQLite has one writer.
pub async fn ensure_writable(db: &impl ConnectionTrait, id: i64) -> AppResult<unit::Model> {
    let u = unit::Entity::find_by_id(id)
        .lock_shared()
        .one(db)
        .await?
        .ok_or_else(not_found)?;
    if !u.active {
        return Err(AppError::new(
            crate::error::Problem::UnitInactive,
            format!(
                "Đơn vị «{}» đã ngừng hoạt động: dữ liệu chỉ còn để xem, không thêm, sửa, xóa tài sản, nhập tệp hay gửi báo cáo được nữa.",
                u.name
            ),
            format!(
                "Unit \"{}\" is inactive: its data can still be read, but no asset can be added, changed or deleted, no file imported and no report submitted.",
                u.name
            ),
        ));
    }
    Ok(u)
}

/// Loads a unit or fails with 404.
pub async fn get(db: &impl ConnectionTrait, id: i64) -> AppResult<unit::Model> {
    unit::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(not_found)
}

async fn check_parent(db: &impl ConnectionTrait, id: Option<i64>, parent_id: i64) -> AppResult<()> {
    let mut cursor = Some(parent_id);
    let mut hops = 0;
    while let Some(p) = cursor {
        if Some(p) == id || hops > 64 {
            return Err(AppError::field(
                "parent_id",
                "cycle",
                "Đơn vị cấp trên không được là chính đơn vị này hoặc đơn vị trực thuộc nó",
                "The superior unit cannot be the unit itself or one of its subordinates",
            ));
        }
        let parent = unit::Entity::find_by_id(p).one(db).await?.ok_or_else(|| {
            AppError::field(
                "parent_id",
                "not_found",
                "Không có đơn vị cấp trên này",
                "No such superior unit",
            )
        })?;
        cursor = parent.parent_id;
        hops += 1;
    }
    Ok(())
}

/// Creates a unit.
pub async fn create(state: &AppState, actor: &Actor, input: NewUnit) -> AppResult<UnitView> {
    let now = state.clock.now();
    let tx = state.db.begin().await?;
    if let Some(p) = input.parent_id {
        check_parent(&tx, None, p).await?;
    }
    let ward = match input.ward_code.as_deref() {
        Some(code) => Some(tree::ward_for(&tx, "ward_code", code).await?),
        None => None,
    };
    let search = search::key(&input.code, input.name.trim());
    let model = unit::ActiveModel {
        code: Set(input.code),
        registration_code: Set(input.registration_code),
        name: Set(input.name.trim().to_string()),
        kind: Set(input.kind.as_str().to_string()),
        parent_id: Set(input.parent_id),
        address: Set(input.address),
        accountant_name: Set(input.accountant_name),
        accountant_phone: Set(input.accountant_phone),
        accountant_email: Set(input.accountant_email),
        active: Set(true),
        ward_id: Set(ward.as_ref().map(|w| w.id)),
        province_id: Set(ward.as_ref().and_then(|w| w.parent_id)),
        search: Set(search),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&tx)
    .await
    .on_unique(duplicate_code)?;
    let view = view(&tx, model).await?;
    Event::new("create", "unit", view.id)
        .unit(view.id)
        .after(&view)
        .record(&tx, actor, now)
        .await?;
    tx.commit().await?;
    Ok(view)
}

/// Changes a unit.
pub async fn update(
    state: &AppState,
    actor: &Actor,
    id: i64,
    patch: UnitPatch,
) -> AppResult<UnitView> {
    patch.check_nullable()?;
    let now = state.clock.now();
    let tx = state.db.begin().await?;
    let current = get(&tx, id).await?;
    let before = view(&tx, current.clone()).await?;
    if let Some(Some(p)) = patch.parent_id {
        check_parent(&tx, Some(id), p).await?;
    }
    // The ward it moves to, if the patch names one other than its own.
    let moved = match patch.ward_code.as_ref() {
        None => None,
        Some(None) => Some((None, None)),
        Some(Some(code)) => {
            let w = tree::ward_for(&tx, "ward_code", code).await?;
            Some((Some(w.id), w.parent_id))
        }
    }
    .filter(|(ward, _)| *ward != current.ward_id);
    let mut m: unit::ActiveModel = current.into();
    if let Some((ward, province)) = moved {
        m.ward_id = Set(ward);
        m.province_id = Set(province);
    }
    if let Some(v) = patch.code {
        m.code = Set(v);
    }
    if let Some(v) = patch.registration_code {
        m.registration_code = Set(v);
    }
    if let Some(v) = patch.name {
        m.name = Set(v.trim().to_string());
    }
    if let Some(v) = patch.kind {
        m.kind = Set(v.as_str().to_string());
    }
    if let Some(v) = patch.parent_id {
        m.parent_id = Set(v);
    }
    // The optional texts: a value sets the field (null clears it), absence keeps it.
    for (field, v) in [
        (&mut m.address, patch.address),
        (&mut m.accountant_name, patch.accountant_name),
        (&mut m.accountant_phone, patch.accountant_phone),
        (&mut m.accountant_email, patch.accountant_email),
    ] {
        if let Some(v) = v {
            *field = Set(v);
        }
    }
    if let Some(v) = patch.active {
        m.active = Set(v);
    }
    if let (Some(code), Some(name)) = (m.code.try_as_ref(), m.name.try_as_ref()) {
        m.search = Set(search::key(code, name));
    }
    m.updated_at = Set(now);
    let updated = m.update(&tx).await.on_unique(duplicate_code)?;
    let view = view(&tx, updated).await?;
    if let Some((_, province)) = moved {
        move_rows(&tx, id, province).await?;
        let place = |v: &UnitView| serde_json::json!({"ward": v.ward, "province": v.province});
        let code = |p: &Option<Place>| p.as_ref().map_or("—".to_string(), |p| p.code.clone());
        Event::new("move", "unit", id)
            .unit(id)
            .before_json(place(&before))
            .after_json(place(&view))
            .detail(format!("{} → {}", code(&before.ward), code(&view.ward)))
            .record(&tx, actor, now)
            .await?;
    }
    Event::new("update", "unit", id)
        .unit(id)
        .before(&before)
        .after(&view)
        .record(&tx, actor, now)
        .await?;
    tx.commit().await?;
    Ok(view)
}

/// Keeps the distribution key of every row under a unit in step with the unit's province
/// after a move: its registrations, reports, assets and report snapshots, in the caller's
/// transaction (the unit keeps its id, so its history stays whole).
async fn move_rows(
    db: &impl ConnectionTrait,
    unit_id: i64,
    province: Option<i64>,
) -> AppResult<()> {
    use sea_orm::sea_query::{Expr, Query};
    registration::Entity::update_many()
        .col_expr(registration::Column::ProvinceId, Expr::value(province))
        .filter(registration::Column::UnitId.eq(unit_id))
        .exec(db)
        .await?;
    report::Entity::update_many()
        .col_expr(report::Column::ProvinceId, Expr::value(province))
        .filter(report::Column::UnitId.eq(unit_id))
        .exec(db)
        .await?;
    asset::Entity::update_many()
        .col_expr(asset::Column::ProvinceId, Expr::value(province))
        .filter(asset::Column::UnitId.eq(unit_id))
        .exec(db)
        .await?;
    report_snapshot::Entity::update_many()
        .col_expr(report_snapshot::Column::ProvinceId, Expr::value(province))
        .filter(
            report_snapshot::Column::ReportId.in_subquery(
                Query::select()
                    .column(report::Column::Id)
                    .from(report::Entity)
                    .and_where(report::Column::UnitId.eq(unit_id))
                    .take(),
            ),
        )
        .exec(db)
        .await?;
    Ok(())
}

/// Whether any row of `column`'s table has `column` = `id`.
async fn any<C>(db: &impl ConnectionTrait, column: C, id: i64) -> AppResult<bool>
where
    C: ColumnTrait,
    C::EntityName: EntityTrait,
    <C::EntityName as EntityTrait>::Model: Sync,
{
    Ok(C::EntityName::find()
        .filter(column.eq(id))
        .count(db)
        .await?
        > 0)
}

/// Deletes a unit that holds no data; a unit with data must be deactivated instead.
pub async fn delete(state: &AppState, actor: &Actor, id: i64) -> AppResult<()> {
    let now = state.clock.now();
    let tx = state.db.begin().await?;
    let current = get(&tx, id).await?;
    let has_data = any(&tx, registration::Column::UnitId, id).await?
        || any(&tx, asset::Column::UnitId, id).await?
        || any(&tx, user_unit::Column::UnitId, id).await?
        || any(&tx, unit::Column::ParentId, id).await?;
    if has_data {
        return Err(AppError::conflict(
            "Đơn vị đã có dữ liệu (đăng ký, tài sản, tài khoản hoặc đơn vị trực thuộc) nên không thể xóa; hãy ngừng hoạt động đơn vị bằng «active»: false.",
            "The unit has data (registrations, assets, accounts or subordinate units) and cannot be deleted; deactivate it with \"active\": false.",
        ));
    }
    Event::new("delete", "unit", id)
        .before(&UnitView::from(current))
        .record(&tx, actor, now)
        .await?;
    unit::Entity::delete_by_id(id).exec(&tx).await?;
    tx.commit().await?;
    Ok(())
}

/// The units a scope covers, as a condition on `units` (see [`crate::tree::unit_condition`]).
pub fn scope_condition(scope: &Scope) -> Condition {
    tree::unit_condition(scope)
}

/// Whether `scope` covers this unit.
pub fn in_scope(scope: &Scope, u: &unit::Model) -> bool {
    tree::covers(scope, u)
}

/// Lists the units the caller may see.
pub async fn list(
    state: &AppState,
    actor: &Actor,
    filter: &UnitFilter,
    page: &PageQuery,
) -> AppResult<Page<UnitView>> {
    let mut cond = scope_condition(&actor.scope);
    if let Some(k) = filter.kind {
        cond = cond.add(unit::Column::Kind.eq(k.as_str()));
    }
    if let Some(a) = filter.active {
        cond = cond.add(unit::Column::Active.eq(a));
    }
    if let Some(q) = filter.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        // Code and name, folded like the query (`search::fold`): "truong" finds "Trường".
        let pattern = LikeExpr::new(search::contains_pattern(q)).escape('\\');
        cond = cond.add(unit::Column::Search.like(pattern));
    }
    let query = unit::Entity::find().filter(cond);
    let total = query.clone().count(&state.db).await?;
    let items = query
        .order_by_asc(unit::Column::Code)
        .offset(page.offset())
        .limit(page.per_page())
        .all(&state.db)
        .await?;
    let items = view_all(&state.db, items).await?;
    Ok(Page::new(items, page, total))
}

/// The units with these ids (any order; ids that do not exist are left out).
pub async fn by_ids(db: &impl ConnectionTrait, ids: &[i64]) -> AppResult<Vec<unit::Model>> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    Ok(unit::Entity::find()
        .filter(unit::Column::Id.is_in(ids.to_vec()))
        .order_by_asc(unit::Column::Code)
        .all(db)
        .await?)
}

/// The units with these budget relationship codes, and the codes no unit has.
pub async fn by_codes(
    db: &impl ConnectionTrait,
    codes: &[String],
) -> AppResult<(Vec<unit::Model>, Vec<String>)> {
    if codes.is_empty() {
        return Ok((vec![], vec![]));
    }
    let found = unit::Entity::find()
        .filter(unit::Column::Code.is_in(codes.to_vec()))
        .order_by_asc(unit::Column::Code)
        .all(db)
        .await?;
    let missing = codes
        .iter()
        .filter(|c| !found.iter().any(|u| &u.code == *c))
        .cloned()
        .collect();
    Ok((found, missing))
}
