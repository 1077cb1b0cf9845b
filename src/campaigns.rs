//! Campaigns (đợt kiểm kê): the cut-off instant and the deadlines units work to.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryOrder, QuerySelect, Set,
    TransactionTrait,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::{Validate, ValidationError};

use crate::{
    audit::Event,
    auth::Actor,
    entities::campaign,
    error::{AppError, AppResult},
    pagination::{Page, PageQuery},
    state::AppState,
};

/// Where a campaign stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CampaignStatus {
    /// Being prepared; units cannot register yet.
    Draft,
    /// Units register, enter and submit.
    Open,
    /// Finished; nothing changes any more.
    Closed,
}

impl CampaignStatus {
    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            CampaignStatus::Draft => "draft",
            CampaignStatus::Open => "open",
            CampaignStatus::Closed => "closed",
        }
    }

    /// Parses a stored name (unknown values read as closed, the safe side).
    pub fn parse(s: &str) -> CampaignStatus {
        match s {
            "draft" => CampaignStatus::Draft,
            "open" => CampaignStatus::Open,
            _ => CampaignStatus::Closed,
        }
    }
}

fn deadlines_in_order(c: &NewCampaign) -> Result<(), ValidationError> {
    if c.submission_deadline < c.registration_deadline {
        return Err(ValidationError::new("deadline_order").with_message(
            "Hạn gửi báo cáo không được trước hạn đăng ký | The submission deadline cannot be before the registration deadline"
                .into(),
        ));
    }
    Ok(())
}

/// A new campaign.
#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[validate(schema(function = "deadlines_in_order", skip_on_field_errors = true))]
pub struct NewCampaign {
    /// Name, e.g. "Tổng kiểm kê tài sản công thời điểm 0h00 ngày 01/01/2026".
    #[validate(length(min = 1, max = 255))]
    #[schema(min_length = 1, max_length = 255)]
    pub name: String,
    /// Body running the campaign, printed on forms ("UBND PHƯỜNG TAM THANH").
    #[validate(length(min = 1, max = 255))]
    #[schema(min_length = 1, max_length = 255)]
    pub authority_name: String,
    /// Place printed on the date line of forms ("Tam Thanh").
    #[validate(length(min = 1, max = 100))]
    #[schema(min_length = 1, max_length = 100)]
    pub place_name: String,
    /// Data cut-off instant with its offset, e.g. `2026-01-01T00:00:00+07:00`.
    pub cutoff_at: DateTime<chrono::FixedOffset>,
    /// Last local day (Asia/Ho_Chi_Minh) to register.
    pub registration_deadline: NaiveDate,
    /// Last local day (Asia/Ho_Chi_Minh) to submit reports.
    pub submission_deadline: NaiveDate,
    /// Initial status (default `open`).
    pub status: Option<CampaignStatus>,
}

/// Changes to a campaign; absent fields stay as they are.
#[derive(Debug, Clone, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CampaignPatch {
    /// New name.
    #[validate(length(min = 1, max = 255))]
    #[schema(min_length = 1, max_length = 255)]
    pub name: Option<String>,
    /// New authority name.
    #[validate(length(min = 1, max = 255))]
    #[schema(min_length = 1, max_length = 255)]
    pub authority_name: Option<String>,
    /// New place name.
    #[validate(length(min = 1, max = 100))]
    #[schema(min_length = 1, max_length = 100)]
    pub place_name: Option<String>,
    /// New cut-off instant.
    pub cutoff_at: Option<DateTime<chrono::FixedOffset>>,
    /// New registration deadline.
    pub registration_deadline: Option<NaiveDate>,
    /// New submission deadline.
    pub submission_deadline: Option<NaiveDate>,
    /// New status.
    pub status: Option<CampaignStatus>,
}

/// A campaign as the API shows it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CampaignView {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Body running the campaign.
    pub authority_name: String,
    /// Place printed on forms.
    pub place_name: String,
    /// Data cut-off instant (UTC).
    pub cutoff_at: DateTime<Utc>,
    /// Last local day to register.
    pub registration_deadline: NaiveDate,
    /// Last local day to submit.
    pub submission_deadline: NaiveDate,
    /// Status.
    pub status: CampaignStatus,
    /// Created (UTC).
    pub created_at: DateTime<Utc>,
    /// Last changed (UTC).
    pub updated_at: DateTime<Utc>,
}

