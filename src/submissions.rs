//! Reports (báo cáo kiểm kê): one per unit, campaign and registered asset type,
//! moving `not_started → draft → submitted → returned → submitted → accepted`.
//!
//! Submitting checks every record against every rule (including the rules that
//! bind only at submission), then freezes an immutable snapshot with its SHA-256
//! digest. While a report is submitted or accepted its records cannot change
//! ([`crate::assets::ensure_editable`]); the finance office returns it to unlock them.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, TransactionTrait,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use validator::Validate;

use crate::{
    assets,
    audit::{self, Event},
    auth::Actor,
    campaigns, clock,
    entities::{asset, campaign, report, report_snapshot},
    error::{AppError, AppResult, FieldError},
    state::AppState,
    units,
};

/// Where a report stands.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ReportState {
    /// Registered, no record yet.
    NotStarted,
    /// Records being entered.
    Draft,
    /// Sent to the finance office; records locked.
    Submitted,
    /// Sent back for correction; records unlocked.
    Returned,
    /// Accepted by the finance office; records locked for good.
    Accepted,
}

impl ReportState {
    /// Every state, in workflow order.
    pub const ALL: [ReportState; 5] = [
        ReportState::NotStarted,
        ReportState::Draft,
        ReportState::Submitted,
        ReportState::Returned,
        ReportState::Accepted,
    ];

    /// The state of a stored report (`open` reads as not started or draft by its records).
    pub fn of(r: &report::Model) -> ReportState {
        ReportState::from_stored(&r.state, r.record_count)
    }

    /// The state from the stored `state` column and the record count.
    pub fn from_stored(state: &str, record_count: i64) -> ReportState {
        match state {
            "submitted" => ReportState::Submitted,
            "returned" => ReportState::Returned,
            "accepted" => ReportState::Accepted,
            _ if record_count > 0 => ReportState::Draft,
            _ => ReportState::NotStarted,
        }
    }

    /// Name as the API shows it.
    pub fn as_str(self) -> &'static str {
        match self {
            ReportState::NotStarted => "not_started",
            ReportState::Draft => "draft",
            ReportState::Submitted => "submitted",
            ReportState::Returned => "returned",
            ReportState::Accepted => "accepted",
        }
    }

    /// Vietnamese name, for messages and sheets.
    pub fn label_vi(self) -> &'static str {
        match self {
            ReportState::NotStarted => "chưa bắt đầu",
            ReportState::Draft => "đang nhập",
            ReportState::Submitted => "đã gửi",
            ReportState::Returned => "bị trả lại",
            ReportState::Accepted => "đã chấp nhận",
        }
    }

    /// Whether the unit has a report standing with the finance office.
    pub fn is_sent(self) -> bool {
        matches!(self, ReportState::Submitted | ReportState::Accepted)
    }
}

/// The deadline that binds a report: its extension, else the campaign's.
pub fn deadline(c: &campaign::Model, r: &report::Model) -> NaiveDate {
    r.extension_deadline.unwrap_or(c.submission_deadline)
}

/// Whether a report is overdue at `now`: its deadline has passed and it is not sent.
pub fn is_overdue(c: &campaign::Model, r: &report::Model, now: DateTime<Utc>) -> bool {
    !ReportState::of(r).is_sent() && !clock::on_time(now, deadline(c, r))
}

/// Whether a report was first sent on time (`None` while never sent).
pub fn sent_on_time(c: &campaign::Model, r: &report::Model) -> Option<bool> {
    r.first_submitted_at
        .map(|at| clock::on_time(at, deadline(c, r)))
}

/// A finance-office comment on one asset of a returned report.
#[derive(Debug, Clone, Serialize, Deserialize, Validate, ToSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AssetComment {
    /// Asset id.
    #[schema(minimum = 1)]
    pub asset_id: i64,
    /// What to correct.
    #[validate(length(min = 1, max = 1000))]
    #[schema(min_length = 1, max_length = 1000)]
    pub comment: String,
}

/// `POST …/submit` body.
#[derive(Debug, Clone, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmitRequest {
    /// `true`: the unit registered the type but holds no such asset (báo cáo không phát sinh).
    #[serde(default)]
    pub nil_return: bool,
}

