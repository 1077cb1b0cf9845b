//! The demo ward: phường Tam Thanh (Lạng Sơn), its 16 reporting units and the
//! round-2 campaign, as the ward's Q1-2026 report describes them; the ward is placed under
//! tỉnh Lạng Sơn in the administrative tree, the ward's finance office and chairman are bound to
//! the ward, and the province's finance department (`sotaichinh`) to the province.
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
    tree::{self, Level, NewNode},
    units::{self, NewUnit, UnitKind},
    users::{self, NewUser},
};

/// The demo's province: tỉnh Lạng Sơn, official code 20 (real: the province kept its code in
/// the 2025 reform).
pub const PROVINCE: (&str, &str) = ("20", "Tỉnh Lạng Sơn");
/// The demo ward: phường Tam Thanh. The 5-digit code is assumed (illustrative, "minh họa"): the
/// code of the old phường Tam Thanh of the former city of Lạng Sơn, which the merged ward is
/// taken to keep; correct it here when the official list is at hand.
pub const WARD: (&str, &str) = ("05965", "Phường Tam Thanh");

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
    if let Some((vi, en)) = password
        .as_deref()
        .and_then(|p| crate::auth::password::weakness(p, "taichinh"))
    {
        // Refuse before writing anything, so a bad password never leaves half a demo.
        return Err(AppError::field("KIEMKE_DEMO_PASSWORD", "weak", vi, en));
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
    ensure_node(&past, PROVINCE, Level::Province, None).await?;
    ensure_node(&past, WARD, Level::Ward, Some(PROVINCE.0)).await?;
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
                        ward_code: Some(WARD.0.into()),
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
        for body in demo_assets(i, u.login) {
            crate::assets::create(&past, &system, c.id, unit_id, &body).await?;
        }
        ensure_user(
            &past,
            &format!("ketoan.{}", u.login),
            &format!("Kế toán - {}", u.name),
            Role::UnitAccountant,
            vec![unit_id],
            None,
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
        Some(WARD.0),
        &password,
    )
    .await?;
    ensure_user(
        &past,
        "chutich",
        "Chủ tịch UBND phường (xem)",
        Role::Viewer,
        vec![],
        Some(WARD.0),
        &password,
    )
    .await?;
    ensure_user(
        &past,
        "sotaichinh",
        "Sở Tài chính tỉnh Lạng Sơn",
        Role::FinanceOfficer,
        vec![],
        Some(PROVINCE.0),
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
    node_code: Option<&str>,
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
            node_code: node_code.map(str::to_string),
            password: password.into(),
        },
    )
    .await?;
    Ok(())
}

/// Creates a node of the tree unless its code is there already.
async fn ensure_node(
    state: &AppState,
    (code, name): (&str, &str),
    level: Level,
    parent_code: Option<&str>,
) -> AppResult<()> {
    if tree::by_code(&state.db, code).await?.is_none() {
        tree::create(
            state,
            &Actor::system(),
            NewNode {
                code: code.into(),
                name: name.into(),
                level,
                parent_code: parent_code.map(str::to_string),
            },
        )
        .await?;
    }
    Ok(())
}