impl From<campaign::Model> for CampaignView {
    fn from(m: campaign::Model) -> Self {
        CampaignView {
            id: m.id,
            name: m.name,
            authority_name: m.authority_name,
            place_name: m.place_name,
            cutoff_at: m.cutoff_at,
            registration_deadline: m.registration_deadline,
            submission_deadline: m.submission_deadline,
            status: CampaignStatus::parse(&m.status),
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

/// Loads a campaign or fails with 404.
pub async fn get(db: &impl ConnectionTrait, id: i64) -> AppResult<campaign::Model> {
    campaign::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("đợt kiểm kê", "Campaign"))
}

/// Fails with 409 unless the campaign is open.
pub fn ensure_open(c: &campaign::Model) -> AppResult<()> {
    match CampaignStatus::parse(&c.status) {
        CampaignStatus::Open => Ok(()),
        s => Err(AppError::new(
            crate::error::Problem::InvalidState,
            format!(
                "Đợt kiểm kê đang ở trạng thái «{}», không nhận thay đổi.",
                s.as_str()
            ),
            format!("The campaign is {}, and accepts no changes.", s.as_str()),
        )),
    }
}

/// Creates a campaign.
pub async fn create(
    state: &AppState,
    actor: &Actor,
    input: NewCampaign,
) -> AppResult<CampaignView> {
    let now = state.clock.now();
    let tx = state.db.begin().await?;
    let model = campaign::ActiveModel {
        name: Set(input.name.trim().to_string()),
        authority_name: Set(input.authority_name.trim().to_string()),
        place_name: Set(input.place_name.trim().to_string()),
        cutoff_at: Set(input.cutoff_at.with_timezone(&Utc)),
        registration_deadline: Set(input.registration_deadline),
        submission_deadline: Set(input.submission_deadline),
        status: Set(input
            .status
            .unwrap_or(CampaignStatus::Open)
            .as_str()
            .to_string()),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&tx)
    .await?;
    let view = CampaignView::from(model);
    Event::new("create", "campaign", view.id)
        .campaign(view.id)
        .after(&view)
        .record(&tx, actor, now)
        .await?;
    tx.commit().await?;
    Ok(view)
}

/// Changes a campaign.
pub async fn update(
    state: &AppState,
    actor: &Actor,
    id: i64,
    patch: CampaignPatch,
) -> AppResult<CampaignView> {
    let now = state.clock.now();
    let tx = state.db.begin().await?;
    let current = get(&tx, id).await?;
    let before = CampaignView::from(current.clone());
    let registration = patch
        .registration_deadline
        .unwrap_or(current.registration_deadline);
    let submission = patch
        .submission_deadline
        .unwrap_or(current.submission_deadline);
    if submission < registration {
        return Err(AppError::field(
            "submission_deadline",
            "deadline_order",
            "Hạn gửi báo cáo không được trước hạn đăng ký",
            "The submission deadline cannot be before the registration deadline",
        ));
    }
    let mut m: campaign::ActiveModel = current.into();
    if let Some(v) = patch.name {
        m.name = Set(v.trim().to_string());
    }
    if let Some(v) = patch.authority_name {
        m.authority_name = Set(v.trim().to_string());
    }
    if let Some(v) = patch.place_name {
        m.place_name = Set(v.trim().to_string());
    }
    if let Some(v) = patch.cutoff_at {
        m.cutoff_at = Set(v.with_timezone(&Utc));
    }
    m.registration_deadline = Set(registration);
    m.submission_deadline = Set(submission);
    if let Some(v) = patch.status {
        m.status = Set(v.as_str().to_string());
    }
    m.updated_at = Set(now);
    let view = CampaignView::from(m.update(&tx).await?);
    Event::new("update", "campaign", id)
        .campaign(id)
        .before(&before)
        .after(&view)
        .record(&tx, actor, now)
        .await?;
    tx.commit().await?;
    Ok(view)
}

/// Lists campaigns, newest first.
pub async fn list(state: &AppState, page: &PageQuery) -> AppResult<Page<CampaignView>> {
    let total = campaign::Entity::find().count(&state.db).await?;
    let items = campaign::Entity::find()
        .order_by_desc(campaign::Column::CutoffAt)
        .order_by_desc(campaign::Column::Id)
        .offset(page.offset())
        .limit(page.per_page())
        .all(&state.db)
        .await?
        .into_iter()
        .map(CampaignView::from)
        .collect();
    Ok(Page::new(items, page, total))
}