/// `POST …/return` body.
#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReturnRequest {
    /// Why the report goes back.
    #[validate(length(min = 1, max = 2000))]
    #[schema(min_length = 1, max_length = 2000)]
    pub reason: String,
    /// Comments on individual assets, each naming its asset by id or by asset code.
    #[serde(default)]
    #[validate(length(max = 500), nested)]
    #[schema(max_items = 500)]
    pub comments: Vec<ReturnComment>,
}

/// A comment of a return: the asset named by `asset_id` or by `asset_code` (its code in the
/// unit, e.g. `XE-01`); stored and shown with the asset's id.
#[derive(Debug, Clone, Serialize, Deserialize, Validate, ToSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ReturnComment {
    /// Asset id.
    #[serde(default)]
    #[schema(minimum = 1)]
    pub asset_id: Option<i64>,
    /// Asset code (mã tài sản), instead of the id.
    #[serde(default)]
    #[validate(length(min = 1, max = 50))]
    #[schema(min_length = 1, max_length = 50)]
    pub asset_code: Option<String>,
    /// What to correct.
    #[validate(length(min = 1, max = 1000))]
    #[schema(min_length = 1, max_length = 1000)]
    pub comment: String,
}

/// `POST …/extension` body.
#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtensionRequest {
    /// New last local day to submit.
    pub deadline: NaiveDate,
    /// Why.
    #[validate(length(min = 1, max = 2000))]
    #[schema(min_length = 1, max_length = 2000)]
    pub reason: String,
}

/// One field that changed between two versions of a record.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct FieldChange {
    /// Field key (`fields.x` for a form's own field).
    pub field: String,
    /// Value before.
    #[schema(value_type = Option<Object>)]
    pub before: Option<Json>,
    /// Value after.
    #[schema(value_type = Option<Object>)]
    pub after: Option<Json>,
}

/// One record that changed.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct RecordChange {
    /// Asset code.
    pub code: String,
    /// Field-level changes.
    pub fields: Vec<FieldChange>,
}

/// What changed between two sets of records.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct Changes {
    /// Codes of records added.
    pub added: Vec<String>,
    /// Codes of records removed.
    pub removed: Vec<String>,
    /// Records changed, with their fields.
    pub changed: Vec<RecordChange>,
}

/// A report as the API shows it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ReportView {
    /// Id.
    pub id: i64,
    /// Campaign.
    pub campaign_id: i64,
    /// Unit.
    pub unit_id: i64,
    /// Asset type.
    pub asset_type: String,
    /// Form.
    pub form_code: String,
    /// State.
    pub state: ReportState,
    /// Sent as "nothing to report".
    pub nil_return: bool,
    /// Records.
    pub record_count: i64,
    /// Sum of original cost, đồng.
    pub original_cost: i64,
    /// Sum of depreciation, đồng.
    pub depreciation: i64,
    /// Sum of remaining value, đồng.
    pub remaining_value: i64,
    /// Deadline in force (local date).
    pub deadline: NaiveDate,
    /// Extension granted, if any.
    pub extension_deadline: Option<NaiveDate>,
    /// Why the extension was granted.
    pub extension_reason: Option<String>,
    /// First submission (UTC).
    pub first_submitted_at: Option<DateTime<Utc>>,
    /// Latest submission (UTC).
    pub submitted_at: Option<DateTime<Utc>>,
    /// Whether the first submission met the deadline.
    pub submitted_on_time: Option<bool>,
    /// Deadline passed and not sent.
    pub overdue: bool,
    /// Latest return (UTC).
    pub returned_at: Option<DateTime<Utc>>,
    /// Why it was returned.
    pub return_reason: Option<String>,
    /// Comments on assets.
    pub return_comments: Vec<AssetComment>,
    /// Acceptance (UTC).
    pub accepted_at: Option<DateTime<Utc>>,
    /// Digest of the latest snapshot.
    pub digest: Option<String>,
    /// Number of submissions so far.
    pub submissions: u64,
    /// Changes since the returned version: while returned, the edits so far; after a
    /// resubmission, between the last two snapshots.
    pub changes_since_returned: Option<Changes>,
}

