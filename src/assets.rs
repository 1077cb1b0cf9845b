//! The asset register: every record a unit enters, checked against its form
//! definition on every write, versioned for safe concurrent edits, audited in
//! the same transaction, and summed into the unit's report as it changes.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, Order, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set, TransactionTrait, sea_query::LikeExpr,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::{
    audit::Event,
    auth::Actor,
    campaigns,
    entities::{asset, audit_event, campaign, report},
    error::{AppError, AppResult, FieldError, Lang, OnUnique},
    forms::{Form, Record, Value, record},
    pagination::{Page, PageQuery},
    reports, search, shard,
    state::AppState,
    units,
};

/// A stored asset as the API shows it: common fields at the top, the form's own under `fields`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AssetView {
    /// Id.
    pub id: i64,
    /// Campaign.
    pub campaign_id: i64,
    /// Unit.
    pub unit_id: i64,
    /// Asset type code (`01` … `19`).
    pub asset_type: String,
    /// Form code (`01a` …).
    pub form_code: String,
    /// Version, to send back in `If-Match` (or `version`) when changing the asset.
    pub version: i32,
    /// Common fields (see the form definition), and `fields`: the form's own fields.
    #[schema(value_type = Object)]
    #[serde(flatten)]
    pub values: Map<String, Json>,
    /// Created (UTC).
    pub created_at: DateTime<Utc>,
    /// Last changed (UTC).
    pub updated_at: DateTime<Utc>,
}

fn view(form: &Form, m: &asset::Model) -> AssetView {
    AssetView {
        id: m.id,
        campaign_id: m.campaign_id,
        unit_id: m.unit_id,
        asset_type: m.type_code.clone(),
        form_code: m.form_code.clone(),
        version: m.version,
        values: record::record_json(&record::record_of(form, m)),
        created_at: m.created_at,
        updated_at: m.updated_at,
    }
}

/// Reads a JSON body into a record, collecting every unreadable field.
/// Keys present with `null` are returned in `cleared`.
fn parse_body(
    form: &Form,
    body: &Json,
    skip: &[&str],
) -> Result<(Record, Vec<String>), Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut record = Record::new();
    let mut cleared = Vec::new();
    let lang = Lang::current();
    let Some(obj) = body.as_object() else {
        return Err(vec![FieldError::new(
            "",
            "type",
            "Nội dung phải là một đối tượng JSON",
            "The body must be a JSON object",
        )]);
    };
    let mut entries: Vec<(String, String, &Json)> = Vec::new();
    for (k, v) in obj {
        if skip.contains(&k.as_str()) {
            continue;
        }
        if k == "fields" {
            match v.as_object() {
                Some(inner) => entries.extend(
                    inner
                        .iter()
                        .map(|(ik, iv)| (ik.clone(), format!("fields.{ik}"), iv)),
                ),
                None if v.is_null() => {}
                None => errors.push(FieldError::new(
                    "fields",
                    "type",
                    "«fields» phải là một đối tượng",
                    "\"fields\" must be an object",
                )),
            }
        } else {
            entries.push((k.clone(), k.clone(), v));
        }
    }
    for (key, path, v) in entries {
        let known = form
            .field(&key)
            .filter(|_| Form::is_core(&key) != path.starts_with("fields."));
        let Some(field) = known else {
            let misplaced = form.field(&key).is_some();
            if misplaced && !path.starts_with("fields.") {
                errors.push(FieldError::new(
                    &path,
                    "not_under_fields",
                    &format!(
                        "«{key}» là trường riêng của mẫu {}: đặt nó trong «fields», ví dụ {{\"fields\": {{\"{key}\": …}}}}",
                        form.code
                    ),
                    &format!(
                        "\"{key}\" is a field of form {} of its own: put it under \"fields\", e.g. {{\"fields\": {{\"{key}\": …}}}}",
                        form.code
                    ),
                ));
                continue;
            }
            if misplaced {
                errors.push(FieldError::new(
                    &path,
                    "not_at_top_level",
                    &format!("«{key}» là trường chung: đặt nó ở cấp trên cùng, ngoài «fields»"),
                    &format!(
                        "\"{key}\" is a common field: put it at the top level, outside \"fields\""
                    ),
                ));
                continue;
            }
            errors.push(FieldError::new(
                &path,
                "unknown_field",
                &format!("Mẫu {} không có trường «{path}»", form.code),
                &format!("Form {} has no field \"{path}\"", form.code),
            ));
            continue;
        };
        match Value::from_json(field, v) {
            Ok(Some(value)) => {
                record.insert(key, value);
            }
            Ok(None) => cleared.push(key),
            Err(e) => errors.push(FieldError {
                field: path,
                code: e.code.to_string(),
                message: e.message.get(lang).to_string(),
            }),
        }
    }
    if errors.is_empty() {
        Ok((record, cleared))
    } else {
        Err(errors)
    }
}