/// Plausible assets for a demo unit: a plot of land, a building, equipment; cars for the
/// ward office; roads for the infrastructure office; cultural houses for the culture office.
/// Values are in đồng and pass every rule of the forms.
fn demo_assets(index: usize, login: &str) -> Vec<serde_json::Value> {
    use serde_json::json;
    let i = index as i64 + 1;
    let area = 1_200 + 150 * i;
    let land_cost = area * 2_500_000;
    let building_cost = 2_800_000_000 + 120_000_000 * i;
    let years = 6 + (i % 9);
    // Buildings of grade III depreciate over 25 years (4 %/year).
    let building_dep = building_cost / 25 * years;
    let mut list = vec![
        json!({"asset_type": "01", "section": "I", "code": format!("DAT-{i:02}"), "name": "Khu đất trụ sở",
               "unit_of_measure": "m²", "qty_books": area, "qty_counted": area,
               "original_cost": land_cost, "usage_status": "1", "origin": "transferred_in", "year_in_use": 2005 + i % 10,
               "location": "Phường Tam Thanh, tỉnh Lạng Sơn",
               "legal_documents": [{"kind": "land_use_certificate", "number": format!("BĐ {:06}", 120_000 + i), "date": "2012-05-14"}],
               "fields": {"land_certificate_no": format!("BĐ {:06}", 120_000 + i), "area_office": area - 200, "area_public_service": 200}}),
        json!({"asset_type": "01", "section": "II", "code": format!("NHA-{i:02}"), "name": "Nhà làm việc 2 tầng",
               // Section II counts buildings in m² of floor area, as the form's quantity columns say.
               "unit_of_measure": "m²", "qty_books": 621, "qty_counted": 621,
               "location": "Phường Tam Thanh, tỉnh Lạng Sơn",
               "original_cost": building_cost, "depreciation": building_dep, "usage_status": "1", "origin": "built",
               "year_in_use": 2026 - years,
               "fields": {"plot_code": format!("DAT-{i:02}"), "building_grade": "III", "year_built": 2025 - years, "floors": 2,
                          "footprint_area": 310.5, "floor_area": 621}}),
        json!({"asset_type": "01", "section": "IV", "code": format!("MT-{i:02}"), "name": "Máy tính để bàn",
               "unit_of_measure": "bộ", "qty_books": 6, "qty_counted": 6 - i % 2,
               "original_cost": 90_000_000, "depreciation": 54_000_000, "usage_status": if i % 3 == 0 { "4" } else { "1" },
               "origin": "purchased", "year_in_use": 2021,
               "fields": {"specification": "Core i5, 8 GB RAM, màn hình 22 inch"}}),
    ];
    if login == "vanphong" {
        list.push(json!({"asset_type": "01", "section": "III", "code": "XE-01", "name": "Xe ô tô 7 chỗ phục vụ công tác chung",
            "unit_of_measure": "chiếc", "qty_books": 1, "qty_counted": 1,
            "original_cost": 985_000_000, "depreciation": 591_000_000, "usage_status": "1", "origin": "purchased", "year_in_use": 2020,
            "legal_documents": [{"kind": "vehicle_registration", "number": "012345", "date": "2020-03-02"}],
            "fields": {"make_model": "Toyota Innova 2.0E", "license_plate": "12A-123.45", "seats": 7, "car_category": "general",
                       "year_of_manufacture": 2019}}));
    }
    if login.starts_with("mn.") || login.starts_with("th.") || login.starts_with("thcs.") {
        list.push(json!({"asset_type": "01", "section": "IV", "code": format!("TB-{i:02}"), "name": "Bộ thiết bị dạy học tối thiểu",
            "unit_of_measure": "bộ", "qty_books": 4, "qty_counted": 4,
            "original_cost": 148_000_000, "original_cost_budget": 148_000_000, "depreciation": 29_600_000,
            "usage_status": "1", "origin": "transferred_in", "year_in_use": 2024}));
    }
    if login == "kinhte" {
        for (n, (name, km, class, surface, cost)) in [
            (
                "Đường Lê Lợi",
                1.25,
                "urban",
                "asphalt_concrete",
                18_750_000_000_i64,
            ),
            (
                "Đường Trần Đăng Ninh",
                0.87,
                "urban",
                "asphalt_concrete",
                13_050_000_000,
            ),
            ("Đường ngõ 12 khối 5", 0.32, "alley", "cement_concrete", 1),
        ]
        .into_iter()
        .enumerate()
        {
            let basis = if cost == 1 { "conventional" } else { "actual" };
            list.push(json!({"asset_type": "02", "code": format!("DB-{:02}", n + 1), "name": name,
                "unit_of_measure": "km", "qty_books": km, "qty_counted": km,
                "original_cost": cost, "depreciation": if cost == 1 { 0 } else { cost / 40 * 8 }, "price_basis": basis,
                "usage_status": "1", "origin": "built", "year_in_use": 2018,
                "fields": {"management_class": class, "length_km": km, "surface_type": surface, "surface_width_m": 7.5,
                           "subgrade_width_m": 10.5, "culvert_count": 2, "managing_unit": "Phòng Kinh tế, Hạ tầng và Đô thị"}}));
        }
    }
    if login == "vanhoa" {
        list.push(json!({"asset_type": "18", "code": "VH-01", "name": "Nhà văn hóa khối 3",
            "unit_of_measure": "công trình", "qty_books": 1, "qty_counted": 1,
            "original_cost": 1_450_000_000, "original_cost_budget": 1_200_000_000, "depreciation": 348_000_000,
            "usage_status": "1", "origin": "built", "year_in_use": 2019,
            "fields": {"facility_kind": "group_house", "residential_group": "Khối 3", "land_area": 820, "building_grade": "IV",
                       "year_built": 2018, "floors": 1, "floor_area": 240, "hall_seats": 150, "cost_community": 250_000_000,
                       "managing_body": "Ban quản lý nhà văn hóa khối 3"}}));
        list.push(json!({"asset_type": "18", "code": "TT-01", "name": "Sân thể thao phường Tam Thanh",
            "unit_of_measure": "công trình", "qty_books": 1, "qty_counted": 1,
            "original_cost": 2_300_000_000_i64, "depreciation": 460_000_000, "usage_status": "1", "origin": "built", "year_in_use": 2021,
            "fields": {"facility_kind": "stadium", "land_area": 6_500, "sports_ground_area": 5_400,
                       "managing_body": "Phòng Văn hóa - Xã hội"}}));
    }
    list
}