fn view(
    c: &campaign::Model,
    r: &report::Model,
    now: DateTime<Utc>,
    digest: Option<String>,
    submissions: u64,
    changes: Option<Changes>,
) -> ReportView {
    ReportView {
        id: r.id,
        campaign_id: r.campaign_id,
        unit_id: r.unit_id,
        asset_type: r.type_code.clone(),
        form_code: r.form_code.clone(),
        state: ReportState::of(r),
        nil_return: r.nil_return,
        record_count: r.record_count,
        original_cost: r.original_cost_total,
        depreciation: r.depreciation_total,
        remaining_value: r.remaining_value_total,
        deadline: deadline(c, r),
        extension_deadline: r.extension_deadline,
        extension_reason: r.extension_reason.clone(),
        first_submitted_at: r.first_submitted_at,
        submitted_at: r.submitted_at,
        submitted_on_time: sent_on_time(c, r),
        overdue: is_overdue(c, r, now),
        returned_at: r.returned_at,
        return_reason: r.return_reason.clone(),
        return_comments: r
            .return_comments
            .clone()
            .and_then(|j| serde_json::from_value(j).ok())
            .unwrap_or_default(),
        accepted_at: r.accepted_at,
        digest,
        submissions,
        changes_since_returned: changes,
    }
}

/// The query for one unit's report of one asset type in a campaign.
pub fn report_query(
    campaign_id: i64,
    unit_id: i64,
    type_code: &str,
) -> sea_orm::Select<report::Entity> {
    report::Entity::find()
        .filter(report::Column::CampaignId.eq(campaign_id))
        .filter(report::Column::UnitId.eq(unit_id))
        .filter(report::Column::TypeCode.eq(type_code))
}

/// One unit's report of one asset type, or 404.
pub async fn find(
    db: &impl ConnectionTrait,
    campaign_id: i64,
    unit_id: i64,
    type_code: &str,
) -> AppResult<report::Model> {
    report_query(campaign_id, unit_id, type_code)
        .one(db)
        .await?
        .ok_or_else(|| missing(type_code))
}

fn missing(type_code: &str) -> AppError {
    AppError::not_found(
        &format!("báo cáo loại tài sản {type_code} của đơn vị (đơn vị chưa đăng ký loại này?)"),
        &format!("Report for asset type {type_code} (is the type registered?)"),
    )
}

/// [`find`] inside a transaction, locking the report row until it ends (`FOR UPDATE` on
/// PostgreSQL; SQLite's single connection serialises transactions anyway): a transition and
/// a record change of the same report then never interleave (see [`assets::report_for`]).
async fn find_for_update(
    db: &impl ConnectionTrait,
    campaign_id: i64,
    unit_id: i64,
    type_code: &str,
) -> AppResult<report::Model> {
    report_query(campaign_id, unit_id, type_code)
        .lock_exclusive()
        .one(db)
        .await?
        .ok_or_else(|| missing(type_code))
}

async fn snapshots(
    db: &impl ConnectionTrait,
    report_id: i64,
) -> AppResult<Vec<report_snapshot::Model>> {
    Ok(report_snapshot::Entity::find()
        .filter(report_snapshot::Column::ReportId.eq(report_id))
        .order_by_asc(report_snapshot::Column::Seq)
        .all(db)
        .await?)
}

/// The current records of a report, as the snapshot stores them: sorted by code.
async fn current_records(
    state: &AppState,
    db: &impl ConnectionTrait,
    r: &report::Model,
) -> AppResult<Vec<Json>> {
    let form = state.forms.form(&r.form_code).ok_or_else(|| {
        AppError::Internal(format!("report {} has unknown form {}", r.id, r.form_code))
    })?;
    let models = asset::Entity::find()
        .filter(asset::Column::CampaignId.eq(r.campaign_id))
        .filter(asset::Column::UnitId.eq(r.unit_id))
        .filter(asset::Column::TypeCode.eq(r.type_code.clone()))
        .order_by_asc(asset::Column::Code)
        .all(db)
        .await?;
    Ok(models
        .iter()
        .map(|m| {
            let mut j = assets::record_json(&assets::record_of(form, m));
            j.insert("asset_id".into(), Json::from(m.id));
            Json::Object(j)
        })
        .collect())
}