fn duplicate_code(code: &str) -> AppError {
    AppError::new(
        crate::error::Problem::Conflict,
        format!("Mã tài sản «{code}» đã có trong đơn vị ở đợt kiểm kê này."),
        format!("Asset code \"{code}\" already exists in this unit and campaign."),
    )
}

/// Everything needed to write one record.
pub struct Target<'a> {
    /// Campaign.
    pub campaign: &'a campaign::Model,
    /// Unit.
    pub unit_id: i64,
    /// Form of the record.
    pub form: &'a Form,
}

/// Inserts a checked record inside the caller's transaction: report totals and audit included.
pub async fn insert_record(
    db: &impl ConnectionTrait,
    actor: &Actor,
    now: DateTime<Utc>,
    t: &Target<'_>,
    report: &report::Model,
    record: &Record,
) -> AppResult<asset::Model> {
    let mut a = asset::ActiveModel {
        campaign_id: Set(t.campaign.id),
        unit_id: Set(t.unit_id),
        // The distribution key: the report's, which is the unit's province.
        province_id: Set(report.province_id),
        type_code: Set(t.form.asset_type.code.clone()),
        form_code: Set(t.form.code.clone()),
        version: Set(1),
        created_by: Set(actor.audit_id()),
        updated_by: Set(actor.audit_id()),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    record::fill(t.form, record, &mut a);
    let code = record::text(record, "code").unwrap_or_default();
    let m = a.insert(db).await.on_unique(|| duplicate_code(&code))?;
    reports::add_to_report(db, report.id, &m, 1, now).await?;
    Event::new("create", "asset", m.id)
        .campaign(t.campaign.id)
        .unit(t.unit_id)
        .after_json(Json::Object(record::record_json(record)))
        .record(db, actor, now)
        .await?;
    Ok(m)
}

/// The asset type of a new asset: the body's `asset_type`, or, when the body names none, the
/// one type the unit registered for the campaign.
async fn asset_type_of(
    db: &impl ConnectionTrait,
    campaign_id: i64,
    unit_id: i64,
    body: &Json,
) -> AppResult<String> {
    if let Some(t) = body.get("asset_type").and_then(Json::as_str) {
        return Ok(t.to_string());
    }
    let mut registered: Vec<String> = reports::of_unit(db, campaign_id, unit_id)
        .await?
        .into_iter()
        .map(|r| r.type_code)
        .collect();
    registered.sort();
    match registered.as_slice() {
        [only] => Ok(only.clone()),
        [] => Err(AppError::field(
            "asset_type",
            "required",
            "Chưa chọn loại tài sản («asset_type», ví dụ \"01\")",
            "\"asset_type\" is required, e.g. \"01\"",
        )),
        many => {
            let list = many.join(", ");
            Err(AppError::field(
                "asset_type",
                "required",
                &format!(
                    "Đơn vị đăng ký nhiều loại tài sản ({list}): ghi rõ «asset_type», ví dụ \"{}\"",
                    many[0]
                ),
                &format!(
                    "The unit registered several asset types ({list}): name one in \"asset_type\", e.g. \"{}\"",
                    many[0]
                ),
            ))
        }
    }
}

/// Creates an asset from a JSON body.
pub async fn create(
    state: &AppState,
    actor: &Actor,
    campaign_id: i64,
    unit_id: i64,
    body: &Json,
) -> AppResult<AssetView> {
    let type_code = asset_type_of(&state.db, campaign_id, unit_id, body).await?;
    let form = state
        .forms
        .form_for_type(&type_code)
        .cloned()
        .ok_or_else(|| {
            AppError::field(
                "asset_type",
                "unknown_type",
                "Không có loại tài sản này trong danh mục 19 loại",
                "No such asset type among the 19",
            )
        })?;
    let (mut record, _) = parse_body(&form, body, &["asset_type"]).map_err(AppError::validation)?;
    let now = state.clock.now();
    let tx = state.db.begin().await?;
    let c = campaigns::get(&tx, campaign_id).await?;
    campaigns::ensure_open(&c)?;
    units::ensure_writable(&tx, unit_id).await?;
    let report = reports::report_for(&tx, campaign_id, unit_id, &type_code).await?;
    reports::ensure_editable(&report)?;
    let errors = record::check_record(&form, &mut record, c.cutoff_at, false);
    if !errors.is_empty() {
        return Err(AppError::validation(errors));
    }
    let target = Target {
        campaign: &c,
        unit_id,
        form: &form,
    };
    let m = insert_record(&tx, actor, now, &target, &report, &record).await?;
    tx.commit().await?;
    Ok(view(&form, &m))
}

/// The 404 of an asset that does not exist, or that belongs to a unit the caller may not see:
/// one body for both, so that nobody learns which ids exist elsewhere (issue 15 point 6).
pub fn not_found() -> AppError {
    AppError::not_found("tài sản", "Asset")
}

/// Loads an asset or fails with 404.
pub async fn get_model(db: &impl ConnectionTrait, id: i64) -> AppResult<asset::Model> {
    asset::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(not_found)
}

fn form_of<'a>(state: &'a AppState, m: &asset::Model) -> AppResult<&'a std::sync::Arc<Form>> {
    state.forms.form(&m.form_code).ok_or_else(|| {
        AppError::Internal(format!("asset {} has unknown form {}", m.id, m.form_code))
    })
}

