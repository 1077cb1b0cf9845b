//! `kiemke generate`: a national-scale, deterministic dataset for benchmarks and load tests.
//!
//! It creates one campaign (cut-off 0h00 01/01/2026 in Vietnam, deadlines 31/03/2026) and `units`
//! state units with a realistic mix of kinds, 7-digit budget codes, registrations (most on time,
//! some late, a few units not registered or inactive), one report per registered asset type
//! (01 for every unit, 02 and 18 for a few per cent) and assets on forms 01a, 02a and 18a whose
//! values pass every rule of their form, submission rules included. Each report's counters are
//! the sums of its assets, and its state and submission instants agree with each other: sent on
//! time, sent late, returned, accepted, or still open (overdue once the deadline has passed).
//!
//! With `--provinces P --wards-per-province W --units-per-ward U` it first builds the
//! administrative tree: P provinces (2-digit codes, names of the 34 provinces after the 2025
//! merger) of W communes/wards each (5-digit codes, two-syllable names, six in ten communes),
//! on codes no node holds yet, and places U units in each ward in turn: `ward_id` and
//! `province_id` on the unit, and the province as the distribution key (`province_id`) on
//! every registration, report and asset under it. The national figures are
//! `--provinces 34 --wards-per-province 97 --units-per-ward 30` (3,298 wards, 98,940 units).
//! Without those options the units are left unplaced, as before.
//!
//! What it does not write: report snapshots (a generated submitted report has no frozen copy
//! and no digest) and per-asset audit events (one `generate` event records the run).
//!
//! The same seed gives the same data: every unit draws from its own SplitMix64 stream seeded
//! from (seed, unit number), so the result does not depend on the transaction size. Rows are
//! written with multi-row INSERTs of up to 1,000 rows, one transaction per
//! `units_per_transaction` units, while the next batch of units is computed on another thread;
//! the run ends with `ANALYZE`.

use std::{
    collections::{HashMap, HashSet},
    sync::Arc,
    time::{Duration as StdDuration, Instant},
};

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use clap::Args;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, Iterable, QueryFilter, QuerySelect, Set,
    TransactionTrait,
};
use serde_json::json;

use crate::{
    audit::Event,
    auth::Actor,
    campaigns::{self, NewCampaign},
    clock,
    entities::{admin_node, asset, campaign, registration, report, unit},
    error::{AppError, AppResult},
    forms::{Form, LegalDoc, Record, Value, record},
    reports::StoredState,
    search,
    state::AppState,
    tree::Level,
    units::UnitKind,
};

/// Options of `kiemke generate`.
#[derive(Debug, Args, Clone)]
pub struct GenerateArgs {
    /// State units to create (not placed in the administrative tree). With the tree options
    /// the count is instead provinces × wards per province × units per ward.
    #[arg(long, default_value_t = 1000)]
    pub units: u64,
    /// Build the administrative tree too: this many provinces (2-digit codes), each with
    /// --wards-per-province communes/wards (5-digit codes) of --units-per-ward units each.
    /// The national figures: `--provinces 34 --wards-per-province 97 --units-per-ward 30`
    /// (3,298 communes/wards, 98,940 units).
    #[arg(
        long,
        requires_all = ["wards_per_province", "units_per_ward"],
        conflicts_with = "units",
        value_parser = clap::value_parser!(u32).range(1..=99)
    )]
    pub provinces: Option<u32>,
    /// Communes/wards per province (with --provinces).
    #[arg(long, requires = "provinces", value_parser = clap::value_parser!(u32).range(1..=99_999))]
    pub wards_per_province: Option<u32>,
    /// Units per commune/ward (with --provinces).
    #[arg(long, requires = "provinces", value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub units_per_ward: Option<u32>,
    /// Assets per unit that has started entering, split over its registered asset types.
    #[arg(long, default_value_t = 50)]
    pub assets_per_unit: u32,
    /// Seed: the same seed (and the same counts) gives the same data.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Name of the generated campaign (default: one naming the seed).
    #[arg(long)]
    pub campaign_name: Option<String>,
    /// Units written per transaction.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub units_per_transaction: u64,
}

impl GenerateArgs {
    /// Options for `units` units of `assets_per_unit` assets from `seed`, other settings default.
    pub fn new(units: u64, assets_per_unit: u32, seed: u64) -> Self {
        GenerateArgs {
            units,
            provinces: None,
            wards_per_province: None,
            units_per_ward: None,
            assets_per_unit,
            seed,
            campaign_name: None,
            units_per_transaction: 1000,
        }
    }

    /// Options for a tree of `provinces` provinces of `wards_per_province` wards of
    /// `units_per_ward` units each, `assets_per_unit` assets from `seed`, other settings default.
    pub fn tree(
        provinces: u32,
        wards_per_province: u32,
        units_per_ward: u32,
        assets_per_unit: u32,
        seed: u64,
    ) -> Self {
        GenerateArgs {
            provinces: Some(provinces),
            wards_per_province: Some(wards_per_province),
            units_per_ward: Some(units_per_ward),
            ..GenerateArgs::new(0, assets_per_unit, seed)
        }
    }

    /// The tree to build: (provinces, wards per province, units per ward), when asked for.
    pub fn shape(&self) -> Option<(u32, u32, u32)> {
        match (self.provinces, self.wards_per_province, self.units_per_ward) {
            (Some(p), Some(w), Some(u)) => Some((p, w, u)),
            _ => None,
        }
    }

    /// Units to create: the tree's product, or `--units`.
    pub fn unit_count(&self) -> u64 {
        match self.shape() {
            Some((p, w, u)) => u64::from(p) * u64::from(w) * u64::from(u),
            None => self.units,
        }
    }

    fn name(&self) -> String {
        self.campaign_name.clone().unwrap_or_else(|| {
            format!(
                "Tổng kiểm kê tài sản công thời điểm 0h00 ngày 01/01/2026 (dữ liệu sinh tự động, seed {})",
                self.seed
            )
        })
    }
}

/// Rows written so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    /// Units.
    pub units: u64,
    /// Registrations.
    pub registrations: u64,
    /// Reports.
    pub reports: u64,
    /// Assets.
    pub assets: u64,
}

impl Counts {
    /// Every row.
    pub fn rows(&self) -> u64 {
        self.units + self.registrations + self.reports + self.assets
    }

    fn add(&mut self, o: &Counts) {
        self.units += o.units;
        self.registrations += o.registrations;
        self.reports += o.reports;
        self.assets += o.assets;
    }
}

/// What a run wrote.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The generated campaign.
    pub campaign_id: i64,
    /// Rows written.
    pub counts: Counts,
    /// Provinces and communes/wards created (0 without the tree options).
    pub provinces: u64,
    /// Communes/wards created.
    pub wards: u64,
    /// Wall time.
    pub elapsed: StdDuration,
}

/// A small, fast, seedable generator (SplitMix64); good enough for test data, not for secrets.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// A stream from `seed`.
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    /// The stream of unit `index` under `seed`.
    pub fn for_unit(seed: u64, index: u64) -> Self {
        let mut base = SplitMix64(seed ^ 0x6B69_656D_6B65_2026);
        let s = base.next_u64() ^ index.wrapping_mul(0xD1B5_4A32_D192_ED03);
        SplitMix64(SplitMix64(s).next_u64())
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            return lo;
        }
        let span = (hi - lo) as u64 + 1;
        lo + (self.next_u64() % span) as i64
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// One item of a non-empty slice.
    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.range(0, items.len() as i64 - 1) as usize]
    }

    /// An instant uniformly between `a` and `b` (whole seconds).
    fn between(&mut self, a: DateTime<Utc>, b: DateTime<Utc>) -> DateTime<Utc> {
        a + Duration::seconds(self.range(0, (b - a).num_seconds().max(0)))
    }
}