/// The snapshot payload of a list of records and its SHA-256 digest (hex).
fn seal(records: Vec<Json>) -> AppResult<(Json, String)> {
    let payload = Json::Array(records);
    let bytes = serde_json::to_vec(&payload).map_err(|e| AppError::Internal(e.to_string()))?;
    let digest = hex::encode(Sha256::digest(&bytes));
    Ok((payload, digest))
}

fn flatten(record: &Json) -> BTreeMap<String, Json> {
    let mut out = BTreeMap::new();
    if let Some(obj) = record.as_object() {
        for (k, v) in obj {
            match (k.as_str(), v) {
                ("asset_id", _) => {}
                ("fields", Json::Object(inner)) => {
                    for (ik, iv) in inner {
                        out.insert(format!("fields.{ik}"), iv.clone());
                    }
                }
                _ => {
                    out.insert(k.clone(), v.clone());
                }
            }
        }
    }
    out
}

/// Added, removed and changed records (field by field) between two record lists, keyed by asset code.
pub fn diff(before: &[Json], after: &[Json]) -> Changes {
    let key = |r: &Json| r["code"].as_str().unwrap_or_default().to_string();
    let old: BTreeMap<String, &Json> = before.iter().map(|r| (key(r), r)).collect();
    let new: BTreeMap<String, &Json> = after.iter().map(|r| (key(r), r)).collect();
    let mut changes = Changes::default();
    for (code, r) in &new {
        match old.get(code) {
            None => changes.added.push(code.clone()),
            Some(o) => {
                let (a, b) = (flatten(o), flatten(r));
                let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
                keys.sort();
                keys.dedup();
                let fields: Vec<FieldChange> = keys
                    .into_iter()
                    .filter(|k| a.get(*k) != b.get(*k))
                    .map(|k| FieldChange {
                        field: k.clone(),
                        before: a.get(k).cloned(),
                        after: b.get(k).cloned(),
                    })
                    .collect();
                if !fields.is_empty() {
                    changes.changed.push(RecordChange {
                        code: code.clone(),
                        fields,
                    });
                }
            }
        }
    }
    changes.removed = old
        .keys()
        .filter(|c| !new.contains_key(*c))
        .cloned()
        .collect();
    changes
}

fn records_of(s: &report_snapshot::Model) -> Vec<Json> {
    s.records.as_array().cloned().unwrap_or_default()
}

async fn full_view(
    state: &AppState,
    db: &impl ConnectionTrait,
    c: &campaign::Model,
    r: &report::Model,
) -> AppResult<ReportView> {
    let snaps = snapshots(db, r.id).await?;
    let now = state.clock.now();
    let changes = match (ReportState::of(r), snaps.as_slice()) {
        (ReportState::Returned, [.., last]) => Some(diff(
            &records_of(last),
            &current_records(state, db, r).await?,
        )),
        (ReportState::Submitted | ReportState::Accepted, [.., prev, last]) => {
            Some(diff(&records_of(prev), &records_of(last)))
        }
        _ => None,
    };
    Ok(view(
        c,
        r,
        now,
        snaps.last().map(|s| s.digest.clone()),
        snaps.len() as u64,
        changes,
    ))
}

/// One report in full, with the changes since it was returned.
pub async fn get(
    state: &AppState,
    campaign_id: i64,
    unit_id: i64,
    type_code: &str,
) -> AppResult<ReportView> {
    let c = campaigns::get(&state.db, campaign_id).await?;
    let r = find(&state.db, campaign_id, unit_id, type_code).await?;
    full_view(state, &state.db, &c, &r).await
}

/// Every report of a unit in a campaign (summary: no change lists).
pub async fn list(state: &AppState, campaign_id: i64, unit_id: i64) -> AppResult<Vec<ReportView>> {
    let c = campaigns::get(&state.db, campaign_id).await?;
    let now = state.clock.now();
    let reports = report::Entity::find()
        .filter(report::Column::CampaignId.eq(campaign_id))
        .filter(report::Column::UnitId.eq(unit_id))
        .order_by_asc(report::Column::TypeCode)
        .all(&state.db)
        .await?;
    let mut out = Vec::with_capacity(reports.len());
    for r in &reports {
        let count = report_snapshot::Entity::find()
            .filter(report_snapshot::Column::ReportId.eq(r.id))
            .count(&state.db)
            .await?;
        out.push(view(&c, r, now, None, count, None));
    }
    Ok(out)
}