/// One asset.
pub async fn get(state: &AppState, id: i64) -> AppResult<AssetView> {
    let m = get_model(&state.db, id).await?;
    Ok(view(form_of(state, &m)?, &m))
}

/// The 409 of a stale edit: who made the newer change, and when (Vietnam time).
async fn stale(db: &impl ConnectionTrait, id: i64) -> AppResult<AppError> {
    let current = get_model(db, id).await?;
    let who = match current.updated_by.or(current.created_by) {
        Some(uid) => crate::entities::user::Entity::find_by_id(uid)
            .one(db)
            .await?
            .map(|u| match u.full_name.trim() {
                n if n.is_empty() || n == u.username => u.username,
                n => format!("{n} ({})", u.username),
            }),
        None => None,
    };
    let when = current
        .updated_at
        .with_timezone(&crate::clock::vietnam())
        .format("%H:%M ngày %d/%m/%Y")
        .to_string();
    let when_en = current
        .updated_at
        .with_timezone(&crate::clock::vietnam())
        .format("%H:%M on %d/%m/%Y (UTC+7)")
        .to_string();
    let v = current.version;
    Ok(AppError::new(
        crate::error::Problem::StaleVersion,
        match &who {
            Some(w) => format!(
                "Tài sản đã được {w} sửa lúc {when} (phiên bản hiện tại {v}); hãy tải lại rồi sửa tiếp."
            ),
            None => format!(
                "Tài sản đã được sửa lúc {when} (phiên bản hiện tại {v}); hãy tải lại rồi sửa tiếp."
            ),
        },
        match &who {
            Some(w) => format!(
                "{w} changed the asset at {when_en} (current version {v}); reload it and try again."
            ),
            None => format!(
                "The asset was changed at {when_en} (current version {v}); reload it and try again."
            ),
        },
    ))
}