/// Budget codes: a bijection of 0..9,000,000 onto the 7-digit codes 1000000..9999999.
struct Codes {
    offset: u64,
    next: u64,
    taken: HashSet<String>,
}

impl Codes {
    const SPACE: u64 = 9_000_000;
    /// Coprime with 9,000,000 (= 2⁶·3²·5⁶), so `i ↦ A·i + B mod 9,000,000` is a permutation.
    const STEP: u64 = 7_654_321;

    fn new(seed: u64, taken: HashSet<String>) -> Self {
        Codes {
            offset: SplitMix64::new(seed).next_u64() % Self::SPACE,
            next: 0,
            taken,
        }
    }

    fn take(&mut self) -> AppResult<String> {
        while self.next < Self::SPACE {
            let n = (Self::STEP * self.next + self.offset) % Self::SPACE;
            self.next += 1;
            let code = format!("{}", 1_000_000 + n);
            if !self.taken.contains(&code) {
                return Ok(code);
            }
        }
        Err(AppError::Internal(
            "no 7-digit unit code left to generate".into(),
        ))
    }
}

fn vn(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    clock::vietnam()
        .with_ymd_and_hms(y, m, d, h, min, 0)
        .single()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_default()
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
}

/// The 34 provinces and cities after the 2025 merger.
const PROVINCES: &[&str] = &[
    "Hà Nội",
    "Huế",
    "Lai Châu",
    "Điện Biên",
    "Sơn La",
    "Lạng Sơn",
    "Quảng Ninh",
    "Thanh Hóa",
    "Nghệ An",
    "Hà Tĩnh",
    "Cao Bằng",
    "Tuyên Quang",
    "Lào Cai",
    "Thái Nguyên",
    "Phú Thọ",
    "Bắc Ninh",
    "Hưng Yên",
    "Hải Phòng",
    "Ninh Bình",
    "Quảng Trị",
    "Đà Nẵng",
    "Quảng Ngãi",
    "Gia Lai",
    "Khánh Hòa",
    "Lâm Đồng",
    "Đắk Lắk",
    "Hồ Chí Minh",
    "Đồng Nai",
    "Tây Ninh",
    "Cần Thơ",
    "Vĩnh Long",
    "Đồng Tháp",
    "Cà Mau",
    "An Giang",
];

const PLACES: &[&str] = &[
    "Tam Thanh",
    "Hoàng Văn Thụ",
    "Đông Kinh",
    "Chi Lăng",
    "Kỳ Lừa",
    "Bình Minh",
    "Tân Tiến",
    "Hòa Bình",
    "Quang Trung",
    "Lê Lợi",
    "Trần Phú",
    "Hùng Vương",
    "Thống Nhất",
    "Độc Lập",
    "Hưng Đạo",
    "Nam Sơn",
    "Bắc Sơn",
    "Đông Hải",
    "Tây Hồ",
    "Phú Lộc",
    "An Phú",
    "Tân Lập",
    "Minh Khai",
    "Thịnh Đán",
    "Gia Sàng",
    "Yên Thế",
    "Cẩm Phả",
    "Mường Thanh",
    "Tân Hòa",
    "Phước Long",
    "Long Hưng",
    "Vĩnh Phúc",
    "Thuận An",
    "Hải Châu",
    "Ngũ Hành Sơn",
    "Xuân Hòa",
    "Hạ Long",
    "Sa Pa",
    "Đồng Xoài",
    "Cái Răng",
];

/// The centrally-governed cities among [`PROVINCES`] ("Thành phố …"; the others are "Tỉnh …").
const CITIES: &[&str] = &[
    "Hà Nội",
    "Huế",
    "Hải Phòng",
    "Đà Nẵng",
    "Hồ Chí Minh",
    "Cần Thơ",
];

/// The two syllables of a generated commune/ward name ("Tân Lợi", "Vĩnh Phú"…): 20 × 20.
const WARD_FIRST: &[&str] = &[
    "Tân", "Phú", "An", "Bình", "Hòa", "Long", "Vĩnh", "Thạnh", "Phước", "Đông", "Tây", "Nam",
    "Bắc", "Hưng", "Minh", "Quang", "Thanh", "Xuân", "Yên", "Trung",
];
const WARD_SECOND: &[&str] = &[
    "Lợi", "Hưng", "Phú", "Thịnh", "An", "Bình", "Hòa", "Lộc", "Thành", "Sơn", "Hải", "Tiến",
    "Phong", "Mỹ", "Khánh", "Điền", "Thuận", "Lâm", "Nghĩa", "Đức",
];

/// A generated commune/ward, where its units are placed.
#[derive(Debug, Clone)]
struct Place {
    ward_id: i64,
    province_id: i64,
    province_code: String,
    /// The province's short name ("Lạng Sơn").
    province: String,
    /// The ward's name without its level ("Tân Lợi").
    name: String,
    /// "xã" or "phường".
    level: &'static str,
}

/// The name of ward `w` (0-based) of the province at `p` (0-based): distinct within a province
/// (`i ↦ 7·i + 13·p mod 400` is a permutation), numbered past the 400 two-syllable names.
fn ward_name(p: usize, w: usize) -> (String, &'static str) {
    let n = WARD_FIRST.len() * WARD_SECOND.len();
    let i = (7 * w + 13 * p) % n;
    let mut name = format!(
        "{} {}",
        WARD_FIRST[i / WARD_SECOND.len()],
        WARD_SECOND[i % WARD_SECOND.len()]
    );
    if w >= n {
        name = format!("{name} {}", w / n + 1);
    }
    // Six in ten are communes, as in the country (about 2,600 of 3,300).
    let level = if (w * 3 + p) % 5 < 3 {
        "xã"
    } else {
        "phường"
    };
    (name, level)
}

fn capitalised(level: &str) -> &'static str {
    if level == "xã" { "Xã" } else { "Phường" }
}

/// The first `n` unused codes of `width` digits, from 1 up (`None` when they run out).
fn free_codes(taken: &HashSet<String>, width: usize, n: usize) -> Option<Vec<String>> {
    let max = 10u64.pow(width as u32) - 1;
    let out: Vec<String> = (1..=max)
        .map(|i| format!("{i:0width$}"))
        .filter(|c| !taken.contains(c))
        .take(n)
        .collect();
    (out.len() == n).then_some(out)
}

/// Ids of the nodes with these codes.
async fn node_ids(db: &impl ConnectionTrait, codes: &[String]) -> AppResult<HashMap<String, i64>> {
    let mut out = HashMap::with_capacity(codes.len());
    for part in codes.chunks(1000) {
        let rows: Vec<(String, i64)> = admin_node::Entity::find()
            .select_only()
            .column(admin_node::Column::Code)
            .column(admin_node::Column::Id)
            .filter(admin_node::Column::Code.is_in(part.to_vec()))
            .into_tuple()
            .all(db)
            .await?;
        out.extend(rows);
    }
    Ok(out)
}