fn illegal(r: &report::Model, action_vi: &str, action_en: &str) -> AppError {
    let s = ReportState::of(r);
    AppError::new(
        crate::error::Problem::InvalidState,
        format!(
            "Báo cáo mẫu {} đang ở trạng thái «{}» ({}), không thể {action_vi}.",
            r.form_code,
            s.label_vi(),
            s.as_str()
        ),
        format!(
            "The form {} report is {}; it cannot be {action_en}.",
            r.form_code,
            s.as_str()
        ),
    )
}

/// Checks that every record passes every rule, including those binding at submission.
fn readiness(
    state: &AppState,
    c: &campaign::Model,
    r: &report::Model,
    records: &[asset::Model],
) -> Vec<FieldError> {
    let Some(form) = state.forms.form(&r.form_code) else {
        return vec![];
    };
    let mut problems = Vec::new();
    for m in records {
        let mut record = assets::record_of(form, m);
        for e in assets::check_record(form, &mut record, c.cutoff_at, true) {
            problems.push(FieldError {
                field: format!("assets[{}].{}", m.code, e.field),
                code: e.code,
                message: e.message,
            });
        }
    }
    problems
}

/// The readiness check alone, writing nothing: every problem that would stop a submission
/// of this report now (the web page "Gửi báo cáo" lists them before the button).
pub async fn check_ready(
    state: &AppState,
    campaign_id: i64,
    unit_id: i64,
    type_code: &str,
) -> AppResult<Vec<FieldError>> {
    let c = campaigns::get(&state.db, campaign_id).await?;
    let r = find(&state.db, campaign_id, unit_id, type_code).await?;
    let models = asset::Entity::find()
        .filter(asset::Column::CampaignId.eq(campaign_id))
        .filter(asset::Column::UnitId.eq(unit_id))
        .filter(asset::Column::TypeCode.eq(type_code))
        .order_by_asc(asset::Column::Code)
        .all(&state.db)
        .await?;
    Ok(readiness(state, &c, &r, &models))
}

/// Submits a report: readiness check, then an immutable snapshot with its digest.
pub async fn submit(
    state: &AppState,
    actor: &Actor,
    campaign_id: i64,
    unit_id: i64,
    type_code: &str,
    req: &SubmitRequest,
) -> AppResult<ReportView> {
    let now = state.clock.now();
    let tx = state.db.begin().await?;
    let c = campaigns::get(&tx, campaign_id).await?;
    units::ensure_writable(&tx, unit_id).await?;
    let r = find_for_update(&tx, campaign_id, unit_id, type_code).await?;
    if ReportState::of(&r) == ReportState::Submitted
        && let Some(v) = resubmission(state, &tx, &c, &r, req).await?
    {
        tx.commit().await?;
        return Ok(v);
    }
    campaigns::ensure_open(&c)?;
    if !matches!(
        ReportState::of(&r),
        ReportState::NotStarted | ReportState::Draft | ReportState::Returned
    ) {
        return Err(illegal(&r, "gửi lại", "submitted again"));
    }
    let models = asset::Entity::find()
        .filter(asset::Column::CampaignId.eq(campaign_id))
        .filter(asset::Column::UnitId.eq(unit_id))
        .filter(asset::Column::TypeCode.eq(type_code))
        .order_by_asc(asset::Column::Code)
        .all(&tx)
        .await?;
    match (req.nil_return, models.is_empty()) {
        (true, false) => {
            return Err(AppError::field(
                "nil_return",
                "has_records",
                &format!(
                    "Báo cáo «không phát sinh» chỉ gửi được khi không có tài sản; hiện có {} tài sản.",
                    models.len()
                ),
                &format!(
                    "A nil return needs an empty report; this one holds {} asset(s).",
                    models.len()
                ),
            ));
        }
        (false, true) => {
            return Err(AppError::field(
                "nil_return",
                "empty",
                "Báo cáo chưa có tài sản nào; nếu đơn vị không có tài sản loại này, hãy gửi báo cáo không phát sinh («nil_return»: true).",
                "The report holds no asset; if the unit has none of this type, send a nil return (\"nil_return\": true).",
            ));
        }
        _ => {}
    }
    let problems = readiness(state, &c, &r, &models);
    if !problems.is_empty() {
        return Err(AppError::validation(problems));
    }
    let (payload, digest) = seal(current_records(state, &tx, &r).await?)?;
    let seq = snapshots(&tx, r.id).await?.len() as i32 + 1;
    report_snapshot::ActiveModel {
        report_id: Set(r.id),
        seq: Set(seq),
        submitted_at: Set(now),
        submitted_by: Set(actor.audit_id()),
        digest: Set(digest.clone()),
        records: Set(payload),
        ..Default::default()
    }
    .insert(&tx)
    .await?;
    let updated = transition(
        &tx,
        &r,
        Step {
            actor,
            now,
            action: "submit",
            detail: Some(format!("digest {digest}")),
        },
        |a| {
            a.state = Set("submitted".into());
            a.nil_return = Set(req.nil_return);
            a.submitted_at = Set(Some(now));
            if r.first_submitted_at.is_none() {
                a.first_submitted_at = Set(Some(now));
            }
        },
    )
    .await?;
    let v = full_view(state, &tx, &c, &updated).await?;
    tx.commit().await?;
    Ok(v)
}