/// Changes an asset: the body's fields replace the stored ones (`null` clears), the
/// whole record is checked again, and `expected_version` must be the stored version.
pub async fn update(
    state: &AppState,
    actor: &Actor,
    id: i64,
    body: &Json,
    expected_version: Option<i32>,
) -> AppResult<AssetView> {
    let body_version = body
        .get("version")
        .and_then(Json::as_i64)
        .and_then(|v| i32::try_from(v).ok());
    let Some(expected) = expected_version.or(body_version) else {
        return Err(AppError::new(
            crate::error::Problem::PreconditionRequired,
            "Hãy gửi phiên bản tài sản đang sửa (tiêu đề «If-Match» hoặc trường «version») để tránh ghi đè thay đổi của người khác.",
            "Send the version being edited (\"If-Match\" header or \"version\" field) so that nobody's changes are overwritten.",
        ));
    };
    let now = state.clock.now();
    let tx = state.db.begin().await?;
    let current = get_model(&tx, id).await?;
    let form = form_of(state, &current)?.clone();
    if current.version != expected {
        return Err(stale(&tx, id).await?);
    }
    if body
        .get("asset_type")
        .and_then(Json::as_str)
        .is_some_and(|t| t != current.type_code)
    {
        return Err(AppError::field(
            "asset_type",
            "immutable",
            "Không đổi được loại tài sản; hãy xóa và nhập lại theo đúng mẫu",
            "The asset type cannot change; delete the asset and enter it on the right form",
        ));
    }
    let (changes, cleared) =
        parse_body(&form, body, &["version", "asset_type"]).map_err(AppError::validation)?;
    let (c, report) = writable(&tx, &current).await?;
    let before = record::record_of(&form, &current);
    let mut record = merge(&form, &before, changes, &cleared);
    let errors = record::check_record(&form, &mut record, c.cutoff_at, false);
    if !errors.is_empty() {
        return Err(AppError::validation(errors));
    }
    let mut a: asset::ActiveModel = current.clone().into();
    record::fill(&form, &record, &mut a);
    a.version = Set(current.version + 1);
    a.updated_at = Set(now);
    a.updated_by = Set(actor.audit_id());
    // The version in the WHERE clause makes a concurrent writer lose cleanly.
    let result = asset::Entity::update_many()
        .set(a)
        .filter(asset::Column::Id.eq(id))
        .filter(asset::Column::Version.eq(expected))
        .exec(&tx)
        .await
        .on_unique(|| duplicate_code(&record::text(&record, "code").unwrap_or_default()))?;
    if result.rows_affected != 1 {
        return Err(stale(&tx, id).await?);
    }
    let updated = get_model(&tx, id).await?;
    reports::add_to_report(&tx, report.id, &current, -1, now).await?;
    reports::add_to_report(&tx, report.id, &updated, 1, now).await?;
    Event::new("update", "asset", id)
        .campaign(updated.campaign_id)
        .unit(updated.unit_id)
        .before_json(Json::Object(record::record_json(&before)))
        .after_json(Json::Object(record::record_json(&record)))
        .record(&tx, actor, now)
        .await?;
    tx.commit().await?;
    Ok(view(&form, &updated))
}

/// The campaign and report of a stored asset, once both accept changes (open campaign, unlocked report).
async fn writable(
    db: &impl ConnectionTrait,
    m: &asset::Model,
) -> AppResult<(campaign::Model, report::Model)> {
    let c = campaigns::get(db, m.campaign_id).await?;
    campaigns::ensure_open(&c)?;
    units::ensure_writable(db, m.unit_id).await?;
    let report = reports::report_for(db, m.campaign_id, m.unit_id, &m.type_code).await?;
    reports::ensure_editable(&report)?;
    Ok((c, report))
}

/// Applies changes to a stored record: `cleared` keys are emptied, `changes` replace, and a
/// value derived from a changed input is dropped (to be derived again) unless it changes too.
pub fn merge(form: &Form, before: &Record, changes: Record, cleared: &[String]) -> Record {
    let mut record = before.clone();
    for k in cleared {
        record.remove(k);
    }
    for (derived, inputs) in derived_fields(form) {
        if inputs.iter().any(|k| changes.contains_key(k)) && !changes.contains_key(&derived) {
            record.remove(&derived);
        }
    }
    record.extend(changes);
    record
}

/// Fields a rule fills in, with the fields it reads.
fn derived_fields(form: &Form) -> Vec<(String, Vec<String>)> {
    use crate::forms::RuleKind;
    form.rules
        .iter()
        .filter(|r| matches!(r.kind, RuleKind::Difference | RuleKind::Sum))
        .filter_map(|r| {
            let (last, inputs) = r.fields.split_last()?;
            Some((last.clone(), inputs.to_vec()))
        })
        .collect()
}