/// Writes the tree (`provinces` provinces of `wards` wards each, on codes no node holds yet)
/// in one transaction and returns its wards, province by province, in code order.
async fn write_tree(
    db: &sea_orm::DatabaseConnection,
    provinces: u32,
    wards: u32,
) -> AppResult<Vec<Place>> {
    let taken: HashSet<String> = admin_node::Entity::find()
        .select_only()
        .column(admin_node::Column::Code)
        .into_tuple::<String>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    let (p_n, w_n) = (provinces as usize, wards as usize);
    let full = |what: &str| {
        AppError::conflict(
            format!("Không còn đủ mã {what} chưa dùng cho cây hành chính cần sinh."),
            format!("Not enough unused {what} codes left for the tree to generate."),
        )
    };
    let p_codes = free_codes(&taken, 2, p_n).ok_or_else(|| full("tỉnh (2 chữ số)"))?;
    let w_codes = free_codes(&taken, 5, p_n * w_n).ok_or_else(|| full("xã/phường (5 chữ số)"))?;
    let at = vn(2025, 12, 1, 8, 0);
    let node =
        |code: &str, name: String, level: Level, parent: Option<i64>| admin_node::ActiveModel {
            search: Set(search::key(code, &name)),
            code: Set(code.to_string()),
            name: Set(name),
            level: Set(level.as_str().to_string()),
            parent_id: Set(parent),
            created_at: Set(at),
            updated_at: Set(at),
            ..Default::default()
        };
    let short: Vec<String> = (0..p_n)
        .map(|p| match p / PROVINCES.len() {
            0 => PROVINCES[p].to_string(),
            k => format!("{} {}", PROVINCES[p % PROVINCES.len()], k + 1),
        })
        .collect();
    let tx = db.begin().await?;
    let rows = p_codes
        .iter()
        .zip(&short)
        .map(|(code, name)| {
            let city = CITIES.iter().any(|c| name.starts_with(c));
            let kind = if city { "Thành phố" } else { "Tỉnh" };
            node(code, format!("{kind} {name}"), Level::Province, None)
        })
        .collect();
    insert_all(&tx, rows).await?;
    let p_ids = node_ids(&tx, &p_codes).await?;
    let id_of = |ids: &HashMap<String, i64>, code: &String| {
        ids.get(code)
            .copied()
            .ok_or_else(|| AppError::Internal(format!("generated node {code} vanished")))
    };
    let mut places = Vec::with_capacity(p_n * w_n);
    let mut rows = Vec::with_capacity(p_n * w_n);
    for (p, p_code) in p_codes.iter().enumerate() {
        let province_id = id_of(&p_ids, p_code)?;
        for w in 0..w_n {
            let code = &w_codes[p * w_n + w];
            let (name, level) = ward_name(p, w);
            rows.push(node(
                code,
                format!("{} {name}", capitalised(level)),
                Level::Ward,
                Some(province_id),
            ));
            places.push(Place {
                ward_id: 0,
                province_id,
                province_code: p_code.clone(),
                province: short[p].clone(),
                name,
                level,
            });
        }
    }
    insert_all(&tx, rows).await?;
    let w_ids = node_ids(&tx, &w_codes).await?;
    for (place, code) in places.iter_mut().zip(&w_codes) {
        place.ward_id = id_of(&w_ids, code)?;
    }
    tx.commit().await?;
    Ok(places)
}

const SCHOOLS: &[&str] = &[
    "Trường Mầm non",
    "Trường Tiểu học",
    "Trường THCS",
    "Trường THPT",
    "Trường Phổ thông dân tộc bán trú",
];
const SERVICES: &[&str] = &[
    "Trung tâm Dịch vụ công ích",
    "Trạm Y tế",
    "Trung tâm Văn hóa - Thể thao",
    "Ban Quản lý dự án đầu tư xây dựng",
    "Trung tâm Phục vụ hành chính công",
];
const AGENCIES: &[&str] = &[
    "Văn phòng HĐND và UBND",
    "Phòng Kinh tế, Hạ tầng và Đô thị",
    "Phòng Văn hóa - Xã hội",
    "Phòng Kinh tế",
];
const SOCIO: &[&str] = &[
    "Ủy ban MTTQ Việt Nam",
    "Hội Liên hiệp Phụ nữ",
    "Hội Nông dân",
    "Hội Cựu chiến binh",
    "Đoàn Thanh niên",
];
const EQUIPMENT: &[(&str, &str, i64, i64)] = &[
    // name, unit of measure, unit price range (đồng)
    ("Máy tính để bàn", "bộ", 12_000_000, 25_000_000),
    ("Máy tính xách tay", "cái", 15_000_000, 35_000_000),
    ("Máy in laser", "cái", 10_000_000, 18_000_000),
    ("Máy photocopy", "cái", 45_000_000, 120_000_000),
    ("Điều hòa nhiệt độ", "bộ", 12_000_000, 30_000_000),
    ("Máy chiếu", "bộ", 15_000_000, 40_000_000),
    (
        "Bộ thiết bị dạy học tối thiểu",
        "bộ",
        30_000_000,
        150_000_000,
    ),
    ("Bàn ghế hội trường", "bộ", 10_000_000, 60_000_000),
    ("Máy phát điện", "cái", 40_000_000, 250_000_000),
    (
        "Hệ thống âm thanh hội trường",
        "hệ thống",
        25_000_000,
        180_000_000,
    ),
    ("Tủ đựng hồ sơ", "cái", 10_000_000, 14_000_000),
    ("Thiết bị y tế", "bộ", 20_000_000, 300_000_000),
];
const CARS: &[(&str, i64)] = &[
    ("Toyota Innova 2.0E", 7),
    ("Toyota Fortuner 2.4", 7),
    ("Mitsubishi Xpander", 7),
    ("Kia Carnival", 8),
    ("Ford Transit", 16),
    ("Hyundai Solati", 16),
    ("Toyota Camry 2.5Q", 5),
];
const ORIGINS: &[&str] = &["purchased", "built", "transferred_in", "donated", "other"];
const MEMBERS: &[&str] = &[
    "Nguyễn Văn An",
    "Trần Thị Bình",
    "Lê Văn Cường",
    "Phạm Thị Dung",
    "Hoàng Văn Em",
    "Vũ Thị Giang",
    "Đặng Văn Hùng",
    "Bùi Thị Lan",
    "Đỗ Văn Minh",
    "Ngô Thị Nga",
];

fn usage(rng: &mut SplitMix64) -> &'static str {
    match rng.range(0, 99) {
        0..=87 => "1",
        88..=90 => "2",
        91..=94 => "3",
        _ => "4",
    }
}

/// A record builder that fills every derived value itself, so that the form's checks change nothing.
struct Rec(Record);

impl Rec {
    fn new(section: Option<&str>, code: String, name: &str, uom: &str) -> Self {
        let mut r = Record::new();
        if let Some(s) = section {
            r.insert("section".into(), Value::Code(s.into()));
        }
        r.insert("code".into(), Value::Text(code));
        r.insert("name".into(), Value::Text(name.into()));
        r.insert("unit_of_measure".into(), Value::Text(uom.into()));
        Rec(r)
    }
    fn set(&mut self, k: &str, v: Value) -> &mut Self {
        self.0.insert(k.into(), v);
        self
    }
    fn text(&mut self, k: &str, v: impl Into<String>) -> &mut Self {
        self.set(k, Value::Text(v.into()))
    }
    fn code(&mut self, k: &str, v: &str) -> &mut Self {
        self.set(k, Value::Code(v.into()))
    }
    fn int(&mut self, k: &str, v: i64) -> &mut Self {
        self.set(k, Value::Int(v))
    }
    /// A decimal in thousandths.
    fn milli(&mut self, k: &str, v: i64) -> &mut Self {
        self.set(k, Value::Milli(v))
    }
    fn qty(&mut self, books: i64, counted: i64) -> &mut Self {
        self.milli("qty_books", books)
            .milli("qty_counted", counted)
            .milli("qty_difference", books - counted)
    }
    /// Cost split by source, depreciation and the remaining value.
    fn money(&mut self, cost: i64, budget: i64, depreciation: i64, basis: &str) -> &mut Self {
        self.set("original_cost", Value::Money(cost))
            .set("original_cost_budget", Value::Money(budget))
            .set("original_cost_other", Value::Money(cost - budget))
            .set("depreciation", Value::Money(depreciation))
            .set("remaining_value", Value::Money(cost - depreciation))
            .code("price_basis", basis)
    }
    fn common(&mut self, rng: &mut SplitMix64, origin: &str, year: i64) -> &mut Self {
        let status = usage(rng);
        self.code("usage_status", status)
            .code("origin", origin)
            .int("year_in_use", year)
    }
    fn doc(&mut self, kind: &str, number: String, on: NaiveDate) -> &mut Self {
        self.set(
            "legal_documents",
            Value::Docs(vec![LegalDoc {
                kind: kind.into(),
                number,
                date: Some(on),
            }]),
        )
    }
}

