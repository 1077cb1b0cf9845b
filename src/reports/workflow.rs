//! The workflow of a report: submit (readiness check, snapshot, digest), return with
//! comments, accept, and extend the deadline — each a transition of the locked report row,
//! guarded by its version and audited in the same transaction.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter,
    Set, TransactionTrait,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};
use utoipa::ToSchema;
use validator::Validate;

use crate::{
    audit::Event,
    auth::{Actor, Role, Scope},
    campaigns,
    entities::{asset, campaign, report, report_snapshot, unit},
    error::{AppError, AppResult, FieldError},
    forms::record,
    state::AppState,
    units,
};

use super::{
    query, snapshots,
    state::{ReportState, StoredState},
    view::{ReportView, full_view, list},
};

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

/// The report, its row locked, if it is submitted (the only state the finance office acts on);
/// else 409 saying what cannot be done to it.
async fn submitted(
    db: &impl ConnectionTrait,
    campaign_id: i64,
    unit_id: i64,
    type_code: &str,
    action_vi: &str,
    action_en: &str,
) -> AppResult<report::Model> {
    let r = query::locked(db, campaign_id, unit_id, type_code)
        .await?
        .ok_or_else(|| query::missing(type_code))?;
    if ReportState::of(&r) != ReportState::Submitted {
        return Err(illegal(&r, action_vi, action_en));
    }
    Ok(r)
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
        let mut record = record::record_of(form, m);
        for e in record::check_record(form, &mut record, c.cutoff_at, true) {
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
    let r = query::find(&state.db, campaign_id, unit_id, type_code).await?;
    let models = snapshots::records(&state.db, &r).await?;
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
    let r = query::locked(&tx, campaign_id, unit_id, type_code)
        .await?
        .ok_or_else(|| query::missing(type_code))?;
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
    let models = snapshots::records(&tx, &r).await?;
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
    let (payload, digest) = snapshots::seal(snapshots::current_records(state, &tx, &r).await?)?;
    let seq = snapshots::snapshots(&tx, r.id).await?.len() as i32 + 1;
    report_snapshot::ActiveModel {
        report_id: Set(r.id),
        province_id: Set(r.province_id),
        seq: Set(seq),
        submitted_at: Set(now),
        submitted_by: Set(actor.audit_id()),
        digest: Set(digest.clone()),
        records: Set(payload),
        ..Default::default()
    }
    .insert(&tx)
    .await?;
    conclude(
        state,
        tx,
        &c,
        &r,
        Step {
            actor,
            now,
            action: "submit",
            detail: Some(format!("digest {digest}")),
        },
        |a| {
            a.state = Set(StoredState::Submitted);
            a.nil_return = Set(req.nil_return);
            a.submitted_at = Set(Some(now));
            if r.first_submitted_at.is_none() {
                a.first_submitted_at = Set(Some(now));
            }
        },
    )
    .await
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
    let Some(last) = snapshots::snapshots(db, r.id).await?.pop() else {
        return Ok(None);
    };
    let (_, digest) = snapshots::seal(snapshots::current_records(state, db, r).await?)?;
    if digest != last.digest {
        return Ok(None);
    }
    Ok(Some(full_view(state, db, c, r).await?))
}

/// A transition that ends its transaction: the report moved, shown as it now stands, committed.
async fn conclude(
    state: &AppState,
    tx: DatabaseTransaction,
    c: &campaign::Model,
    r: &report::Model,
    step: Step<'_>,
    change: impl FnOnce(&mut report::ActiveModel),
) -> AppResult<ReportView> {
    let updated = transition(&tx, r, step, change).await?;
    let v = full_view(state, &tx, c, &updated).await?;
    tx.commit().await?;
    Ok(v)
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
        if r.state == StoredState::Returned
            && let Some(c) = &r.return_comments
        {
            m.insert("return_comments".into(), c.clone());
        }
        Json::Object(m)
    };
    let mut event = Event::new(action, "report", after.id)
        .campaign(after.campaign_id)
        .unit(after.unit_id)
        .before_json(snap(before))
        .after_json(snap(after));
    event.detail = detail;
    event.record(db, actor, now).await
}

/// Whether the caller is an approval level above the unit's ward: a province's finance
/// department (or an installation-wide office) whose scope holds the unit's ward. Only such a
/// caller may return a report the ward has already accepted; the ward's office may not.
fn above_the_ward(actor: &Actor, u: &unit::Model) -> bool {
    let office = matches!(actor.role, Role::Admin | Role::FinanceOfficer);
    office
        && u.ward_id.is_some()
        && match actor.scope {
            Scope::All => true,
            Scope::Province(p) => u.province_id == Some(p),
            Scope::Ward(_) | Scope::Units(_) => false,
        }
}

/// The report to return, its row locked: a submitted one (the ward's finance office reviews
/// it), or an accepted one when the caller is above the unit's ward ([`above_the_ward`]).
async fn returnable(
    db: &impl ConnectionTrait,
    actor: &Actor,
    campaign_id: i64,
    unit_id: i64,
    type_code: &str,
) -> AppResult<report::Model> {
    let r = query::locked(db, campaign_id, unit_id, type_code)
        .await?
        .ok_or_else(|| query::missing(type_code))?;
    match ReportState::of(&r) {
        ReportState::Submitted => Ok(r),
        ReportState::Accepted => {
            let u = unit::Entity::find_by_id(unit_id)
                .one(db)
                .await?
                .ok_or_else(|| AppError::not_found("đơn vị", "Unit"))?;
            if above_the_ward(actor, &u) {
                Ok(r)
            } else {
                Err(illegal(
                    &r,
                    "trả lại (báo cáo đã chấp nhận chỉ cấp tỉnh trả lại được)",
                    "returned (only the province can return an accepted report)",
                ))
            }
        }
        _ => Err(illegal(
            &r,
            "trả lại (chỉ trả lại báo cáo đã gửi)",
            "returned (only a submitted report can be)",
        )),
    }
}

/// Returns a submitted report for correction, with a reason and comments on assets — or,
/// from the province, a report its ward has already accepted (the unit then sees it returned,
/// as after a ward's return; the audit event's `before` shows it was accepted).
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
    let r = returnable(&tx, actor, campaign_id, unit_id, type_code).await?;
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
    conclude(
        state,
        tx,
        &c,
        &r,
        Step {
            actor,
            now,
            action: "return",
            detail: Some(req.reason.trim().to_string()),
        },
        |a| {
            a.state = Set(StoredState::Returned);
            a.returned_at = Set(Some(now));
            a.accepted_at = Set(None);
            a.return_reason = Set(Some(req.reason.trim().to_string()));
            a.return_comments = Set(Some(comments));
        },
    )
    .await
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
    let r = submitted(
        &tx,
        campaign_id,
        unit_id,
        type_code,
        "chấp nhận (chỉ chấp nhận báo cáo đã gửi)",
        "accepted (only a submitted report can be)",
    )
    .await?;
    conclude(
        state,
        tx,
        &c,
        &r,
        Step {
            actor,
            now,
            action: "accept",
            detail: None,
        },
        |a| {
            a.state = Set(StoredState::Accepted);
            a.accepted_at = Set(Some(now));
        },
    )
    .await
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
    let reports = query::of_unit_for_update(&tx, campaign_id, unit_id).await?;
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