/// A submission of a report that is already submitted with exactly these records — a
/// double click, or a retry after a lost answer: the same report again, with no new
/// snapshot and no audit event. `None` when the records (or the nil-return flag) differ
/// from the last snapshot, which the caller refuses as an illegal transition.
async fn resubmission(
    state: &AppState,
    db: &impl ConnectionTrait,
    c: &campaign::Model,
    r: &report::Model,
    req: &SubmitRequest,
) -> AppResult<Option<ReportView>> {
    if req.nil_return != r.nil_return {
        return Ok(None);
    }
    let Some(last) = snapshots(db, r.id).await?.pop() else {
        return Ok(None);
    };
    let (_, digest) = seal(current_records(state, db, r).await?)?;
    if digest != last.digest {
        return Ok(None);
    }
    Ok(Some(full_view(state, db, c, r).await?))
}

/// The SHA-256 digest of a report's current records, computed as a submission would
/// (for consistency checks: a locked report's records hash to its last snapshot).
pub async fn current_digest(state: &AppState, r: &report::Model) -> AppResult<String> {
    Ok(seal(current_records(state, &state.db, r).await?)?.1)
}

/// Who moves a report, when, and what the audit trail says about it.
struct Step<'a> {
    actor: &'a Actor,
    now: DateTime<Utc>,
    action: &'a str,
    detail: Option<String>,
}

/// Applies a change to a report, guarded by its version so that racing transitions cannot
/// both win, and records its audit event in the same transaction.
async fn transition(
    db: &impl ConnectionTrait,
    r: &report::Model,
    step: Step<'_>,
    change: impl FnOnce(&mut report::ActiveModel),
) -> AppResult<report::Model> {
    let now = step.now;
    let mut a: report::ActiveModel = r.clone().into();
    change(&mut a);
    a.version = Set(r.version + 1);
    a.updated_at = Set(now);
    let res = report::Entity::update_many()
        .set(a)
        .filter(report::Column::Id.eq(r.id))
        .filter(report::Column::Version.eq(r.version))
        .exec(db)
        .await?;
    if res.rows_affected != 1 {
        return Err(AppError::conflict(
            "Báo cáo vừa được người khác thay đổi; hãy tải lại.",
            "The report was just changed by someone else; reload it.",
        ));
    }
    let updated = report::Entity::find_by_id(r.id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::Internal("report vanished".into()))?;
    audit_report(db, step.actor, now, r, &updated, step.action, step.detail).await?;
    Ok(updated)
}

async fn audit_report(
    db: &impl ConnectionTrait,
    actor: &Actor,
    now: DateTime<Utc>,
    before: &report::Model,
    after: &report::Model,
    action: &str,
    detail: Option<String>,
) -> AppResult<()> {
    let snap = |r: &report::Model| {
        let mut m = Map::new();
        m.insert("asset_type".into(), Json::from(r.type_code.clone()));
        m.insert("state".into(), Json::from(ReportState::of(r).as_str()));
        m.insert("record_count".into(), Json::from(r.record_count));
        // A return's comments stay in its event, so the report's history shows every round.
        if r.state == "returned"
            && let Some(c) = &r.return_comments
        {
            m.insert("return_comments".into(), c.clone());
        }
        Json::Object(m)
    };
    audit::record(
        db,
        actor,
        now,
        Event {
            action,
            entity: "report",
            entity_id: Some(after.id),
            campaign_id: Some(after.campaign_id),
            unit_id: Some(after.unit_id),
            before: Some(snap(before)),
            after: Some(snap(after)),
            detail,
        },
    )
    .await
}

