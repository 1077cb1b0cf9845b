//! Registrations (đăng ký đối tượng kiểm kê): each unit's inventory team and the
//! asset types it will inventory in a campaign. Registering a type opens the
//! unit's report for that type — its obligation to the finance office.

use std::collections::BTreeSet;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set, TransactionTrait,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::{Validate, ValidationError};

use crate::{
    audit::{self, Event},
    auth::Actor,
    campaigns, clock,
    entities::{registration, report},
    error::{AppError, AppResult},
    reports, shard,
    state::AppState,
    tree, units,
};

/// A member of the inventory team (Tổ kiểm kê).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TeamMember {
    /// Full name.
    #[validate(length(min = 1, max = 255))]
    #[schema(min_length = 1, max_length = 255)]
    pub name: String,
    /// Position in the unit (e.g. "Kế toán").
    #[validate(length(max = 255))]
    #[schema(max_length = 255)]
    #[serde(default)]
    pub position: String,
    /// Role in the team (e.g. "Tổ trưởng", "Thành viên").
    #[validate(length(max = 100))]
    #[schema(max_length = 100)]
    #[serde(default)]
    pub team_role: String,
}

fn type_codes(codes: &[String]) -> Result<(), ValidationError> {
    let unique: BTreeSet<&String> = codes.iter().collect();
    if unique.len() != codes.len() {
        return Err(ValidationError::new("duplicate").with_message(
            "Mỗi loại tài sản chỉ đăng ký một lần | Each asset type may be registered once".into(),
        ));
    }
    if codes
        .iter()
        .any(|c| c.len() != 2 || !c.chars().all(|ch| ch.is_ascii_digit()))
    {
        return Err(ValidationError::new("type_code").with_message(
            "Mã loại tài sản gồm 2 chữ số, từ 01 đến 19 | Asset type codes are two digits, 01 to 19".into(),
        ));
    }
    Ok(())
}

/// The registration a unit sends (`PUT` replaces the whole registration).
#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegistrationInput {
    /// Number of the decision setting up the inventory team, e.g. "12/QĐ-THCS".
    #[validate(length(min = 1, max = 50))]
    #[schema(min_length = 1, max_length = 50)]
    pub team_decision_no: String,
    /// Date of that decision.
    pub team_decision_date: Option<NaiveDate>,
    /// Team members (at least one).
    #[validate(length(min = 1, max = 50), nested)]
    #[schema(min_items = 1, max_items = 50)]
    pub team_members: Vec<TeamMember>,
    /// Asset type codes the unit will inventory (`01` … `19`).
    #[validate(length(min = 1, max = 19), custom(function = "type_codes"))]
    #[schema(min_items = 1, max_items = 19, example = json!(["01"]))]
    pub asset_types: Vec<String>,
}

/// A registration as the API shows it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RegistrationView {
    /// Id.
    pub id: i64,
    /// Campaign.
    pub campaign_id: i64,
    /// Unit.
    pub unit_id: i64,
    /// Team decision number.
    pub team_decision_no: String,
    /// Team decision date.
    pub team_decision_date: Option<NaiveDate>,
    /// Team members.
    pub team_members: Vec<TeamMember>,
    /// Registered asset types, ordered.
    pub asset_types: Vec<String>,
    /// Form codes of the registered types.
    pub forms: Vec<String>,
    /// When the unit first registered (UTC).
    pub registered_at: DateTime<Utc>,
    /// Whether that was by the end of the registration deadline day (Vietnam time).
    pub on_time: bool,
    /// How many times the set of types changed after the deadline.
    pub late_changes: i32,
    /// Last changed (UTC).
    pub updated_at: DateTime<Utc>,
}

fn view(
    m: registration::Model,
    reports: &[report::Model],
    deadline: NaiveDate,
) -> RegistrationView {
    let mut types: Vec<String> = reports.iter().map(|r| r.type_code.clone()).collect();
    types.sort();
    let mut forms: Vec<String> = reports.iter().map(|r| r.form_code.clone()).collect();
    forms.sort();
    RegistrationView {
        id: m.id,
        campaign_id: m.campaign_id,
        unit_id: m.unit_id,
        team_decision_no: m.team_decision_no,
        team_decision_date: m.team_decision_date,
        team_members: serde_json::from_value(m.team_members).unwrap_or_default(),
        asset_types: types,
        forms,
        on_time: clock::on_time(m.registered_at, deadline),
        registered_at: m.registered_at,
        late_changes: m.late_changes,
        updated_at: m.updated_at,
    }
}

/// The unit's registration in a campaign, or 404.
pub async fn get(state: &AppState, campaign_id: i64, unit_id: i64) -> AppResult<RegistrationView> {
    let c = campaigns::get(&state.db, campaign_id).await?;
    let key = shard::of_unit(&state.db, unit_id).await?;
    let m = registration::Entity::find()
        .filter(shard::matches(registration::Column::ProvinceId, key))
        .filter(registration::Column::CampaignId.eq(campaign_id))
        .filter(registration::Column::UnitId.eq(unit_id))
        .one(&state.db)
        .await?
        .ok_or_else(|| {
            AppError::not_found("đăng ký của đơn vị trong đợt kiểm kê này", "Registration")
        })?;
    let reports = reports::of_unit_in(&state.db, campaign_id, unit_id, key).await?;
    Ok(view(m, &reports, c.registration_deadline))
}