fn land(rng: &mut SplitMix64, n: usize, place: &str, province: &str) -> Record {
    let area = rng.range(300, 20_000);
    let counted = if rng.chance(0.9) {
        area
    } else {
        area - rng.range(1, area / 20 + 1)
    };
    let cost = area * rng.range(500, 20_000) * 1000;
    let cert = format!("C{}{:06}", ["S", "T", "Đ"][n % 3], rng.range(0, 999_999));
    let year = rng.range(1980, 2020);
    let office = counted * rng.range(40, 70) / 100;
    let service = (counted - office) * rng.range(0, 90) / 100;
    let mut r = Rec::new(
        Some("I"),
        format!("DAT-{:02}", n + 1),
        if n == 0 {
            "Khu đất trụ sở"
        } else {
            "Khu đất cơ sở"
        },
        "m²",
    );
    let origin = rng.pick(&["transferred_in", "transferred_in", "other"]);
    r.qty(area * 1000, counted * 1000)
        .money(cost, cost, 0, "actual")
        .common(rng, origin, year)
        .text("location", format!("Xã/phường {place}, {province}"))
        .doc(
            "land_use_certificate",
            cert.clone(),
            date(year.clamp(1995, 2025) as i32, rng.range(1, 12) as u32, 15),
        )
        .text("land_certificate_no", cert)
        .milli("area_office", office * 1000)
        .milli("area_public_service", service * 1000);
    r.0
}

fn building(rng: &mut SplitMix64, n: usize) -> Record {
    let floors = rng.range(1, 5);
    let floor_area = rng.range(80, 3000);
    let footprint_half_m2 = (floor_area * 2 / floors).max(1);
    let cost = floor_area * rng.range(4_000, 9_000) * 1000;
    let age = rng.range(1, 25);
    let year = 2026 - age;
    let budget = if rng.chance(0.9) { cost } else { cost / 10 * 8 };
    let mut r = Rec::new(
        Some("II"),
        format!("NHA-{:02}", n + 1),
        rng.pick(&[
            "Nhà làm việc",
            "Nhà lớp học",
            "Nhà đa năng",
            "Nhà kho",
            "Nhà ăn",
        ]),
        "m²",
    );
    r.qty(floor_area * 1000, floor_area * 1000)
        .money(cost, budget, cost / 25 * age, "actual")
        .common(rng, "built", year)
        .text("plot_code", "DAT-01")
        .code(
            "building_grade",
            ["I", "II", "III", "IV"][rng.range(1, 3) as usize],
        )
        .int("year_built", year - rng.range(0, 1))
        .int("floors", floors)
        .milli("footprint_area", footprint_half_m2 * 500)
        .milli("floor_area", floor_area * 1000);
    r.0
}

fn car(rng: &mut SplitMix64, n: usize) -> Record {
    let (model, seats) = rng.pick(CARS);
    let cost = rng.range(600, 1_500) * 1_000_000;
    let age = rng.range(0, 10);
    let year = 2025 - age;
    let plate = format!(
        "{:02}{}-{:03}.{:02}",
        rng.range(11, 99),
        rng.pick(&["A", "B", "C", "D", "LD"]),
        rng.range(0, 999),
        rng.range(0, 99)
    );
    let mut r = Rec::new(
        Some("III"),
        format!("XE-{:02}", n + 1),
        "Xe ô tô phục vụ công tác chung",
        "chiếc",
    );
    r.qty(1000, 1000)
        .money(cost, cost, cost / 10 * age, "actual")
        .common(rng, "purchased", year)
        .doc(
            "vehicle_registration",
            format!("{:06}", rng.range(0, 999_999)),
            date(year as i32, rng.range(1, 12) as u32, 10),
        )
        .text("make_model", model)
        .text("license_plate", plate)
        .int("seats", seats)
        .code(
            "car_category",
            rng.pick(&["general", "general", "by_title", "specialised"]),
        )
        .int("year_of_manufacture", year - rng.range(0, 1));
    r.0
}

fn equipment(rng: &mut SplitMix64, n: usize) -> Record {
    let code = format!("TS-{:04}", n + 1);
    if rng.chance(0.005) {
        // A special fixed asset at the conventional price.
        let year = rng.range(1990, 2020);
        let mut r = Rec::new(
            Some("IV"),
            code,
            "Hiện vật trưng bày (tài sản đặc biệt)",
            "cái",
        );
        r.qty(1000, 1000)
            .money(10_000_000, 10_000_000, 0, "conventional")
            .common(rng, "donated", year)
            .text("specification", "Hiện vật có giá trị lịch sử");
        return r.0;
    }
    let (name, uom, lo, hi) = rng.pick(EQUIPMENT);
    let qty = rng.range(1, 12);
    let counted = if rng.chance(0.95) { qty } else { qty - 1 };
    let cost = qty * rng.range(lo / 1000, hi / 1000) * 1000;
    let age = rng.range(0, 9);
    let budget = if rng.chance(0.85) { cost } else { cost / 2 };
    let origin = rng.pick(ORIGINS);
    let mut r = Rec::new(Some("IV"), code, name, uom);
    r.qty(qty * 1000, counted * 1000)
        .money(cost, budget, cost / 10 * age, "actual")
        .common(rng, origin, 2025 - age)
        .text("specification", format!("Quy cách {}", rng.range(100, 999)));
    r.0
}

fn road(rng: &mut SplitMix64, n: usize, place: &str) -> Record {
    let length_m = rng.range(200, 15_000);
    let conventional = rng.chance(0.1);
    let cost = if conventional {
        1
    } else {
        length_m * rng.range(5_000, 20_000) * 1000
    };
    let age = rng.range(1, 40);
    let surface_half_m = rng.range(7, 24);
    let class = rng.pick(&["urban", "ward", "alley", "provincial"]);
    let mut r = Rec::new(
        None,
        format!("DB-{:02}", n + 1),
        &format!("Đường {} {}", place, n + 1),
        "km",
    );
    r.qty(length_m, length_m)
        .money(
            cost,
            cost,
            if conventional { 0 } else { cost / 40 * age },
            if conventional {
                "conventional"
            } else {
                "actual"
            },
        )
        .common(rng, "built", 2026 - age)
        .code("management_class", class)
        .milli("length_km", length_m)
        .code(
            "surface_type",
            rng.pick(&[
                "asphalt_concrete",
                "cement_concrete",
                "bitumen_seal",
                "aggregate",
            ]),
        )
        .milli("surface_width_m", surface_half_m * 500)
        .milli("subgrade_width_m", (surface_half_m + rng.range(2, 6)) * 500)
        .int("culvert_count", rng.range(0, 12))
        .text("managing_unit", format!("UBND xã/phường {place}"));
    if class == "provincial" {
        r.text("route_code", format!("ĐT.{}", rng.range(100, 999)));
    }
    r.0
}