/// One step in a report's life, as its audit trail recorded it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReportEvent {
    /// When (UTC).
    pub at: DateTime<Utc>,
    /// Who.
    pub actor: Option<String>,
    /// `submit`, `return`, `accept` or `extension`.
    pub action: String,
    /// The reason given (return, extension).
    pub detail: Option<String>,
    /// A return's comments on assets.
    pub comments: Vec<AssetComment>,
}

/// The report's history: its submissions, returns (with their comments), acceptance and
/// extensions, oldest first.
pub async fn history(db: &impl ConnectionTrait, report_id: i64) -> AppResult<Vec<ReportEvent>> {
    use crate::entities::audit_event;
    let events = audit_event::Entity::find()
        .filter(audit_event::Column::Entity.eq("report"))
        .filter(audit_event::Column::EntityId.eq(report_id))
        .filter(audit_event::Column::Action.is_in(["submit", "return", "accept", "extension"]))
        .order_by_asc(audit_event::Column::At)
        .order_by_asc(audit_event::Column::Id)
        .all(db)
        .await?;
    Ok(events
        .into_iter()
        .map(|e| ReportEvent {
            comments: e
                .after
                .as_ref()
                .and_then(|a| a.get("return_comments"))
                .and_then(|c| serde_json::from_value(c.clone()).ok())
                .unwrap_or_default(),
            at: e.at,
            actor: e.actor_name,
            action: e.action,
            detail: e.detail,
        })
        .collect())
}

/// Returns a submitted report for correction, with a reason and comments on assets.
pub async fn return_report(
    state: &AppState,
    actor: &Actor,
    campaign_id: i64,
    unit_id: i64,
    type_code: &str,
    req: &ReturnRequest,
) -> AppResult<ReportView> {
    let now = state.clock.now();
    let tx = state.db.begin().await?;
    let c = campaigns::get(&tx, campaign_id).await?;
    let r = find_for_update(&tx, campaign_id, unit_id, type_code).await?;
    if ReportState::of(&r) != ReportState::Submitted {
        return Err(illegal(
            &r,
            "trả lại (chỉ trả lại báo cáo đã gửi)",
            "returned (only a submitted report can be)",
        ));
    }
    let ids: Vec<i64> = req.comments.iter().filter_map(|c| c.asset_id).collect();
    let codes: Vec<String> = req
        .comments
        .iter()
        .filter_map(|c| c.asset_code.as_ref().map(|s| s.trim().to_string()))
        .collect();
    let found = asset::Entity::find()
        .filter(
            sea_orm::Condition::any()
                .add(asset::Column::Id.is_in(ids))
                .add(asset::Column::Code.is_in(codes)),
        )
        .filter(asset::Column::CampaignId.eq(campaign_id))
        .filter(asset::Column::UnitId.eq(unit_id))
        .filter(asset::Column::TypeCode.eq(type_code))
        .all(&tx)
        .await?;
    let mut bad: Vec<FieldError> = Vec::new();
    let mut resolved: Vec<AssetComment> = Vec::new();
    for (i, cm) in req.comments.iter().enumerate() {
        match (cm.asset_id, cm.asset_code.as_deref().map(str::trim)) {
            (Some(id), None) => match found.iter().find(|a| a.id == id) {
                Some(a) => resolved.push(AssetComment {
                    asset_id: a.id,
                    comment: cm.comment.clone(),
                }),
                None => bad.push(FieldError::new(
                    format!("comments[{i}].asset_id"),
                    "not_found",
                    &format!("Tài sản {id} không thuộc báo cáo này"),
                    &format!("Asset {id} is not in this report"),
                )),
            },
            (None, Some(code)) => match found.iter().find(|a| a.code == code) {
                Some(a) => resolved.push(AssetComment {
                    asset_id: a.id,
                    comment: cm.comment.clone(),
                }),
                None => bad.push(FieldError::new(
                    format!("comments[{i}].asset_code"),
                    "not_found",
                    &format!("Báo cáo này không có tài sản mã «{code}»"),
                    &format!("This report has no asset with code \"{code}\""),
                )),
            },
            _ => bad.push(FieldError::new(
                format!("comments[{i}]"),
                "asset",
                "Mỗi ý kiến nêu đúng một trong «asset_id» hoặc «asset_code» (mã tài sản)",
                "Each comment names exactly one of \"asset_id\" or \"asset_code\" (the asset's code)",
            )),
        }
    }
    if !bad.is_empty() {
        return Err(AppError::validation(bad));
    }
    let comments =
        serde_json::to_value(&resolved).map_err(|e| AppError::Internal(e.to_string()))?;
    let updated = transition(
        &tx,
        &r,
        Step {
            actor,
            now,
            action: "return",
            detail: Some(req.reason.trim().to_string()),
        },
        |a| {
            a.state = Set("returned".into());
            a.returned_at = Set(Some(now));
            a.return_reason = Set(Some(req.reason.trim().to_string()));
            a.return_comments = Set(Some(comments));
        },
    )
    .await?;
    let v = full_view(state, &tx, &c, &updated).await?;
    tx.commit().await?;
    Ok(v)
}

