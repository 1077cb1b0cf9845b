//! The demo ward: phường Tam Thanh (Lạng Sơn), its 16 reporting units and the
//! round-2 campaign, as the ward's Q1-2026 report describes them.
//!
//! The seed names the four agencies and the public-service centre; it counts but
//! does not name the eight schools and the three remaining units, so their names
//! here are illustrative ("minh họa"). Budget codes are illustrative too.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::{
    auth::{Actor, Role},
    campaigns::{self, NewCampaign},
    clock::FixedClock,
    entities::{campaign, unit, user},
    error::{AppError, AppResult},
    registrations::{self, RegistrationInput, TeamMember},
    state::AppState,
    units::{self, NewUnit, UnitKind},
    users::{self, NewUser},
};

/// Name of the demo campaign (also how a second load recognises the first).
pub const CAMPAIGN_NAME: &str = "Tổng kiểm kê tài sản công thời điểm 0h00 ngày 01/01/2026";

/// One demo unit: code, name, kind, short name for logins, asset types.
struct DemoUnit {
    code: &'static str,
    name: &'static str,
    kind: UnitKind,
    login: &'static str,
    types: &'static [&'static str],
}

const UNITS: &[DemoUnit] = &[
    DemoUnit {
        code: "1109301",
        name: "Văn phòng HĐND và UBND phường Tam Thanh",
        kind: UnitKind::StateAgency,
        login: "vanphong",
        types: &["01"],
    },
    DemoUnit {
        code: "1109302",
        name: "Phòng Kinh tế, Hạ tầng và Đô thị phường Tam Thanh",
        kind: UnitKind::StateAgency,
        login: "kinhte",
        types: &["01", "02"],
    },
    DemoUnit {
        code: "1109303",
        name: "Phòng Văn hóa - Xã hội phường Tam Thanh",
        kind: UnitKind::StateAgency,
        login: "vanhoa",
        types: &["01", "18"],
    },
    DemoUnit {
        code: "1109304",
        name: "Trung tâm Phục vụ hành chính công phường Tam Thanh",
        kind: UnitKind::StateAgency,
        login: "tthcc",
        types: &["01"],
    },
    DemoUnit {
        code: "1109305",
        name: "Trung tâm Dịch vụ công ích phường Tam Thanh",
        kind: UnitKind::PublicServiceUnit,
        login: "dvci",
        types: &["01"],
    },
    DemoUnit {
        code: "1109306",
        name: "Trường Mầm non Tam Thanh (minh họa)",
        kind: UnitKind::School,
        login: "mn.tamthanh",
        types: &["01"],
    },
    DemoUnit {
        code: "1109307",
        name: "Trường Mầm non Hoa Hồng (minh họa)",
        kind: UnitKind::School,
        login: "mn.hoahong",
        types: &["01"],
    },
    DemoUnit {
        code: "1109308",
        name: "Trường Mầm non Sơn Ca (minh họa)",
        kind: UnitKind::School,
        login: "mn.sonca",
        types: &["01"],
    },
    DemoUnit {
        code: "1109309",
        name: "Trường Tiểu học Tam Thanh (minh họa)",
        kind: UnitKind::School,
        login: "th.tamthanh",
        types: &["01"],
    },
    DemoUnit {
        code: "1109310",
        name: "Trường Tiểu học Kim Đồng (minh họa)",
        kind: UnitKind::School,
        login: "th.kimdong",
        types: &["01"],
    },
    DemoUnit {
        code: "1109311",
        name: "Trường Tiểu học Hoàng Văn Thụ (minh họa)",
        kind: UnitKind::School,
        login: "th.hoangvanthu",
        types: &["01"],
    },
    DemoUnit {
        code: "1109312",
        name: "Trường THCS Tam Thanh (minh họa)",
        kind: UnitKind::School,
        login: "thcs.tamthanh",
        types: &["01"],
    },
    DemoUnit {
        code: "1109313",
        name: "Trường THCS Chu Văn An (minh họa)",
        kind: UnitKind::School,
        login: "thcs.chuvanan",
        types: &["01"],
    },
    DemoUnit {
        code: "1109314",
        name: "Đảng ủy phường Tam Thanh (minh họa)",
        kind: UnitKind::PartyAgency,
        login: "dangu",
        types: &["01"],
    },
    DemoUnit {
        code: "1109315",
        name: "Ủy ban MTTQ Việt Nam phường Tam Thanh (minh họa)",
        kind: UnitKind::SocioPoliticalOrganisation,
        login: "mttq",
        types: &["01"],
    },
    DemoUnit {
        code: "1109316",
        name: "Ban Chỉ huy Quân sự phường Tam Thanh (minh họa)",
        kind: UnitKind::ArmedForcesUnit,
        login: "quansu",
        types: &["01"],
    },
];

fn local(s: &str) -> AppResult<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|d| d.with_timezone(&Utc))
        .map_err(|e| AppError::Internal(e.to_string()))
}