fn facility(rng: &mut SplitMix64, n: usize, place: &str) -> Record {
    let kind = rng.pick(&[
        "group_house",
        "group_house",
        "stadium",
        "ward_centre",
        "training_hall",
    ]);
    let cost = rng.range(300, 5_000) * 1_000_000;
    let budget = cost / 10 * rng.range(6, 10);
    let other = cost - budget;
    let community = other * rng.range(0, 10) / 10;
    let age = rng.range(1, 25);
    let year = 2026 - age;
    let land = rng.range(200, 8_000);
    let mut r = Rec::new(
        None,
        format!("VH-{:02}", n + 1),
        &format!(
            "{} {} {}",
            if kind == "stadium" {
                "Sân thể thao"
            } else {
                "Nhà văn hóa"
            },
            place,
            n + 1
        ),
        "công trình",
    );
    r.qty(1000, 1000)
        .money(cost, budget, cost / 25 * age, "actual")
        .common(rng, "built", year)
        .code("facility_kind", kind)
        .text(
            "residential_group",
            format!("Tổ dân phố {}", rng.range(1, 30)),
        )
        .milli("land_area", land * 1000)
        .int("year_built", year - rng.range(0, 1))
        .set("cost_community", Value::Money(community))
        .text("managing_body", format!("UBND xã/phường {place}"))
        .set("on_unit_books", Value::Bool(false));
    if kind == "stadium" {
        r.milli("sports_ground_area", land * 1000 * 8 / 10);
    } else {
        r.code("building_grade", "IV")
            .int("floors", rng.range(1, 2))
            .milli("floor_area", rng.range(80, 600) * 1000)
            .int("hall_seats", rng.range(50, 300));
    }
    r.0
}

/// One report to write.
#[derive(Debug, Clone)]
struct ReportPlan {
    model: report::ActiveModel,
    assets: Vec<asset::ActiveModel>,
}

/// One unit to write; ids of the unit and campaign are filled in at write time.
#[derive(Debug, Clone)]
struct UnitPlan {
    unit: unit::ActiveModel,
    registration: Option<registration::ActiveModel>,
    reports: Vec<ReportPlan>,
}

/// The forms the generator writes.
#[derive(Clone)]
struct Forms {
    f01: Arc<Form>,
    f02: Arc<Form>,
    f18: Arc<Form>,
}

impl Forms {
    fn of(&self, t: &str) -> &Arc<Form> {
        match t {
            "02" => &self.f02,
            "18" => &self.f18,
            _ => &self.f01,
        }
    }
}

/// How a report ends up.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Fate {
    Open,
    OnTime,
    Late,
    Returned,
    Resubmitted,
}