/// Deletes an asset (its last state stays in the audit trail).
pub async fn delete(
    state: &AppState,
    actor: &Actor,
    id: i64,
    expected_version: Option<i32>,
) -> AppResult<()> {
    let now = state.clock.now();
    let tx = state.db.begin().await?;
    let current = get_model(&tx, id).await?;
    if expected_version.is_some_and(|v| v != current.version) {
        return Err(stale(&tx, id).await?);
    }
    let form = form_of(state, &current)?.clone();
    let (_, report) = writable(&tx, &current).await?;
    let gone = asset::Entity::delete_many()
        .filter(asset::Column::Id.eq(id))
        .filter(asset::Column::Version.eq(current.version))
        .exec(&tx)
        .await?;
    if gone.rows_affected != 1 {
        return Err(stale(&tx, id).await?);
    }
    reports::add_to_report(&tx, report.id, &current, -1, now).await?;
    let before = record::record_json(&record::record_of(&form, &current));
    Event::new("delete", "asset", id)
        .campaign(current.campaign_id)
        .unit(current.unit_id)
        .before_json(Json::Object(before))
        .record(&tx, actor, now)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Sort orders of the asset list.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema, Default)]
#[serde(rename_all = "snake_case")]
pub enum AssetSort {
    /// By asset code (default).
    #[default]
    Code,
    /// By name.
    Name,
    /// Largest original cost first.
    OriginalCostDesc,
    /// Most recently changed first.
    UpdatedDesc,
}

/// Filters of the asset list.
#[derive(Debug, Clone, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AssetFilter {
    /// Asset type code.
    #[param(pattern = "^[0-9]{2}$")]
    pub asset_type: Option<String>,
    /// Section code (`I` … `IV`).
    #[validate(length(max = 8))]
    #[param(max_length = 8)]
    pub section: Option<String>,
    /// Usage status code (`1` … `4`).
    #[validate(length(max = 2))]
    #[param(max_length = 2)]
    pub usage_status: Option<String>,
    /// Origin code.
    #[validate(length(max = 32))]
    #[param(max_length = 32)]
    pub origin: Option<String>,
    /// Text searched in code and name, ignoring case and Vietnamese diacritics (`truong` finds «Trường», `dang` finds «Đảng»).
    #[validate(length(max = 100))]
    #[param(max_length = 100)]
    pub q: Option<String>,
    /// Sort order.
    #[param(inline)]
    pub sort: Option<AssetSort>,
}

/// How [`list_counted`] counts the matches of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Count {
    /// Exactly (the API's `total`).
    Exact,
    /// Exactly up to this many matches (and at least past the page asked for); beyond, the
    /// total is a lower bound. A search over 100,000 records then stops counting early.
    AtLeast(u64),
}

/// One page of a unit's assets in a campaign.
pub async fn list(
    state: &AppState,
    campaign_id: i64,
    unit_id: i64,
    f: &AssetFilter,
    page: &PageQuery,
) -> AppResult<Page<AssetView>> {
    Ok(
        list_counted(state, campaign_id, unit_id, f, page, Count::Exact)
            .await?
            .0,
    )
}