fn date(y: i32, m: u32, d: u32) -> AppResult<NaiveDate> {
    NaiveDate::from_ymd_opt(y, m, d).ok_or_else(|| AppError::Internal("bad demo date".into()))
}

/// What a demo load did.
#[derive(Debug, Default)]
pub struct DemoReport {
    /// Whether anything was created (false when the demo was already there).
    pub created: bool,
    /// The demo campaign's id.
    pub campaign_id: i64,
    /// Password given to the demo users when it was generated here.
    pub generated_password: Option<String>,
}

/// Loads the demo ward unless it is already there.
pub async fn load(state: &AppState, password: Option<String>) -> AppResult<DemoReport> {
    if let Some(c) = campaign::Entity::find()
        .filter(campaign::Column::Name.eq(CAMPAIGN_NAME))
        .one(&state.db)
        .await?
    {
        return Ok(DemoReport {
            created: false,
            campaign_id: c.id,
            generated_password: None,
        });
    }
    // The units registered in January 2026, well before the deadline.
    let clock = FixedClock::new(local("2026-01-15T09:00:00+07:00")?);
    let mut past = state.clone();
    past.clock = Arc::new(clock.clone());
    let system = Actor::system();
    let c = campaigns::create(
        &past,
        &system,
        NewCampaign {
            name: CAMPAIGN_NAME.into(),
            authority_name: "UBND PHƯỜNG TAM THANH".into(),
            place_name: "Tam Thanh".into(),
            cutoff_at: DateTime::parse_from_rfc3339("2026-01-01T00:00:00+07:00")
                .map_err(|e| AppError::Internal(e.to_string()))?,
            registration_deadline: date(2026, 3, 31)?,
            submission_deadline: date(2026, 3, 31)?,
            status: None,
        },
    )
    .await?;
    let generated = password.is_none();
    let password = password.unwrap_or_else(crate::auth::password::generate);
    for (i, u) in UNITS.iter().enumerate() {
        let existing = unit::Entity::find()
            .filter(unit::Column::Code.eq(u.code))
            .one(&state.db)
            .await?;
        let unit_id = match existing {
            Some(m) => m.id,
            None => {
                units::create(
                    &past,
                    &system,
                    NewUnit {
                        code: u.code.into(),
                        registration_code: None,
                        name: u.name.into(),
                        kind: u.kind,
                        parent_id: None,
                        address: Some("Phường Tam Thanh, tỉnh Lạng Sơn".into()),
                        accountant_name: None,
                        accountant_phone: None,
                        accountant_email: None,
                    },
                )
                .await?
                .id
            }
        };
        clock.advance(chrono::Duration::minutes(37));
        registrations::put(
            &past,
            &system,
            c.id,
            unit_id,
            RegistrationInput {
                team_decision_no: format!("{:02}/QĐ-TKK", i + 1),
                team_decision_date: Some(date(2026, 1, 12)?),
                team_members: vec![
                    TeamMember {
                        name: "Thủ trưởng đơn vị".into(),
                        position: "Thủ trưởng".into(),
                        team_role: "Tổ trưởng".into(),
                    },
                    TeamMember {
                        name: "Kế toán đơn vị".into(),
                        position: "Kế toán".into(),
                        team_role: "Thành viên".into(),
                    },
                    TeamMember {
                        name: "Cán bộ quản lý tài sản".into(),
                        position: "Chuyên viên".into(),
                        team_role: "Thành viên".into(),
                    },
                ],
                asset_types: u.types.iter().map(|t| t.to_string()).collect(),
            },
        )
        .await?;
        ensure_user(
            &past,
            &format!("ketoan.{}", u.login),
            &format!("Kế toán - {}", u.name),
            Role::UnitAccountant,
            vec![unit_id],
            &password,
        )
        .await?;
    }
    ensure_user(
        &past,
        "taichinh",
        "Phòng Kinh tế, Hạ tầng và Đô thị (tài chính)",
        Role::FinanceOfficer,
        vec![],
        &password,
    )
    .await?;
    ensure_user(
        &past,
        "chutich",
        "Chủ tịch UBND phường (xem)",
        Role::Viewer,
        vec![],
        &password,
    )
    .await?;
    Ok(DemoReport {
        created: true,
        campaign_id: c.id,
        generated_password: generated.then_some(password),
    })
}

async fn ensure_user(
    state: &AppState,
    username: &str,
    full_name: &str,
    role: Role,
    unit_ids: Vec<i64>,
    password: &str,
) -> AppResult<()> {
    if user::Entity::find()
        .filter(user::Column::Username.eq(username))
        .one(&state.db)
        .await?
        .is_some()
    {
        return Ok(());
    }
    users::create(
        state,
        &Actor::system(),
        NewUser {
            username: username.into(),
            full_name: full_name.chars().take(255).collect(),
            email: None,
            phone: None,
            role,
            unit_ids,
            password: password.into(),
        },
    )
    .await?;
    Ok(())
}