fn plan_unit(
    forms: &Forms,
    seed: u64,
    index: u64,
    code: String,
    reg_code: Option<String>,
    assets_per_unit: u32,
    at: Option<&Place>,
) -> UnitPlan {
    let mut rng = SplitMix64::for_unit(seed, index);
    // Drawn even when the unit is placed, so that the rest of its stream stays the same.
    let (mut province, mut place) = (rng.pick(PROVINCES), rng.pick(PLACES));
    let mut level = if rng.chance(0.6) { "xã" } else { "phường" };
    if let Some(at) = at {
        (province, place, level) = (at.province.as_str(), at.name.as_str(), at.level);
    }
    let (kind, name) = match rng.range(0, 99) {
        0..=44 => (
            UnitKind::School,
            format!("{} {place} {}", rng.pick(SCHOOLS), rng.range(1, 9)),
        ),
        45..=64 => (
            UnitKind::PublicServiceUnit,
            format!("{} {level} {place}", rng.pick(SERVICES)),
        ),
        65..=84 => (
            UnitKind::StateAgency,
            format!("{} {level} {place}", rng.pick(AGENCIES)),
        ),
        85..=89 => (UnitKind::PartyAgency, format!("Đảng ủy {level} {place}")),
        90..=94 => (
            UnitKind::SocioPoliticalOrganisation,
            format!("{} {level} {place}", rng.pick(SOCIO)),
        ),
        95..=97 => (
            UnitKind::ArmedForcesUnit,
            format!("Ban Chỉ huy Quân sự {level} {place}"),
        ),
        _ => (UnitKind::Other, format!("Hội Chữ thập đỏ {level} {place}")),
    };
    let created = vn(2025, 12, 1, 8, 0) + Duration::seconds(index as i64 % 86_400);
    let active = !rng.chance(0.01);
    let contact = rng.chance(0.8);
    let unit = unit::ActiveModel {
        code: Set(code.clone()),
        registration_code: Set(reg_code),
        name: Set(format!("{name}, {province}")),
        kind: Set(kind.as_str().into()),
        parent_id: Set(None),
        address: Set(Some(format!(
            "{} {place}, {province}",
            if level == "xã" { "Xã" } else { "Phường" }
        ))),
        accountant_name: Set(contact.then(|| rng.pick(MEMBERS).to_string())),
        accountant_phone: Set(contact.then(|| format!("09{:08}", rng.range(0, 99_999_999)))),
        accountant_email: Set(contact.then(|| format!("ketoan.{code}@donvi.gov.vn"))),
        active: Set(active),
        search: Set(search::key(&code, &format!("{name}, {province}"))),
        ward_id: Set(at.map(|a| a.ward_id)),
        province_id: Set(at.map(|a| a.province_id)),
        created_at: Set(created),
        updated_at: Set(created),
        ..Default::default()
    };
    let mut plan = UnitPlan {
        unit,
        registration: None,
        reports: vec![],
    };
    if !active || rng.chance(0.02) {
        return plan;
    }
    let deadline_end = clock::deadline_end(date(2026, 3, 31));
    let registered_at = if rng.chance(0.92) {
        rng.between(vn(2026, 1, 5, 7, 30), vn(2026, 3, 31, 17, 0))
    } else {
        rng.between(vn(2026, 4, 1, 7, 30), vn(2026, 4, 30, 17, 0))
    };
    let team: Vec<serde_json::Value> = (0..rng.range(1, 4))
        .map(|i| {
            let position = ["Thủ trưởng", "Kế toán", "Chuyên viên", "Văn thư"][i as usize];
            json!({
                "name": rng.pick(MEMBERS),
                "position": position,
                "team_role": if i == 0 { "Tổ trưởng" } else { "Thành viên" },
            })
        })
        .collect();
    plan.registration = Some(registration::ActiveModel {
        team_decision_no: Set(format!("{:02}/QĐ-TKK", rng.range(1, 99))),
        team_decision_date: Set(Some((registered_at - Duration::days(3)).date_naive())),
        team_members: Set(json!(team)),
        registered_at: Set(registered_at),
        updated_at: Set(registered_at),
        late_changes: Set(0),
        ..Default::default()
    });
    let mut types = vec!["01"];
    if rng.chance(0.03) {
        types.push("02");
    }
    if rng.chance(0.04) {
        types.push("18");
    }
    let extension = rng.chance(0.01).then(|| {
        (
            date(2026, 4, 30),
            "Đơn vị sắp xếp lại tổ chức, cần thêm thời gian",
        )
    });
    // Outcome of each report, then how many assets it holds.
    let outcomes: Vec<(Fate, bool)> = types
        .iter()
        .map(|t| {
            let o = match rng.range(0, 99) {
                0..=49 if registered_at < vn(2026, 3, 25, 0, 0) => Fate::OnTime,
                0..=59 => Fate::Late,
                60..=64 if registered_at < vn(2026, 3, 25, 0, 0) => Fate::Returned,
                65..=69 if registered_at < vn(2026, 3, 25, 0, 0) => Fate::Resubmitted,
                _ => Fate::Open,
            };
            let nil = *t == "18" && o != Fate::Open && o != Fate::Returned && rng.chance(0.3);
            let not_started = o == Fate::Open && rng.chance(0.15);
            (o, nil || not_started)
        })
        .collect();
    let mut budget = i64::from(assets_per_unit);
    let mut counts = vec![0i64; types.len()];
    for (i, t) in types.iter().enumerate().rev() {
        if outcomes[i].1 || *t == "01" {
            continue;
        }
        let want = if *t == "02" {
            rng.range(1, 4)
        } else {
            rng.range(1, 2)
        };
        counts[i] = want.min(budget - 1).max(0);
        budget -= counts[i];
    }
    if !outcomes[0].1 {
        counts[0] = budget;
    }
    for (i, t) in types.iter().enumerate() {
        let (outcome, _) = outcomes[i];
        let form = forms.of(t);
        let records: Vec<Record> = match *t {
            "02" => (0..counts[i] as usize)
                .map(|n| road(&mut rng, n, place))
                .collect(),
            "18" => (0..counts[i] as usize)
                .map(|n| facility(&mut rng, n, place))
                .collect(),
            _ => unit_assets(&mut rng, counts[i], kind, place, province),
        };
        let nil_return = records.is_empty() && outcome != Fate::Open && outcome != Fate::Returned;
        let outcome = if records.is_empty() && !nil_return {
            Fate::Open
        } else {
            outcome
        };
        let start = registered_at + Duration::hours(2);
        let first = match outcome {
            Fate::Open => None,
            Fate::Late => Some(rng.between(
                (start + Duration::days(1)).max(deadline_end + Duration::minutes(30)),
                vn(2026, 5, 31, 17, 0),
            )),
            _ => Some(rng.between(start + Duration::days(1), deadline_end - Duration::hours(7))),
        };
        let entered_by = first.unwrap_or(start + Duration::days(30));
        let mut m = report::ActiveModel {
            type_code: Set(t.to_string()),
            form_code: Set(form.code.clone()),
            state: Set(StoredState::Open),
            nil_return: Set(nil_return),
            record_count: Set(records.len() as i64),
            first_submitted_at: Set(first),
            submitted_at: Set(first),
            returned_at: Set(None),
            return_reason: Set(None),
            return_comments: Set(None),
            accepted_at: Set(None),
            extension_deadline: Set(extension.map(|e| e.0)),
            extension_reason: Set(extension.map(|e| e.1.to_string())),
            version: Set(1),
            created_at: Set(registered_at),
            updated_at: Set(first.unwrap_or(entered_by)),
            ..Default::default()
        };
        if let Some(first) = first {
            m.state = Set(StoredState::Submitted);
            m.version = Set(2);
            match outcome {
                Fate::Returned | Fate::Resubmitted => {
                    let back = first + Duration::days(rng.range(3, 15));
                    m.returned_at = Set(Some(back));
                    m.return_reason = Set(Some(
                        "Đề nghị bổ sung hồ sơ pháp lý và đối chiếu số lượng".into(),
                    ));
                    m.state = Set(StoredState::Returned);
                    m.version = Set(3);
                    m.updated_at = Set(back);
                    if outcome == Fate::Resubmitted {
                        let again = back + Duration::days(rng.range(2, 10));
                        m.state = Set(StoredState::Submitted);
                        m.submitted_at = Set(Some(again));
                        m.version = Set(4);
                        m.updated_at = Set(again);
                    }
                }
                _ if rng.chance(0.5) => {
                    let ok = first + Duration::days(rng.range(1, 20));
                    m.state = Set(StoredState::Accepted);
                    m.accepted_at = Set(Some(ok));
                    m.version = Set(3);
                    m.updated_at = Set(ok);
                }
                _ => {}
            }
        }
        let (mut cost, mut dep, mut rem) = (0i64, 0i64, 0i64);
        let mut models = Vec::with_capacity(records.len());
        for r in &records {
            let n = |k: &str| r.get(k).and_then(Value::number).unwrap_or(0);
            cost += n("original_cost");
            dep += n("depreciation");
            rem += n("remaining_value");
            let at = rng.between(start, entered_by - Duration::minutes(5));
            let mut a = asset::ActiveModel {
                type_code: Set(t.to_string()),
                form_code: Set(form.code.clone()),
                version: Set(1),
                created_by: Set(None),
                updated_by: Set(None),
                created_at: Set(at),
                updated_at: Set(at),
                ..Default::default()
            };
            record::fill(form, r, &mut a);
            models.push(a);
        }
        m.original_cost_total = Set(cost);
        m.depreciation_total = Set(dep);
        m.remaining_value_total = Set(rem);
        plan.reports.push(ReportPlan {
            model: m,
            assets: models,
        });
    }
    plan
}

/// A unit's own assets (form 01a): land, buildings, perhaps cars, then other fixed assets.
fn unit_assets(
    rng: &mut SplitMix64,
    n: i64,
    kind: UnitKind,
    place: &str,
    province: &str,
) -> Vec<Record> {
    let mut out = Vec::with_capacity(n.max(0) as usize);
    let mut left = n;
    let mut take = |want: i64| {
        let k = want.min(left).max(0);
        left -= k;
        k as usize
    };
    let lands = take(if n >= 20 && rng.chance(0.3) { 2 } else { 1 });
    let buildings = take(rng.range(1, 3));
    let cars = take(match kind {
        UnitKind::StateAgency | UnitKind::ArmedForcesUnit => rng.range(0, 2),
        UnitKind::PublicServiceUnit => rng.range(0, 1),
        _ => 0,
    });
    let others = take(i64::MAX);
    for i in 0..lands {
        out.push(land(rng, i, place, province));
    }
    for i in 0..buildings {
        out.push(building(rng, i));
    }
    for i in 0..cars {
        out.push(car(rng, i));
    }
    for i in 0..others {
        out.push(equipment(rng, i));
    }
    out
}

/// `n` records of form 01a for one very large unit, as the generator makes them: one or two
/// plots of land, buildings, cars, then equipment (codes `DAT-01`, `NHA-01`, `XE-01`, `TS-0001`…).
/// For the file benchmarks (`benches/files.rs`), which need a 100,000-asset form.
pub fn large_unit_records(seed: u64, n: u64) -> Vec<Record> {
    let mut rng = SplitMix64::for_unit(seed, u64::MAX);
    let n = i64::try_from(n).unwrap_or(i64::MAX);
    unit_assets(
        &mut rng,
        n,
        UnitKind::PublicServiceUnit,
        "Tam Thanh",
        "Lạng Sơn",
    )
}

/// Most rows one INSERT may carry: 1,000, fewer for wide tables (SQLite allows 32,766 parameters).
fn batch_rows<E: EntityTrait>() -> usize {
    let cols = E::Column::iter().count().max(1);
    (30_000 / cols).clamp(1, 1000)
}