/// Every registration of a campaign that the caller may see.
pub async fn list(
    state: &AppState,
    actor: &Actor,
    campaign_id: i64,
) -> AppResult<Vec<RegistrationView>> {
    let c = campaigns::get(&state.db, campaign_id).await?;
    let mut q =
        registration::Entity::find().filter(registration::Column::CampaignId.eq(campaign_id));
    q = q.filter(tree::units_of(registration::Column::UnitId, &actor.scope));
    let regs = q
        .order_by_asc(registration::Column::UnitId)
        .all(&state.db)
        .await?;
    let reports = reports::of_campaign(&state.db, campaign_id, &actor.scope).await?;
    Ok(regs
        .into_iter()
        .map(|r| {
            let mine: Vec<report::Model> = reports
                .iter()
                .filter(|x| x.unit_id == r.unit_id)
                .cloned()
                .collect();
            view(r, &mine, c.registration_deadline)
        })
        .collect())
}

/// Creates or replaces a unit's registration; adding a type opens its report,
/// removing one is allowed only while its report is empty and unsent.
pub async fn put(
    state: &AppState,
    actor: &Actor,
    campaign_id: i64,
    unit_id: i64,
    input: RegistrationInput,
) -> AppResult<(RegistrationView, bool)> {
    let mut unknown = Vec::new();
    for (i, code) in input.asset_types.iter().enumerate() {
        if state.forms.form_for_type(code).is_none() {
            unknown.push(crate::error::FieldError::new(
                format!("asset_types[{i}]"),
                "unknown_type",
                &format!("Không có loại tài sản mã «{code}» trong danh mục 19 loại"),
                &format!("There is no asset type \"{code}\" among the 19 types"),
            ));
        }
    }
    if !unknown.is_empty() {
        return Err(AppError::validation(unknown));
    }
    let now = state.clock.now();
    let tx = state.db.begin().await?;
    let c = campaigns::get(&tx, campaign_id).await?;
    campaigns::ensure_open(&c)?;
    let u = units::get(&tx, unit_id).await?;
    if !u.active {
        return Err(AppError::conflict(
            "Đơn vị đã ngừng hoạt động, không thể đăng ký.",
            "The unit is inactive and cannot register.",
        ));
    }
    let existing = registration::Entity::find()
        .filter(registration::Column::CampaignId.eq(campaign_id))
        .filter(registration::Column::UnitId.eq(unit_id))
        .one(&tx)
        .await?;
    let reports = reports::of_unit(&tx, campaign_id, unit_id).await?;
    let old_types: BTreeSet<String> = reports.iter().map(|r| r.type_code.clone()).collect();
    let new_types: BTreeSet<String> = input.asset_types.iter().cloned().collect();
    let members =
        serde_json::to_value(&input.team_members).map_err(|e| AppError::Internal(e.to_string()))?;
    let late = !clock::on_time(now, c.registration_deadline);
    let created = existing.is_none();
    let before = existing
        .clone()
        .map(|m| view(m, &reports, c.registration_deadline));
    let saved = match existing {
        None => {
            registration::ActiveModel {
                campaign_id: Set(campaign_id),
                unit_id: Set(unit_id),
                province_id: Set(u.province_id),
                team_decision_no: Set(input.team_decision_no.trim().to_string()),
                team_decision_date: Set(input.team_decision_date),
                team_members: Set(members),
                registered_at: Set(now),
                updated_at: Set(now),
                late_changes: Set(0),
                ..Default::default()
            }
            .insert(&tx)
            .await?
        }
        Some(m) => {
            let changes = m.late_changes + i32::from(late && old_types != new_types);
            let mut a: registration::ActiveModel = m.into();
            a.team_decision_no = Set(input.team_decision_no.trim().to_string());
            a.team_decision_date = Set(input.team_decision_date);
            a.team_members = Set(members);
            a.late_changes = Set(changes);
            a.updated_at = Set(now);
            a.update(&tx).await?
        }
    };
    for r in reports.iter().filter(|r| !new_types.contains(&r.type_code)) {
        reports::close(&tx, r).await?;
    }
    for code in new_types.difference(&old_types) {
        let form_code = state
            .forms
            .form_for_type(code)
            .map(|f| f.code.clone())
            .unwrap_or_else(|| format!("{code}a"));
        reports::open(
            &tx,
            campaign_id,
            unit_id,
            u.province_id,
            code,
            &form_code,
            now,
        )
        .await?;
    }
    let reports = reports::of_unit(&tx, campaign_id, unit_id).await?;
    let after = view(saved, &reports, c.registration_deadline);
    let action = match (created, late && old_types != new_types) {
        (true, _) => "register",
        (false, true) => "register_change_late",
        (false, false) => "register_change",
    };
    Event::new(action, "registration", after.id)
        .campaign(campaign_id)
        .unit(unit_id)
        .before_json(before.as_ref().and_then(audit::snapshot))
        .after(&after)
        .record(&tx, actor, now)
        .await?;
    tx.commit().await?;
    Ok((after, created))
}