/// Accepts a submitted report.
pub async fn accept(
    state: &AppState,
    actor: &Actor,
    campaign_id: i64,
    unit_id: i64,
    type_code: &str,
) -> AppResult<ReportView> {
    let now = state.clock.now();
    let tx = state.db.begin().await?;
    let c = campaigns::get(&tx, campaign_id).await?;
    let r = find_for_update(&tx, campaign_id, unit_id, type_code).await?;
    if ReportState::of(&r) != ReportState::Submitted {
        return Err(illegal(
            &r,
            "chấp nhận (chỉ chấp nhận báo cáo đã gửi)",
            "accepted (only a submitted report can be)",
        ));
    }
    let updated = transition(
        &tx,
        &r,
        Step {
            actor,
            now,
            action: "accept",
            detail: None,
        },
        |a| {
            a.state = Set("accepted".into());
            a.accepted_at = Set(Some(now));
        },
    )
    .await?;
    let v = full_view(state, &tx, &c, &updated).await?;
    tx.commit().await?;
    Ok(v)
}

/// Grants a unit a later submission deadline for all its reports in the campaign.
pub async fn grant_extension(
    state: &AppState,
    actor: &Actor,
    campaign_id: i64,
    unit_id: i64,
    req: &ExtensionRequest,
) -> AppResult<Vec<ReportView>> {
    let now = state.clock.now();
    let tx = state.db.begin().await?;
    let c = campaigns::get(&tx, campaign_id).await?;
    if req.deadline <= c.submission_deadline {
        return Err(AppError::field(
            "deadline",
            "not_later",
            &format!(
                "Hạn gia hạn phải sau hạn chung {}",
                c.submission_deadline.format("%d/%m/%Y")
            ),
            &format!(
                "The extended deadline must be after the campaign's {}",
                c.submission_deadline
            ),
        ));
    }
    // Locked in one order (by type) so that a racing submission waits instead of failing.
    let reports = report::Entity::find()
        .filter(report::Column::CampaignId.eq(campaign_id))
        .filter(report::Column::UnitId.eq(unit_id))
        .order_by_asc(report::Column::TypeCode)
        .lock_exclusive()
        .all(&tx)
        .await?;
    if reports.is_empty() {
        return Err(AppError::not_found(
            "đăng ký của đơn vị trong đợt này",
            "Registration",
        ));
    }
    for r in &reports {
        transition(
            &tx,
            r,
            Step {
                actor,
                now,
                action: "extension",
                detail: Some(format!(
                    "{} — {}",
                    req.deadline.format("%d/%m/%Y"),
                    req.reason.trim()
                )),
            },
            |a| {
                a.extension_deadline = Set(Some(req.deadline));
                a.extension_reason = Set(Some(req.reason.trim().to_string()));
            },
        )
        .await?;
    }
    tx.commit().await?;
    list(state, campaign_id, unit_id).await
}