async fn insert_all<A, C>(db: &C, rows: Vec<A>) -> AppResult<()>
where
    A: sea_orm::ActiveModelTrait + Send,
    C: ConnectionTrait,
{
    let size = batch_rows::<A::Entity>();
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let batch: Vec<A> = rows.by_ref().take(size).collect();
        <A::Entity as EntityTrait>::insert_many(batch)
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

async fn write_chunk(
    db: &sea_orm::DatabaseConnection,
    campaign_id: i64,
    plans: Vec<UnitPlan>,
) -> AppResult<Counts> {
    let tx = db.begin().await?;
    let codes: Vec<String> = plans
        .iter()
        .filter_map(|p| match &p.unit.code {
            sea_orm::ActiveValue::Set(c) => Some(c.clone()),
            _ => None,
        })
        .collect();
    let mut counts = Counts {
        units: plans.len() as u64,
        ..Counts::default()
    };
    insert_all(&tx, plans.iter().map(|p| p.unit.clone()).collect()).await?;
    let ids: HashMap<String, i64> = unit::Entity::find()
        .select_only()
        .column(unit::Column::Code)
        .column(unit::Column::Id)
        .filter(unit::Column::Code.is_in(codes.clone()))
        .into_tuple::<(String, i64)>()
        .all(&tx)
        .await?
        .into_iter()
        .collect();
    let mut regs = Vec::new();
    let mut reports = Vec::new();
    let mut assets_rows = Vec::new();
    for (p, code) in plans.into_iter().zip(codes) {
        let unit_id = *ids
            .get(&code)
            .ok_or_else(|| AppError::Internal(format!("generated unit {code} vanished")))?;
        // The distribution key of every row under the unit: its province.
        let province_id = match &p.unit.province_id {
            sea_orm::ActiveValue::Set(v) | sea_orm::ActiveValue::Unchanged(v) => *v,
            sea_orm::ActiveValue::NotSet => None,
        };
        if let Some(mut r) = p.registration {
            r.campaign_id = Set(campaign_id);
            r.unit_id = Set(unit_id);
            r.province_id = Set(province_id);
            regs.push(r);
        }
        for mut rp in p.reports {
            rp.model.campaign_id = Set(campaign_id);
            rp.model.unit_id = Set(unit_id);
            rp.model.province_id = Set(province_id);
            reports.push(rp.model);
            for mut a in rp.assets {
                a.campaign_id = Set(campaign_id);
                a.unit_id = Set(unit_id);
                a.province_id = Set(province_id);
                assets_rows.push(a);
            }
        }
    }
    counts.registrations = regs.len() as u64;
    counts.reports = reports.len() as u64;
    counts.assets = assets_rows.len() as u64;
    insert_all(&tx, regs).await?;
    insert_all(&tx, reports).await?;
    insert_all(&tx, assets_rows).await?;
    tx.commit().await?;
    Ok(counts)
}

/// Where generated units go: the generated wards, `per_ward` units each, in order.
#[derive(Debug, Clone)]
struct Placing {
    wards: Arc<Vec<Place>>,
    per_ward: u64,
}

impl Placing {
    /// The ward of unit `index`.
    fn of(&self, index: u64) -> Option<&Place> {
        self.wards
            .get(usize::try_from(index / self.per_ward.max(1)).unwrap_or(usize::MAX))
    }
}

/// Computes the plans of units `from..to`, with their codes.
fn plan_chunk(
    forms: Forms,
    seed: u64,
    assets_per_unit: u32,
    from: u64,
    codes: Vec<(String, Option<String>)>,
    placing: Option<Placing>,
) -> Vec<UnitPlan> {
    codes
        .into_iter()
        .enumerate()
        .map(|(i, (code, reg))| {
            let index = from + i as u64;
            let at = placing.as_ref().and_then(|p| p.of(index));
            plan_unit(&forms, seed, index, code, reg, assets_per_unit, at)
        })
        .collect()
}

fn form(state: &AppState, t: &str) -> AppResult<Arc<Form>> {
    state.forms.form_for_type(t).cloned().ok_or_else(|| {
        AppError::Internal(format!("the generator needs the form of asset type {t}"))
    })
}

/// Fills the database; `progress` is called after every transaction with the rows so far.
pub async fn generate(
    state: &AppState,
    args: &GenerateArgs,
    mut progress: impl FnMut(&Counts, StdDuration),
) -> AppResult<Outcome> {
    let started = Instant::now();
    let forms = Forms {
        f01: form(state, "01")?,
        f02: form(state, "02")?,
        f18: form(state, "18")?,
    };
    let name = args.name();
    if campaign::Entity::find()
        .filter(campaign::Column::Name.eq(name.clone()))
        .one(&state.db)
        .await?
        .is_some()
    {
        return Err(AppError::conflict(
            format!("Đã có đợt kiểm kê «{name}»; hãy chọn tên khác (--campaign-name)."),
            format!("A campaign named \"{name}\" exists already; choose another --campaign-name."),
        ));
    }
    let existing: Vec<(String, Option<String>)> = unit::Entity::find()
        .select_only()
        .column(unit::Column::Code)
        .column(unit::Column::RegistrationCode)
        .into_tuple()
        .all(&state.db)
        .await?;
    let taken_reg: HashSet<String> = existing.iter().filter_map(|e| e.1.clone()).collect();
    let mut codes = Codes::new(args.seed, existing.into_iter().map(|e| e.0).collect());
    let mut gen_state = state.clone();
    gen_state.clock = Arc::new(clock::FixedClock::new(vn(2025, 12, 15, 8, 0)));
    let c = campaigns::create(
        &gen_state,
        &Actor::system(),
        NewCampaign {
            name: name.clone(),
            authority_name: "BỘ TÀI CHÍNH".into(),
            place_name: "Hà Nội".into(),
            cutoff_at: vn(2026, 1, 1, 0, 0).with_timezone(&clock::vietnam()),
            registration_deadline: date(2026, 3, 31),
            submission_deadline: date(2026, 3, 31),
            status: None,
        },
    )
    .await?;
    let placing = match args.shape() {
        Some((p, w, u)) => Some(Placing {
            wards: Arc::new(write_tree(&state.db, p, w).await?),
            per_ward: u64::from(u),
        }),
        None => None,
    };
    let units = args.unit_count();
    let mut total = Counts::default();
    let chunk = args.units_per_transaction.max(1);
    let mut take_codes = |from: u64| -> AppResult<Vec<(String, Option<String>)>> {
        let to = (from + chunk).min(units);
        (from..to)
            .map(|i| {
                let code = codes.take()?;
                // The registration code leads with the province's code.
                let reg = match placing.as_ref().and_then(|p| p.of(i)) {
                    Some(at) => format!("{}{code}", at.province_code),
                    None => {
                        let n = SplitMix64::for_unit(args.seed, i).range(1, PROVINCES.len() as i64);
                        format!("{n:02}{code}")
                    }
                };
                Ok((code, (!taken_reg.contains(&reg)).then_some(reg)))
            })
            .collect()
    };
    let spawn = |from: u64, codes: Vec<(String, Option<String>)>| {
        let forms = forms.clone();
        let placing = placing.clone();
        let (seed, per) = (args.seed, args.assets_per_unit);
        tokio::task::spawn_blocking(move || plan_chunk(forms, seed, per, from, codes, placing))
    };
    let mut from = 0;
    let mut next = (from < units)
        .then(|| take_codes(from).map(|c| spawn(from, c)))
        .transpose()?;
    while let Some(job) = next.take() {
        let plans = job
            .await
            .map_err(|e| AppError::Internal(format!("generator thread failed: {e}")))?;
        from += plans.len() as u64;
        if from < units {
            next = Some(spawn(from, take_codes(from)?));
        }
        let written = write_chunk(&state.db, c.id, plans).await?;
        total.add(&written);
        progress(&total, started.elapsed());
    }
    // Fresh statistics, so that the planner knows the tables' new sizes (PostgreSQL's autovacuum
    // would get there later; SQLite never does by itself).
    state.db.execute_unprepared("ANALYZE").await?;
    Event::new("generate", "campaign", c.id)
        .campaign(c.id)
        .detail(format!(
            "seed {}: {}{} units, {} registrations, {} reports, {} assets",
            args.seed,
            placing.as_ref().map_or(String::new(), |p| {
                let provinces: HashSet<i64> = p.wards.iter().map(|w| w.province_id).collect();
                format!("{} provinces, {} wards, ", provinces.len(), p.wards.len())
            }),
            total.units,
            total.registrations,
            total.reports,
            total.assets
        ))
        .record(&state.db, &Actor::system(), state.clock.now())
        .await?;
    let wards = placing.as_ref().map_or(0, |p| p.wards.len() as u64);
    Ok(Outcome {
        campaign_id: c.id,
        counts: total,
        provinces: args.shape().map_or(0, |(p, _, _)| u64::from(p)),
        wards,
        elapsed: started.elapsed(),
    })
}

fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// `kiemke generate`: runs [`generate`], printing progress and the rate to standard error.
pub async fn run(state: &AppState, args: &GenerateArgs) -> AppResult<()> {
    let mut last = Instant::now();
    let units = args.unit_count();
    let out = generate(state, args, |c, elapsed| {
        let done = c.units >= units;
        if done || last.elapsed() >= StdDuration::from_secs(2) {
            last = Instant::now();
            let secs = elapsed.as_secs_f64().max(1e-3);
            eprintln!(
                "generate: {}/{} units, {} assets, {} rows in {secs:.1} s ({} rows/s)",
                thousands(c.units),
                thousands(units),
                thousands(c.assets),
                thousands(c.rows()),
                thousands((c.rows() as f64 / secs) as u64)
            );
        }
    })
    .await?;
    let secs = out.elapsed.as_secs_f64().max(1e-3);
    if out.wards > 0 {
        println!(
            "generated the tree: {} provinces, {} communes/wards, {} units per ward",
            out.provinces,
            thousands(out.wards),
            args.units_per_ward.unwrap_or(0)
        );
    }
    println!(
        "generated campaign {}: {} units, {} registrations, {} reports, {} assets ({} rows) in {secs:.1} s, {} rows/s",
        out.campaign_id,
        thousands(out.counts.units),
        thousands(out.counts.registrations),
        thousands(out.counts.reports),
        thousands(out.counts.assets),
        thousands(out.counts.rows()),
        thousands((out.counts.rows() as f64 / secs) as u64)
    );
    Ok(())
}

/// The plans of units `0..n` as text, for determinism checks.
#[cfg(test)]
fn fingerprint(
    forms: &crate::forms::Registry,
    seed: u64,
    n: u64,
    assets_per_unit: u32,
) -> Vec<String> {
    let f = |t: &str| forms.form_for_type(t).cloned();
    let (Some(f01), Some(f02), Some(f18)) = (f("01"), f("02"), f("18")) else {
        return vec![];
    };
    let forms = Forms { f01, f02, f18 };
    let mut codes = Codes::new(seed, HashSet::new());
    (0..n)
        .map(|i| {
            let code = codes.take().unwrap_or_default();
            format!(
                "{:?}",
                plan_unit(&forms, seed, i, code, None, assets_per_unit, None)
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_large_unit_s_records_have_unique_codes_and_pass_every_rule_of_form_01a() {
        let forms = crate::forms::Registry::embedded().unwrap();
        let form = forms.form("01a").unwrap();
        let cutoff = vn(2026, 1, 1, 0, 0);
        let records = large_unit_records(7, 2_000);
        assert_eq!(records.len(), 2_000);
        let mut codes = HashSet::new();
        for r in &records {
            let mut checked = r.clone();
            let issues = record::check_issues(form, &mut checked, cutoff, true);
            assert!(issues.is_empty(), "{r:?}: {issues:?}");
            assert_eq!(
                &checked, r,
                "the checks derive nothing the generator left out"
            );
            assert!(codes.insert(format!("{:?}", r.get("code"))));
        }
        assert_eq!(
            large_unit_records(7, 2_000),
            records,
            "the same seed, the same records"
        );
    }

    #[derive(clap::Parser, Debug)]
    struct Cmd {
        #[command(flatten)]
        args: GenerateArgs,
    }

    fn parse(line: &[&str]) -> Result<GenerateArgs, clap::Error> {
        use clap::Parser;
        Cmd::try_parse_from(std::iter::once("generate").chain(line.iter().copied())).map(|c| c.args)
    }

    #[test]
    fn the_tree_options_go_together_and_replace_the_unit_count() {
        let national = parse(&[
            "--provinces",
            "34",
            "--wards-per-province",
            "97",
            "--units-per-ward",
            "30",
        ])
        .unwrap();
        assert_eq!(national.shape(), Some((34, 97, 30)));
        assert_eq!(national.unit_count(), 98_940);
        let plain = parse(&["--units", "500"]).unwrap();
        assert_eq!((plain.shape(), plain.unit_count()), (None, 500));
        assert_eq!(parse(&[]).unwrap().unit_count(), 1000, "as before");
        assert!(
            parse(&["--provinces", "3"]).is_err(),
            "wards and units needed"
        );
        assert!(
            parse(&["--units-per-ward", "3"]).is_err(),
            "provinces needed"
        );
        assert!(
            parse(&[
                "--units",
                "10",
                "--provinces",
                "1",
                "--wards-per-province",
                "1",
                "--units-per-ward",
                "1"
            ])
            .is_err(),
            "--units and the tree exclude each other"
        );
        assert!(
            parse(&[
                "--provinces",
                "100",
                "--wards-per-province",
                "1",
                "--units-per-ward",
                "1"
            ])
            .is_err(),
            "province codes have two digits"
        );
    }

    #[test]
    fn ward_names_are_distinct_within_a_province() {
        for p in [0, 5, 33] {
            let names: HashSet<String> = (0..500).map(|w| ward_name(p, w).0).collect();
            assert_eq!(names.len(), 500);
        }
        let communes = (0..100).filter(|w| ward_name(0, *w).1 == "xã").count();
        assert_eq!(communes, 60);
    }

    #[test]
    fn free_codes_skip_the_taken_ones() {
        let taken = HashSet::from(["01".to_string(), "03".to_string()]);
        assert_eq!(free_codes(&taken, 2, 3).unwrap(), ["02", "04", "05"]);
        assert_eq!(free_codes(&taken, 2, 97).unwrap().len(), 97);
        assert!(free_codes(&taken, 2, 98).is_none(), "99 codes, two taken");
    }

    #[test]
    fn codes_are_unique_seven_digit_numbers() {
        let mut c = Codes::new(42, HashSet::from(["1000000".to_string()]));
        let mut seen = HashSet::new();
        for _ in 0..100_000 {
            let code = c.take().unwrap();
            assert_eq!(code.len(), 7);
            assert!(code.chars().all(|ch| ch.is_ascii_digit()));
            assert!(seen.insert(code));
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_units() {
        let forms = crate::forms::Registry::embedded().unwrap();
        let a = fingerprint(&forms, 7, 30, 12);
        assert_eq!(a.len(), 30);
        assert_eq!(a, fingerprint(&forms, 7, 30, 12));
        assert_ne!(a, fingerprint(&forms, 8, 30, 12));
    }
}