/// One page of a unit's assets, and whether its `total` is exact (see [`Count`]).
///
/// A list narrowed by type alone is counted by the report's running count, kept by every
/// write (`apply_delta`). The page is found as ids first, walking one of the list indexes
/// (migration `m20261128_000002_list_indexes`) — a deep page skips index entries, not rows —
/// then its rows are read by id.
pub async fn list_counted(
    state: &AppState,
    campaign_id: i64,
    unit_id: i64,
    f: &AssetFilter,
    page: &PageQuery,
    count: Count,
) -> AppResult<(Page<AssetView>, bool)> {
    campaigns::get(&state.db, campaign_id).await?;
    let key = shard::of_unit(&state.db, unit_id).await?;
    let mut cond = Condition::all()
        .add(shard::matches(asset::Column::ProvinceId, key))
        .add(asset::Column::CampaignId.eq(campaign_id))
        .add(asset::Column::UnitId.eq(unit_id));
    if let Some(v) = &f.asset_type {
        cond = cond.add(asset::Column::TypeCode.eq(v.clone()));
    }
    if let Some(v) = &f.section {
        cond = cond.add(asset::Column::Section.eq(v.clone()));
    }
    if let Some(v) = &f.usage_status {
        cond = cond.add(asset::Column::UsageStatus.eq(v.clone()));
    }
    if let Some(v) = &f.origin {
        cond = cond.add(asset::Column::Origin.eq(v.clone()));
    }
    let q = f.q.as_deref().map(str::trim).filter(|q| !q.is_empty());
    if let Some(q) = q {
        // Code and name, folded like the query (`search::fold`): "dang" finds "Đảng".
        let pattern = LikeExpr::new(search::contains_pattern(q)).escape('\\');
        cond = cond.add(asset::Column::Search.like(pattern));
    }
    let query = asset::Entity::find().filter(cond);
    let by_type_only =
        f.section.is_none() && f.usage_status.is_none() && f.origin.is_none() && q.is_none();
    let ledger = match (&f.asset_type, by_type_only) {
        (Some(t), true) => reports::lookup(&state.db, campaign_id, unit_id, t)
            .await?
            .map(|r| u64::try_from(r.record_count).unwrap_or(0)),
        _ => None,
    };
    let (total, exact) = match (ledger, count) {
        (Some(n), _) => (n, true),
        (None, Count::Exact) => (query.clone().count(&state.db).await?, true),
        (None, Count::AtLeast(n)) => {
            let limit = std::cmp::max(n, page.offset().saturating_add(page.per_page()));
            let found = query
                .clone()
                .select_only()
                .column(asset::Column::Id)
                .limit(limit.saturating_add(1))
                .into_tuple::<i64>()
                .all(&state.db)
                .await?
                .len() as u64;
            (std::cmp::min(found, limit), found <= limit)
        }
    };
    // A page past the middle of an exactly counted list is read from the far end, in the
    // opposite order: the last page of 100,000 skips no index entry instead of 99,950.
    let (offset, per_page) = (page.offset(), page.per_page());
    let reverse = exact && offset < total && offset > total / 2;
    let (skip, take) = if reverse {
        let end = std::cmp::min(offset.saturating_add(per_page), total);
        (total - end, end - offset)
    } else {
        (offset, per_page)
    };
    let way = |forward: bool| if forward { Order::Asc } else { Order::Desc };
    let ordered = match f.sort.unwrap_or_default() {
        AssetSort::Code => query.order_by(asset::Column::Code, way(!reverse)),
        AssetSort::Name => query
            .order_by(asset::Column::Name, way(!reverse))
            .order_by(asset::Column::Id, way(!reverse)),
        AssetSort::OriginalCostDesc => query
            .order_by(asset::Column::OriginalCost, way(reverse))
            .order_by(asset::Column::Id, way(!reverse)),
        AssetSort::UpdatedDesc => query
            .order_by(asset::Column::UpdatedAt, way(reverse))
            .order_by(asset::Column::Id, way(reverse)),
    };
    let mut ids: Vec<i64> = ordered
        .select_only()
        .column(asset::Column::Id)
        .offset(skip)
        .limit(take)
        .into_tuple()
        .all(&state.db)
        .await?;
    if reverse {
        ids.reverse();
    }
    let mut models = asset::Entity::find()
        .filter(asset::Column::Id.is_in(ids.clone()))
        .all(&state.db)
        .await?;
    models.sort_by_key(|m| ids.iter().position(|id| *id == m.id));
    let mut items = Vec::with_capacity(models.len());
    for m in &models {
        items.push(view(form_of(state, m)?, m));
    }
    Ok((Page::new(items, page, total), exact))
}

/// One event in an asset's history.
#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryEntry {
    /// When (UTC).
    pub at: DateTime<Utc>,
    /// `create`, `update`, `delete`, `import`.
    pub action: String,
    /// Who.
    pub actor: Option<String>,
    /// The record before.
    #[schema(value_type = Option<Object>)]
    pub before: Option<Json>,
    /// The record after.
    #[schema(value_type = Option<Object>)]
    pub after: Option<Json>,
}

/// The audit trail of one asset, oldest first (also after it was deleted).
pub async fn history(state: &AppState, actor: &Actor, id: i64) -> AppResult<Vec<HistoryEntry>> {
    let events = audit_event::Entity::find()
        .filter(audit_event::Column::Entity.eq("asset"))
        .filter(audit_event::Column::EntityId.eq(id))
        .order_by_asc(audit_event::Column::Id)
        .all(&state.db)
        .await?;
    if events.is_empty() {
        return Err(not_found());
    }
    let mut units: Vec<i64> = events.iter().filter_map(|e| e.unit_id).collect();
    units.sort_unstable();
    units.dedup();
    for u in units {
        if !crate::tree::covers_unit(&state.db, &actor.scope, u).await? {
            return Err(not_found());
        }
    }
    Ok(events
        .into_iter()
        .map(|e| HistoryEntry {
            at: e.at,
            action: e.action,
            actor: e.actor_name,
            before: e.before,
            after: e.after,
        })
        .collect())
}
