//! The workbooks people download and upload, on top of the database: exports
//! stream records out of the database into the pure writers of [`write`];
//! imports read a file with [`read`], check every row against the form,
//! and write all of it in one transaction — or nothing.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, QueryTrait, Set, TransactionTrait, TryIntoModel,
};
use serde::Serialize;
use serde_json::Value as Json;
use utoipa::ToSchema;

use crate::{
    assets::{self, Delta},
    audit::{self, Event},
    auth::Actor,
    campaigns, clock,
    entities::{asset, audit_event, campaign, report, unit},
    error::{AppError, AppResult, FieldError, Lang},
    forms::{Form, Record, Text},
    pagination::PageQuery,
    progress::{self, ProgressFilter},
    state::AppState,
    submissions::ReportState,
    units,
    workbooks::{
        read::{self as import, CellError, ImportError, Limits},
        write::{self as export, Figures, ProgressRow, SheetHeader, TypeProgress, UnitSummary},
    },
};

mod keep_layout;
pub mod read;
pub mod write;

/// Rows fetched from the database per round trip while exporting.
const EXPORT_BATCH: u64 = 1_000;
/// Rows inserted per statement while importing.
const IMPORT_BATCH: usize = 500;

/// A finished workbook.
pub struct Workbook {
    /// Suggested file name.
    pub file_name: String,
    /// The xlsx bytes.
    pub bytes: Vec<u8>,
}

fn export_failed(e: impl std::fmt::Display) -> AppError {
    AppError::Internal(format!("export failed: {e}"))
}

fn form_or_404<'a>(state: &'a AppState, code: &str) -> AppResult<&'a std::sync::Arc<Form>> {
    state.forms.form(code).ok_or_else(|| {
        AppError::not_found(&format!("mẫu biểu «{code}»"), &format!("Form \"{code}\""))
    })
}

async fn header(
    db: &impl ConnectionTrait,
    c: &campaign::Model,
    u: Option<&unit::Model>,
) -> AppResult<SheetHeader> {
    let superior = match u.and_then(|u| u.parent_id) {
        Some(p) => units::get(db, p).await?.name.to_uppercase(),
        None => c.authority_name.clone(),
    };
    let cutoff = c.cutoff_at.with_timezone(&clock::vietnam());
    // The inventory team from the unit's registration (printed on its official form).
    let registration = match u {
        Some(u) => {
            crate::entities::registration::Entity::find()
                .filter(crate::entities::registration::Column::CampaignId.eq(c.id))
                .filter(crate::entities::registration::Column::UnitId.eq(u.id))
                .one(db)
                .await?
        }
        None => None,
    };
    let team = registration
        .as_ref()
        .and_then(|r| {
            serde_json::from_value::<Vec<crate::registrations::TeamMember>>(r.team_members.clone())
                .ok()
        })
        .unwrap_or_default()
        .into_iter()
        .map(|m| export::TeamLine {
            name: m.name,
            position: m.position,
            role: m.team_role,
        })
        .collect();
    let team_decision = registration
        .as_ref()
        .filter(|r| !r.team_decision_no.trim().is_empty())
        .map(|r| {
            let mut d = format!("Quyết định số {}", r.team_decision_no.trim());
            if let Some(date) = r.team_decision_date {
                d.push_str(&format!(" ngày {}", date.format("%d/%m/%Y")));
            }
            d
        })
        .unwrap_or_default();
    Ok(SheetHeader {
        unit_kind: u
            .map(|u| units::UnitKind::parse(&u.kind).label_vi().to_string())
            .unwrap_or_default(),
        unit_address: u.and_then(|u| u.address.clone()).unwrap_or_default(),
        team_decision,
        team,
        superior_body: superior,
        unit_name: u
            .map(|u| u.name.clone())
            .unwrap_or_else(|| c.authority_name.clone()),
        unit_code: u.map(|u| u.code.clone()).unwrap_or_default(),
        cutoff_label: format!(
            "{} giờ ngày {}",
            cutoff.format("%-H"),
            cutoff.format("%d/%m/%Y")
        ),
        place: c.place_name.clone(),
    })
}

/// Streams the records of one form of each unit in `units` (in that order), each unit's in
/// section order then by code, without holding them all: batches of up to [`EXPORT_BATCH`]
/// records, two in flight. Each record comes with its unit's tag `T`.
#[allow(clippy::type_complexity)]
fn stream_records<T: Clone + Send + Sync + 'static>(
    state: &AppState,
    campaign_id: i64,
    units: Vec<(i64, T)>,
    form: std::sync::Arc<Form>,
) -> (
    tokio::sync::mpsc::Receiver<Vec<(T, Record)>>,
    tokio::task::JoinHandle<AppResult<()>>,
) {
    let (tx, rx) = tokio::sync::mpsc::channel::<Vec<(T, Record)>>(2);
    let db = state.db.clone();
    let producer = tokio::spawn(async move {
        let sections: Vec<Option<String>> = if form.has_sections() {
            form.sections
                .iter()
                .map(|s| Some(s.code.clone()))
                .chain([None])
                .collect()
        } else {
            vec![None]
        };
        for (unit_id, tag) in units {
            for section in &sections {
                let mut after = String::new();
                loop {
                    let mut q = asset::Entity::find()
                        .filter(asset::Column::CampaignId.eq(campaign_id))
                        .filter(asset::Column::UnitId.eq(unit_id))
                        .filter(asset::Column::FormCode.eq(form.code.clone()))
                        .filter(asset::Column::Code.gt(after.clone()));
                    q = match (section, form.has_sections()) {
                        (Some(s), _) => q.filter(asset::Column::Section.eq(s.clone())),
                        (None, true) => q.filter(asset::Column::Section.is_null()),
                        (None, false) => q,
                    };
                    let batch = q
                        .order_by_asc(asset::Column::Code)
                        .limit(EXPORT_BATCH)
                        .all(&db)
                        .await?;
                    let Some(last) = batch.last() else { break };
                    after = last.code.clone();
                    let full = batch.len() as u64 == EXPORT_BATCH;
                    let records = batch
                        .iter()
                        .map(|m| (tag.clone(), assets::record_of(&form, m)))
                        .collect();
                    if tx.send(records).await.is_err() {
                        return Ok(());
                    }
                    if !full {
                        break;
                    }
                }
            }
        }
        Ok(())
    });
    (rx, producer)
}

/// The export profile named `code`, or a problem listing the profiles there are.
pub fn profile_or_400(
    state: &AppState,
    code: &str,
) -> AppResult<std::sync::Arc<crate::forms::Profile>> {
    state.forms.profiles().get(code).cloned().ok_or_else(|| {
        let known = state
            .forms
            .profiles()
            .all()
            .map(|p| p.code.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        AppError::field(
            "profile",
            "unknown",
            &format!("Không có hồ sơ xuất «{code}»; dùng một trong: {known}"),
            &format!("There is no export profile \"{code}\"; use one of: {known}"),
        )
    })
}

fn unit_cells(u: &unit::Model) -> std::sync::Arc<export::UnitCells> {
    std::sync::Arc::new(export::UnitCells {
        code: u.code.clone(),
        registration_code: u.registration_code.clone().unwrap_or_default(),
        name: u.name.clone(),
    })
}

/// One unit's form as an xlsx: the official layout (`flat: None`) or the flat layout under
/// the export profile named by `flat`.
pub async fn unit_form(
    state: &AppState,
    actor: &Actor,
    campaign_id: i64,
    unit_id: i64,
    form_code: &str,
    flat: Option<&str>,
) -> AppResult<Workbook> {
    let wb = unit_workbook(state, campaign_id, unit_id, form_code, flat).await?;
    audit::record(
        &state.db,
        actor,
        state.clock.now(),
        Event {
            action: "export",
            entity: "report",
            campaign_id: Some(campaign_id),
            unit_id: Some(unit_id),
            detail: Some(wb.file_name.clone()),
            ..Default::default()
        },
    )
    .await?;
    Ok(wb)
}

/// One unit's form as an xlsx, without the audit event (the caller records it).
async fn unit_workbook(
    state: &AppState,
    campaign_id: i64,
    unit_id: i64,
    form_code: &str,
    flat: Option<&str>,
) -> AppResult<Workbook> {
    let form = form_or_404(state, form_code)?.clone();
    let profile = flat.map(|p| profile_or_400(state, p)).transpose()?;
    let c = campaigns::get(&state.db, campaign_id).await?;
    let u = units::get(&state.db, unit_id).await?;
    crate::submissions::find(&state.db, campaign_id, unit_id, &form.asset_type.code)
        .await
        .map_err(|_| {
            AppError::not_found(
                &format!(
                    "báo cáo mẫu {form_code} của đơn vị (đơn vị chưa đăng ký loại tài sản này)"
                ),
                &format!("Form {form_code} report (the unit has not registered this asset type)"),
            )
        })?;
    let head = header(&state.db, &c, Some(&u)).await?;
    let (mut rx, producer) = stream_records(
        state,
        campaign_id,
        vec![(unit_id, unit_cells(&u))],
        form.clone(),
    );
    let writer_form = form.clone();
    let writer_profile = profile.clone();
    let writer = tokio::task::spawn_blocking(move || {
        let rows = std::iter::from_fn(|| rx.blocking_recv()).flatten();
        match writer_profile {
            Some(p) => export::flat_with(&p, &writer_form, false, rows),
            None => export::official_form(&writer_form, &head, rows.map(|(_, r)| r)),
        }
    });
    let bytes = writer
        .await
        .map_err(export_failed)?
        .map_err(export_failed)?;
    producer.await.map_err(export_failed)??;
    let suffix = match profile.as_deref() {
        None => String::new(),
        Some(p) if p.code == crate::forms::DEFAULT_PROFILE => "_flat".into(),
        Some(p) => format!("_{}", p.code),
    };
    let file_name = format!("{}_{}{suffix}.xlsx", form.code, u.code);
    Ok(Workbook { file_name, bytes })
}

/// Every unit's records of one form in one flat file under an export profile: the units that
/// registered the form's type, by budget-relationship code, each unit's records in section
/// order then by code.
pub async fn ward_flat(
    state: &AppState,
    actor: &Actor,
    campaign_id: i64,
    form_code: &str,
    profile: &str,
) -> AppResult<Workbook> {
    let form = form_or_404(state, form_code)?.clone();
    let profile = profile_or_400(state, profile)?;
    campaigns::get(&state.db, campaign_id).await?;
    let unit_ids: Vec<i64> = report::Entity::find()
        .filter(report::Column::CampaignId.eq(campaign_id))
        .filter(report::Column::FormCode.eq(form.code.clone()))
        .all(&state.db)
        .await?
        .iter()
        .map(|r| r.unit_id)
        .collect();
    let units: Vec<(i64, std::sync::Arc<export::UnitCells>)> = unit::Entity::find()
        .filter(unit::Column::Id.is_in(unit_ids))
        .order_by_asc(unit::Column::Code)
        .all(&state.db)
        .await?
        .iter()
        .map(|u| (u.id, unit_cells(u)))
        .collect();
    let (mut rx, producer) = stream_records(state, campaign_id, units, form.clone());
    let writer_form = form.clone();
    let writer_profile = profile.clone();
    let bytes = tokio::task::spawn_blocking(move || {
        let rows = std::iter::from_fn(|| rx.blocking_recv()).flatten();
        export::flat_with(&writer_profile, &writer_form, true, rows)
    })
    .await
    .map_err(export_failed)?
    .map_err(export_failed)?;
    producer.await.map_err(export_failed)??;
    let file_name = format!("{}_tat_ca_don_vi_{}.xlsx", form.code, profile.code);
    audit_export(state, actor, campaign_id, &file_name).await?;
    Ok(Workbook { file_name, bytes })
}

/// A zip being written: its file name and its bytes as they are produced.
pub struct ZipStream {
    /// Suggested file name.
    pub file_name: String,
    /// Chunks of the zip, in order; an error ends it early.
    pub chunks: tokio::sync::mpsc::Receiver<std::io::Result<Vec<u8>>>,
}

/// A `Write` whose bytes are taken out after each file of a streamed zip.
#[derive(Clone, Default)]
struct Drain(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Drain {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .map_err(|_| std::io::Error::other("zip buffer poisoned"))?
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drain {
    fn take(&self) -> std::io::Result<Vec<u8>> {
        Ok(std::mem::take(&mut *self.0.lock().map_err(|_| {
            std::io::Error::other("zip buffer poisoned")
        })?))
    }
}

/// Every registered unit's official form of one form, in one zip (one `.xlsx` per unit, in
/// unit-code order). The zip is streamed: each workbook is sent as soon as it is made, so the
/// download starts after the first unit. One audit event records the export.
pub async fn forms_zip(
    state: &AppState,
    actor: &Actor,
    campaign_id: i64,
    form_code: &str,
) -> AppResult<ZipStream> {
    let form = form_or_404(state, form_code)?.clone();
    campaigns::get(&state.db, campaign_id).await?;
    // The units with a report of the type, in code order (a subquery: at national scale the
    // ids would not fit in one statement's parameters).
    let unit_ids: Vec<i64> = unit::Entity::find()
        .select_only()
        .column(unit::Column::Id)
        .filter(
            unit::Column::Id.in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(report::Column::UnitId)
                    .from(report::Entity)
                    .and_where(report::Column::CampaignId.eq(campaign_id))
                    .and_where(report::Column::TypeCode.eq(form.asset_type.code.clone()))
                    .take(),
            ),
        )
        .order_by_asc(unit::Column::Code)
        .into_tuple()
        .all(&state.db)
        .await?;
    let file_name = format!("{}_tat_ca_don_vi.zip", form.code);
    audit_export(state, actor, campaign_id, &file_name).await?;
    let (tx, chunks) = tokio::sync::mpsc::channel(2);
    let state = state.clone();
    let form_code = form.code.clone();
    tokio::spawn(async move {
        let drain = Drain::default();
        let mut zip = zip::ZipWriter::new_stream(drain.clone());
        // Workbooks are zip files already: stored, not compressed again.
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored)
            .large_file(false);
        for unit_id in unit_ids {
            let step = async {
                let wb = unit_workbook(&state, campaign_id, unit_id, &form_code, None)
                    .await
                    .map_err(|e| std::io::Error::other(e.to_string()))?;
                zip.start_file(wb.file_name.as_str(), options)
                    .map_err(std::io::Error::other)?;
                std::io::Write::write_all(&mut zip, &wb.bytes)?;
                drain.take()
            };
            match step.await {
                Ok(bytes) => {
                    if tx.send(Ok(bytes)).await.is_err() {
                        return;
                    }
                }
                Err(e) => {
                    let _ = tx.send(Err(e)).await;
                    return;
                }
            }
        }
        let end = zip
            .finish()
            .map_err(std::io::Error::other)
            .and_then(|_| drain.take());
        let _ = tx.send(end).await;
    });
    Ok(ZipStream { file_name, chunks })
}

/// The consolidated report of one form: a row per registered unit and a ward total.
pub async fn consolidated(
    state: &AppState,
    actor: &Actor,
    campaign_id: i64,
    form_code: &str,
) -> AppResult<Workbook> {
    let form = form_or_404(state, form_code)?.clone();
    let c = campaigns::get(&state.db, campaign_id).await?;
    #[derive(Debug, sea_orm::FromQueryResult)]
    struct Row {
        unit_id: i64,
        section: Option<String>,
        usage_status: String,
        unit_of_measure: Option<String>,
        count: i64,
        original_cost: i64,
        remaining_value: i64,
        qty_counted: i64,
    }
    use sea_orm::{
        ExprTrait,
        sea_query::{Expr, Func},
    };
    let sum = |col: asset::Column| {
        Expr::expr(Func::coalesce([Expr::col(col).sum(), Expr::val(0i64)])).cast_as("bigint")
    };
    let rows = asset::Entity::find()
        .select_only()
        .column(asset::Column::UnitId)
        .column(asset::Column::Section)
        .column(asset::Column::UsageStatus)
        .column(asset::Column::UnitOfMeasure)
        .column_as(
            Expr::col(asset::Column::Id).count().cast_as("bigint"),
            "count",
        )
        .column_as(sum(asset::Column::OriginalCost), "original_cost")
        .column_as(sum(asset::Column::RemainingValue), "remaining_value")
        .column_as(sum(asset::Column::QtyCounted), "qty_counted")
        .filter(asset::Column::CampaignId.eq(campaign_id))
        .filter(asset::Column::FormCode.eq(form.code.clone()))
        .group_by(asset::Column::UnitId)
        .group_by(asset::Column::Section)
        .group_by(asset::Column::UsageStatus)
        .group_by(asset::Column::UnitOfMeasure)
        .into_model::<Row>()
        .all(&state.db)
        .await?;
    let reports = report::Entity::find()
        .filter(report::Column::CampaignId.eq(campaign_id))
        .filter(report::Column::FormCode.eq(form.code.clone()))
        .all(&state.db)
        .await?;
    let unit_ids: Vec<i64> = reports.iter().map(|r| r.unit_id).collect();
    let units = unit::Entity::find()
        .filter(unit::Column::Id.is_in(unit_ids))
        .order_by_asc(unit::Column::Code)
        .all(&state.db)
        .await?;
    let state_of: HashMap<i64, ReportState> = reports
        .iter()
        .map(|r| (r.unit_id, ReportState::of(r)))
        .collect();
    let mut by_unit: HashMap<i64, UnitSummary> = units
        .iter()
        .map(|u| {
            let st = state_of
                .get(&u.id)
                .copied()
                .unwrap_or(ReportState::NotStarted);
            (
                u.id,
                UnitSummary {
                    unit_code: u.code.clone(),
                    unit_name: u.name.clone(),
                    state: state_label(st).to_string(),
                    sent: st.is_sent(),
                    ..Default::default()
                },
            )
        })
        .collect();
    let measures = export::measures(&form);
    // A section's quantity counts the records in the section's unit (or with none).
    let same_unit = |a: &str, b: &str| a.trim().to_lowercase() == b.trim().to_lowercase();
    for r in rows {
        if let Some(s) = by_unit.get_mut(&r.unit_id) {
            for m in measures.iter().filter(|m| {
                m.field == "qty_counted"
                    && m.section == r.section
                    && r.unit_of_measure
                        .as_deref()
                        .is_none_or(|u| u.trim().is_empty() || same_unit(u, &m.unit))
            }) {
                *s.measures.entry(m.key.clone()).or_default() += r.qty_counted;
            }
            let f = s
                .by_section
                .entry(r.section.unwrap_or_default())
                .or_insert(Figures::default());
            f.count += u64::try_from(r.count).unwrap_or(0);
            f.original_cost += r.original_cost;
            f.remaining_value += r.remaining_value;
            *s.by_status.entry(r.usage_status).or_default() += u64::try_from(r.count).unwrap_or(0);
        }
    }
    // Measures kept in the form's own fields (JSON), read a batch at a time.
    let in_fields: Vec<&export::Measure> = measures
        .iter()
        .filter(|m| m.section.is_none() && !Form::is_core(&m.field))
        .collect();
    if !in_fields.is_empty() {
        #[derive(Debug, sea_orm::FromQueryResult)]
        struct Fields {
            unit_id: i64,
            fields: serde_json::Value,
        }
        let mut pages = asset::Entity::find()
            .select_only()
            .column(asset::Column::UnitId)
            .column(asset::Column::Fields)
            .filter(asset::Column::CampaignId.eq(campaign_id))
            .filter(asset::Column::FormCode.eq(form.code.clone()))
            .order_by_asc(asset::Column::Id)
            .into_model::<Fields>()
            .paginate(&state.db, 1_000);
        while let Some(batch) = pages.fetch_and_next().await? {
            for a in batch {
                let Some(s) = by_unit.get_mut(&a.unit_id) else {
                    continue;
                };
                for m in &in_fields {
                    let value = form
                        .field(&m.field)
                        .zip(a.fields.get(&m.field))
                        .and_then(|(f, v)| crate::forms::Value::from_json(f, v).ok().flatten())
                        .and_then(|v| v.number());
                    if let Some(n) = value {
                        *s.measures.entry(m.key.clone()).or_default() += n;
                    }
                }
            }
        }
    }
    let summaries: Vec<UnitSummary> = units.iter().filter_map(|u| by_unit.remove(&u.id)).collect();
    let head = header(&state.db, &c, None).await?;
    let bytes = tokio::task::spawn_blocking(move || export::summary(&form, &head, &summaries))
        .await
        .map_err(export_failed)?
        .map_err(export_failed)?;
    let file_name = format!("tong_hop_{form_code}.xlsx");
    audit_export(state, actor, campaign_id, &file_name).await?;
    Ok(Workbook { file_name, bytes })
}

async fn audit_export(
    state: &AppState,
    actor: &Actor,
    campaign_id: i64,
    file_name: &str,
) -> AppResult<()> {
    audit::record(
        &state.db,
        actor,
        state.clock.now(),
        Event {
            action: "export",
            entity: "campaign",
            entity_id: Some(campaign_id),
            campaign_id: Some(campaign_id),
            detail: Some(file_name.to_string()),
            ..Default::default()
        },
    )
    .await
}

/// The progress board as a sheet.
pub async fn progress_sheet(
    state: &AppState,
    actor: &Actor,
    campaign_id: i64,
) -> AppResult<Workbook> {
    let c = campaigns::get(&state.db, campaign_id).await?;
    let all = PageQuery {
        page: Some(1),
        per_page: Some(u64::MAX / 2),
    };
    let board = progress::board(state, campaign_id, &ProgressFilter::default(), &all).await?;
    let rows: Vec<ProgressRow> = board
        .rows
        .iter()
        .map(|r| ProgressRow {
            unit_code: r.code.clone(),
            unit_name: r.name.clone(),
            types: r
                .reports
                .iter()
                .map(|t| TypeProgress {
                    form_code: t.form_code.clone(),
                    state: state_label(t.state).to_string(),
                    deadline: t.deadline.format("%d/%m/%Y").to_string(),
                    days_overdue: t
                        .overdue
                        .then(|| -clock::days_left(board.as_of, t.deadline))
                        .filter(|d| *d > 0),
                    submitted_at: t.submitted_at.map(|at| {
                        at.with_timezone(&clock::vietnam())
                            .format("%d/%m/%Y %H:%M")
                            .to_string()
                    }),
                    on_time: t.on_time,
                    record_count: t.record_count.max(0) as u64,
                    original_cost: t.original_cost,
                    remaining_value: t.remaining_value,
                })
                .collect(),
        })
        .collect();
    let head = header(&state.db, &c, None).await?;
    let bytes = tokio::task::spawn_blocking(move || export::progress_sheet(&head, &rows))
        .await
        .map_err(export_failed)?
        .map_err(export_failed)?;
    let file_name = "tien_do.xlsx".to_string();
    audit_export(state, actor, campaign_id, &file_name).await?;
    Ok(Workbook { file_name, bytes })
}

fn state_label(s: ReportState) -> &'static str {
    match s {
        ReportState::NotStarted => "Chưa bắt đầu",
        ReportState::Draft => "Đang nhập",
        ReportState::Submitted => "Đã gửi",
        ReportState::Returned => "Bị trả lại",
        ReportState::Accepted => "Đã chấp nhận",
    }
}

/// What an import did, or would do with `dry_run`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ImportReport {
    /// Nothing was written.
    pub dry_run: bool,
    /// Form the file was read as.
    pub form_code: String,
    /// `xlsx` or `csv`.
    pub file_kind: import::FileKind,
    /// Data rows read.
    pub rows: usize,
    /// Assets created (or that would be).
    pub created: usize,
    /// Assets changed (or that would be).
    pub updated: usize,
    /// Rows identical to the stored asset.
    pub unchanged: usize,
    /// Problems by cell, the first 1,000 of them. When not empty, nothing was written.
    pub errors: Vec<CellError>,
    /// How many problems the file has (more than `errors` lists when over 1,000).
    pub error_count: usize,
    /// Name of the file (CSV positions name it as their sheet).
    #[serde(skip)]
    pub file_name: String,
    /// Sheets read, in workbook order (the ones an annotated copy holds).
    #[serde(skip)]
    pub sheets: Vec<String>,
    /// A workbook whose every sheet read is in our official layout: its error workbook keeps
    /// the file's own formatting.
    #[serde(skip)]
    pub official: bool,
}

/// Problems listed in an import's answer; further ones are only counted, so that a file of bad
/// rows costs no more memory than a good one.
pub const MAX_LISTED_ERRORS: usize = 1_000;

/// How to import.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// Check and report, write nothing.
    pub dry_run: bool,
    /// Form to read the file as (needed when the unit registered several types and the file does not say).
    pub form_code: Option<String>,
    /// Name of the uploaded file (for CSV positions and the audit trail).
    pub file_name: String,
    /// Most data rows accepted.
    pub max_rows: usize,
}

fn import_error(e: ImportError) -> AppError {
    let m = e.message();
    let status = if e.is_too_large() {
        axum::http::StatusCode::PAYLOAD_TOO_LARGE
    } else if matches!(
        e.code(),
        "not_a_spreadsheet" | "unsupported_format" | "encoding"
    ) {
        axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE
    } else {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    };
    let slug = match status.as_u16() {
        413 => "payload-too-large",
        415 => "unsupported-media-type",
        _ => "import-file",
    };
    AppError::Problem {
        status,
        slug,
        detail_vi: m.vi.clone(),
        detail_en: m.en.clone(),
        errors: vec![FieldError {
            field: "file".into(),
            code: e.code().into(),
            message: Lang::current().pick(&m.vi, &m.en).into(),
        }],
    }
}

async fn choose_form(
    state: &AppState,
    campaign_id: i64,
    unit_id: i64,
    asked: Option<&str>,
    bytes: &[u8],
) -> AppResult<std::sync::Arc<Form>> {
    if let Some(code) = asked {
        return Ok(form_or_404(state, code)?.clone());
    }
    let registered = report::Entity::find()
        .filter(report::Column::CampaignId.eq(campaign_id))
        .filter(report::Column::UnitId.eq(unit_id))
        .all(&state.db)
        .await?;
    // Our own layout names its form in its hidden key row; try the registered forms on it.
    let forms: Vec<std::sync::Arc<Form>> = registered
        .iter()
        .filter_map(|r| state.forms.form(&r.form_code).cloned())
        .collect();
    if let [only] = forms.as_slice() {
        return Ok(only.clone());
    }
    // The marker is read from the workbook's cells (a zip's shared strings are compressed, so
    // its bytes never show it): each registered form probes the first row. A key row of
    // another form (`WrongForm`) proves the file is in our official layout; the form whose
    // probe found its own header is then the file's. A flat file proves nothing: ask.
    let mut official = false;
    let mut matching = Vec::new();
    for f in &forms {
        let probe = import::read_with(
            f,
            bytes,
            "probe",
            &Limits {
                max_rows: 1,
                ..Limits::default()
            },
        );
        match probe {
            Err(ImportError::WrongForm { .. }) => official = true,
            Err(ImportError::NoHeader { .. }) => {}
            Ok(p)
                if p.sheets
                    .iter()
                    .any(|s| s.layout == import::Layout::Official) =>
            {
                official = true;
                matching.push(f.clone());
            }
            _ => matching.push(f.clone()),
        }
    }
    if let (true, [only]) = (official, matching.as_slice()) {
        return Ok(only.clone());
    }
    let codes: Vec<String> = forms.iter().map(|f| f.code.clone()).collect();
    Err(AppError::field(
        "form_code",
        "required",
        &format!(
            "Đơn vị đăng ký nhiều mẫu ({}); chọn mẫu của tệp bằng tham số «form_code».",
            codes.join(", ")
        ),
        &format!(
            "The unit registered several forms ({}); name the file's form with \"form_code\".",
            codes.join(", ")
        ),
    ))
}

/// Reads a file and checks every row; with no error and no `dry_run`, writes every row in one
/// transaction — or nothing.
///
/// A pipeline, so that a large file neither waits nor piles up in memory: a blocking thread
/// reads the file and checks each row as it comes ([`Checker`]), handing on batches of
/// [`IMPORT_BATCH`] checked rows; while the file has shown no error, the [`Writer`] writes each
/// batch at once inside the import's transaction (the report row locked, as every writer of the
/// report does). At the first error the checker stops handing rows on but goes on checking, so
/// that the answer lists every problem of the file; the transaction is then rolled back.
/// `on_row` is told how many rows were checked so far.
///
/// `permit` ([`ImportGate::try_enter`]) bounds how many imports run at once; take it before
/// reading the upload, and hold it until the answer (an annotated workbook too) is built.
#[allow(clippy::too_many_arguments)]
pub async fn import(
    state: &AppState,
    actor: &Actor,
    permit: &ImportPermit,
    campaign_id: i64,
    unit_id: i64,
    bytes: axum::body::Bytes,
    opts: &ImportOptions,
    on_row: &(dyn Fn(usize) + Send + Sync),
) -> AppResult<ImportReport> {
    if permit.unit_id != unit_id {
        return Err(AppError::Internal(format!(
            "import for unit {unit_id} under the permit of unit {}",
            permit.unit_id
        )));
    }
    let c = campaigns::get(&state.db, campaign_id).await?;
    campaigns::ensure_open(&c)?;
    units::ensure_writable(&state.db, unit_id).await?;
    let form = choose_form(
        state,
        campaign_id,
        unit_id,
        opts.form_code.as_deref(),
        &bytes,
    )
    .await?;
    let (mut writer, existing) = Writer::start(state, actor, &c, unit_id, &form, opts).await?;
    let checker = Checker {
        form: form.clone(),
        cutoff: c.cutoff_at,
        existing,
        seen: HashMap::new(),
        errors: Problems::default(),
        hand_on: !opts.dry_run,
        planned: Vec::with_capacity(IMPORT_BATCH),
        rows: 0,
        created: 0,
        updated: 0,
        unchanged: 0,
    };
    let limits = Limits {
        max_rows: opts.max_rows,
        ..Limits::default()
    };
    let (to_writer, mut batches) = tokio::sync::mpsc::channel::<Checked>(2);
    let name = opts.file_name.clone();
    let reader =
        tokio::task::spawn_blocking(move || checker.run(&bytes, &name, &limits, to_writer));
    while let Some(batch) = batches.recv().await {
        on_row(batch.rows_checked);
        writer.write(batch.planned).await?;
    }
    let (checker, scan) = reader
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?
        .map_err(import_error)?;
    writer.finish(checker, scan).await
}

/// Imports running at once in the whole service; one more is refused at once with 503.
pub const IMPORTS_AT_ONCE: usize = 2;
/// Seconds a refused import is told to wait (`Retry-After`).
pub const IMPORT_RETRY_SECONDS: u64 = 10;

/// Which imports are running: at most one per unit and [`IMPORTS_AT_ONCE`] in all, so that a burst
/// of uploads neither queues work nor multiplies memory. Entering never waits.
#[derive(Debug, Default)]
pub struct ImportGate {
    running: std::sync::Mutex<Vec<i64>>,
}

/// The right to run an import for a unit; leaving the gate when dropped.
#[derive(Debug)]
pub struct ImportPermit {
    gate: std::sync::Arc<ImportGate>,
    unit_id: i64,
}

impl ImportGate {
    /// Enters for `unit_id`, or refuses at once: 429 while the same unit imports, 503 while
    /// [`IMPORTS_AT_ONCE`] imports run. Either way the answer says when to try again.
    pub fn try_enter(self: &std::sync::Arc<Self>, unit_id: i64) -> AppResult<ImportPermit> {
        let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        let secs = IMPORT_RETRY_SECONDS;
        if running.contains(&unit_id) {
            return Err(AppError::new(
                axum::http::StatusCode::TOO_MANY_REQUESTS,
                "too-many-requests",
                format!(
                    "Đơn vị đang nhập một tệp khác; hãy chờ tệp đó xong rồi thử lại sau {secs} giây."
                ),
                format!(
                    "The unit is already importing a file; wait for it to finish and try again in {secs} seconds."
                ),
            ));
        }
        if running.len() >= IMPORTS_AT_ONCE {
            return Err(AppError::new(
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                format!(
                    "Máy chủ đang nhập {IMPORTS_AT_ONCE} tệp khác; hãy thử lại sau {secs} giây."
                ),
                format!(
                    "The server is importing {IMPORTS_AT_ONCE} other files; try again in {secs} seconds."
                ),
            ));
        }
        running.push(unit_id);
        Ok(ImportPermit {
            gate: self.clone(),
            unit_id,
        })
    }

    /// Imports running now.
    pub fn running(&self) -> usize {
        self.running.lock().unwrap_or_else(|e| e.into_inner()).len()
    }
}

impl Drop for ImportPermit {
    fn drop(&mut self) {
        let mut running = self.gate.running.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(i) = running.iter().position(|u| *u == self.unit_id) {
            running.swap_remove(i);
        }
        let idle = running.is_empty();
        drop(running);
        if idle {
            give_back_memory();
            // The answer (an annotated workbook, a report) is freed only once it is sent: trim
            // again shortly after, if no import started meanwhile.
            if let Ok(rt) = tokio::runtime::Handle::try_current() {
                let gate = self.gate.clone();
                rt.spawn(async move {
                    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                    if gate.running() == 0 {
                        give_back_memory();
                    }
                });
            }
        }
    }
}

/// Returns freed heap pages to the system. The binary uses glibc's allocator, which keeps what an
/// import freed (millions of small strings, in per-thread arenas) for reuse; `malloc_trim` hands
/// it back, so the process shrinks to about its idle size after the last import ends (at once, and
/// again half a second later, once the answer has been sent and freed).
pub fn give_back_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free memory of glibc's own arenas; it takes no pointer.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// A checked row that changes something: the record to store and the asset it replaces.
type Planned = (Record, Option<asset::Model>);

/// What the checker hands to the writer.
struct Checked {
    /// Rows of the file checked so far.
    rows_checked: usize,
    /// Rows to write (none once the file has shown an error).
    planned: Vec<Planned>,
}

/// The problems of a file: the first [`MAX_LISTED_ERRORS`] listed, all counted.
#[derive(Default)]
struct Problems {
    listed: Vec<CellError>,
    count: usize,
}

impl Problems {
    fn note(&mut self, e: CellError) {
        self.count += 1;
        if self.listed.len() < MAX_LISTED_ERRORS {
            self.listed.push(e);
        }
    }
}

/// Checks the rows of a file as they are read: cells, the form's rules, codes repeated in the
/// file or used by another form. Pure: it sees the unit's assets as they were at the start.
struct Checker {
    form: std::sync::Arc<Form>,
    cutoff: DateTime<Utc>,
    /// The unit's assets, by code.
    existing: HashMap<String, asset::Model>,
    /// Codes met so far in the file, with their row.
    seen: HashMap<String, u32>,
    errors: Problems,
    /// Whether checked rows go on to the writer (not in a dry run, nor after an error).
    hand_on: bool,
    planned: Vec<Planned>,
    rows: usize,
    created: usize,
    updated: usize,
    unchanged: usize,
}

impl Checker {
    /// Reads the file, checking every row and handing batches on; returns itself and what was read.
    fn run(
        mut self,
        bytes: &[u8],
        file_name: &str,
        limits: &Limits,
        to_writer: tokio::sync::mpsc::Sender<Checked>,
    ) -> Result<(Checker, import::Scan), ImportError> {
        let form = self.form.clone();
        let scan = import::read_each(&form, bytes, file_name, limits, |row| {
            self.check(row);
            if self.rows.is_multiple_of(IMPORT_BATCH) {
                self.hand_on(&to_writer);
            }
        })?;
        self.hand_on(&to_writer);
        Ok((self, scan))
    }

    fn hand_on(&mut self, to_writer: &tokio::sync::mpsc::Sender<Checked>) {
        let batch = Checked {
            rows_checked: self.rows,
            planned: std::mem::take(&mut self.planned),
        };
        // A closed channel means the import gave up (a write failed); its answer is that error.
        let _ = to_writer.blocking_send(batch);
    }

    /// An error about `field` of `row`; its column letter is filled in once the file is read.
    fn error(row: &import::ParsedRow, field: &str, code: &str, message: Text) -> CellError {
        CellError {
            sheet: row.sheet.clone(),
            row: row.row_number,
            column_letter: String::new(),
            field: field.to_string(),
            code: code.to_string(),
            message,
        }
    }

    fn check(&mut self, mut row: import::ParsedRow) {
        let form = &*self.form;
        self.rows += 1;
        // Unreadable cells are reported, and the rest of the row is still checked so that
        // the file's every problem shows at once; such a row is never written.
        let unreadable: Vec<String> = row.errors.iter().map(|e| e.field.clone()).collect();
        for e in std::mem::take(&mut row.errors) {
            self.errors.note(e);
        }
        let code = match row.record.get("code") {
            Some(crate::forms::Value::Text(t)) => t.clone(),
            _ => String::new(),
        };
        if !code.is_empty()
            && let Some(first) = self.seen.insert(code.clone(), row.row_number)
        {
            self.errors.note(Self::error(
                &row,
                "code",
                "duplicate_in_file",
                Text {
                    vi: format!("Mã tài sản «{code}» đã có ở dòng {first} của tệp"),
                    en: format!("Asset code \"{code}\" already appears on row {first} of the file"),
                },
            ));
            return self.stop_on_error();
        }
        let current = self.existing.get(&code);
        if let Some(m) = current.filter(|m| m.form_code != form.code) {
            self.errors.note(Self::error(
                &row,
                "code",
                "other_form",
                Text {
                    vi: format!(
                        "Mã tài sản «{code}» đã dùng cho một tài sản của mẫu {}",
                        m.form_code
                    ),
                    en: format!(
                        "Asset code \"{code}\" is already used by an asset of form {}",
                        m.form_code
                    ),
                },
            ));
            return self.stop_on_error();
        }
        let before = current.map(|m| assets::record_of(form, m));
        let mut record = match &before {
            Some(b) => assets::merge(form, b, std::mem::take(&mut row.record), &row.clears),
            None => std::mem::take(&mut row.record),
        };
        let issues = assets::check_issues(form, &mut record, self.cutoff, false);
        for e in &issues {
            if !unreadable.contains(&e.field) {
                self.errors
                    .note(Self::error(&row, &e.field, &e.code, e.message.clone()));
            }
        }
        if !issues.is_empty() || !unreadable.is_empty() {
            return self.stop_on_error();
        }
        match &before {
            Some(b) if *b == record => {
                self.unchanged += 1;
                return;
            }
            Some(_) => self.updated += 1,
            None => self.created += 1,
        }
        if self.hand_on {
            let current = current.cloned();
            self.planned.push((record, current));
        }
    }

    /// After an error nothing more is written; what was is rolled back at the end.
    fn stop_on_error(&mut self) {
        self.hand_on = false;
        self.planned.clear();
    }
}

/// Writes checked rows inside the import's transaction, and the totals and the audit at the end.
struct Writer<'a> {
    actor: &'a Actor,
    campaign: &'a campaign::Model,
    unit_id: i64,
    form: &'a Form,
    opts: &'a ImportOptions,
    /// The import's transaction (none for a dry run).
    tx: Option<sea_orm::DatabaseTransaction>,
    report_id: i64,
    delta: Delta,
    now: DateTime<Utc>,
}

impl<'a> Writer<'a> {
    /// Opens the transaction and locks the report; returns the unit's assets as they stand.
    async fn start(
        state: &AppState,
        actor: &'a Actor,
        campaign: &'a campaign::Model,
        unit_id: i64,
        form: &'a Form,
        opts: &'a ImportOptions,
    ) -> AppResult<(Writer<'a>, HashMap<String, asset::Model>)> {
        let tx = if opts.dry_run {
            None
        } else {
            Some(state.db.begin().await?)
        };
        // Under the transaction the report row is locked, then read: it may have been
        // submitted meanwhile, and the unit's assets cannot change until the import ends.
        let (rep, existing) = match &tx {
            Some(tx) => (
                assets::report_for(tx, campaign.id, unit_id, &form.asset_type.code).await?,
                unit_assets(tx, campaign.id, unit_id).await?,
            ),
            None => (
                assets::report_for(&state.db, campaign.id, unit_id, &form.asset_type.code).await?,
                unit_assets(&state.db, campaign.id, unit_id).await?,
            ),
        };
        assets::ensure_editable(&rep)?;
        let writer = Writer {
            actor,
            campaign,
            unit_id,
            form,
            opts,
            tx,
            report_id: rep.id,
            delta: Delta::default(),
            now: state.clock.now(),
        };
        Ok((writer, existing))
    }

    /// Writes a batch of checked rows.
    async fn write(&mut self, planned: Vec<Planned>) -> AppResult<()> {
        let Some(tx) = &self.tx else {
            return Ok(());
        };
        let (form, actor, now) = (self.form, self.actor, self.now);
        let (c, unit_id, file) = (self.campaign, self.unit_id, &self.opts.file_name);
        let (inserts, updates): (Vec<_>, Vec<_>) =
            planned.into_iter().partition(|(_, e)| e.is_none());
        if !inserts.is_empty() {
            // Each row as it will be stored (every column is set by `new_asset` and `fill`, the
            // id comes after the insert): its totals and its audit copy are taken from it.
            let mut actives = Vec::with_capacity(inserts.len());
            let mut afters = Vec::with_capacity(inserts.len());
            for (record, _) in &inserts {
                let mut a = new_asset(c.id, unit_id, form, actor, now);
                assets::fill(form, record, &mut a);
                a.id = Set(0);
                let m: asset::Model = a.try_into_model()?;
                self.delta.add(Delta::of(&m, 1));
                afters.push((m.code.clone(), record_json(form, &m)));
                let mut a = m.into_active_model();
                a.id = sea_orm::ActiveValue::NotSet;
                actives.push(a);
            }
            // The new ids come back with their codes (`RETURNING`, on SQLite and PostgreSQL alike):
            // a lookup afterwards was planned badly by PostgreSQL inside this transaction, whose
            // fresh rows the statistics do not know yet.
            let mut insert = asset::Entity::insert_many(actives).into_query();
            insert.returning(
                sea_orm::sea_query::Query::returning()
                    .columns([asset::Column::Id, asset::Column::Code]),
            );
            let ids: HashMap<String, i64> = tx
                .query_all(&insert)
                .await
                .map_err(|e| match e.sql_err() {
                    Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => AppError::conflict(
                        "Có mã tài sản vừa được người khác nhập cùng lúc; hãy nhập lại tệp.",
                        "An asset code was entered by someone else meanwhile; import the file again.",
                    ),
                    _ => e.into(),
                })?
                .iter()
                .map(|row| Ok((row.try_get::<String>("", "code")?, row.try_get::<i64>("", "id")?)))
                .collect::<Result<_, sea_orm::DbErr>>()?;
            let mut events = Vec::with_capacity(afters.len());
            for (code, after) in afters {
                let id = *ids.get(&code).ok_or_else(|| {
                    AppError::Internal(format!("imported asset {code} not found"))
                })?;
                events.push(event(
                    actor,
                    now,
                    "create",
                    c.id,
                    unit_id,
                    id,
                    None,
                    Some(after),
                    file,
                ));
            }
            audit_event::Entity::insert_many(events)
                .exec_without_returning(tx)
                .await?;
        }
        for (record, current) in updates {
            let Some(current) = current else { continue };
            let mut a: asset::ActiveModel = current.clone().into();
            assets::fill(form, &record, &mut a);
            a.version = Set(current.version + 1);
            a.updated_at = Set(now);
            a.updated_by = Set(actor.audit_id());
            let res = asset::Entity::update_many()
                .set(a)
                .filter(asset::Column::Id.eq(current.id))
                .filter(asset::Column::Version.eq(current.version))
                .exec(tx)
                .await?;
            if res.rows_affected != 1 {
                return Err(AppError::new(
                    axum::http::StatusCode::CONFLICT,
                    "stale-version",
                    format!(
                        "Tài sản «{}» vừa được người khác sửa; hãy nhập lại tệp.",
                        current.code
                    ),
                    format!(
                        "Asset \"{}\" was changed by someone else meanwhile; import the file again.",
                        current.code
                    ),
                ));
            }
            let updated = assets::get_model(tx, current.id).await?;
            self.delta.add(Delta::of(&current, -1));
            self.delta.add(Delta::of(&updated, 1));
            event(
                actor,
                now,
                "update",
                c.id,
                unit_id,
                updated.id,
                Some(record_json(form, &current)),
                Some(record_json(form, &updated)),
                file,
            )
            .insert(tx)
            .await?;
        }
        Ok(())
    }

    /// The outcome; commits when the whole file was clean and this is not a dry run.
    async fn finish(mut self, checker: Checker, scan: import::Scan) -> AppResult<ImportReport> {
        let mut errors = checker.errors.listed;
        // Rule errors were found before the sheets' columns were known: place them now.
        let columns: HashMap<&str, &BTreeMap<String, String>> = scan
            .sheets
            .iter()
            .map(|s| (s.sheet.as_str(), &s.columns))
            .collect();
        for e in errors.iter_mut().filter(|e| e.column_letter.is_empty()) {
            if let Some(letter) = columns.get(e.sheet.as_str()).and_then(|m| m.get(&e.field)) {
                e.column_letter = letter.clone();
            }
        }
        let report = ImportReport {
            dry_run: self.opts.dry_run,
            form_code: self.form.code.clone(),
            file_kind: scan.kind,
            rows: checker.rows,
            created: checker.created,
            updated: checker.updated,
            unchanged: checker.unchanged,
            errors,
            error_count: checker.errors.count,
            file_name: self.opts.file_name.clone(),
            sheets: scan.sheets.iter().map(|s| s.sheet.clone()).collect(),
            official: scan.kind == import::FileKind::Xlsx
                && !scan.sheets.is_empty()
                && scan
                    .sheets
                    .iter()
                    .all(|s| s.layout == import::Layout::Official),
        };
        let Some(tx) = self.tx.take() else {
            return Ok(report);
        };
        if !report.errors.is_empty() {
            tx.rollback().await?;
            return Ok(report);
        }
        assets::apply_delta(&tx, self.report_id, self.delta, self.now).await?;
        audit::record(
            &tx,
            self.actor,
            self.now,
            Event {
                action: "import",
                entity: "report",
                entity_id: Some(self.report_id),
                campaign_id: Some(self.campaign.id),
                unit_id: Some(self.unit_id),
                detail: Some(format!(
                    "{}: {} rows, {} created, {} updated, {} unchanged",
                    self.opts.file_name,
                    report.rows,
                    report.created,
                    report.updated,
                    report.unchanged
                )),
                ..Default::default()
            },
        )
        .await?;
        tx.commit().await?;
        Ok(report)
    }
}

/// A unit's assets in a campaign, by code.
async fn unit_assets(
    db: &impl ConnectionTrait,
    campaign_id: i64,
    unit_id: i64,
) -> AppResult<HashMap<String, asset::Model>> {
    Ok(asset::Entity::find()
        .filter(asset::Column::CampaignId.eq(campaign_id))
        .filter(asset::Column::UnitId.eq(unit_id))
        .all(db)
        .await?
        .into_iter()
        .map(|m| (m.code.clone(), m))
        .collect())
}

fn new_asset(
    campaign_id: i64,
    unit_id: i64,
    form: &Form,
    actor: &Actor,
    now: DateTime<Utc>,
) -> asset::ActiveModel {
    asset::ActiveModel {
        campaign_id: Set(campaign_id),
        unit_id: Set(unit_id),
        type_code: Set(form.asset_type.code.clone()),
        form_code: Set(form.code.clone()),
        version: Set(1),
        created_by: Set(actor.audit_id()),
        updated_by: Set(actor.audit_id()),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
}

fn record_json(form: &Form, m: &asset::Model) -> Json {
    Json::Object(assets::record_json(&assets::record_of(form, m)))
}

#[allow(clippy::too_many_arguments)]
fn event(
    actor: &Actor,
    now: DateTime<Utc>,
    action: &str,
    campaign_id: i64,
    unit_id: i64,
    asset_id: i64,
    before: Option<Json>,
    after: Option<Json>,
    file: &str,
) -> audit_event::ActiveModel {
    audit_event::ActiveModel {
        at: Set(now),
        actor_id: Set(actor.audit_id()),
        actor_name: Set(Some(actor.username.clone())),
        action: Set(action.to_string()),
        entity: Set("asset".into()),
        entity_id: Set(Some(asset_id)),
        campaign_id: Set(Some(campaign_id)),
        unit_id: Set(Some(unit_id)),
        before: Set(before),
        after: Set(after),
        detail: Set(Some(format!("import {file}"))),
        ..Default::default()
    }
}

/// The user's own workbook back with its errors: a first sheet `Lỗi - Errors` lists every
/// listed error (sheet, cell, field, message), each cell a link to the cell in the copy; then
/// the sheets the import read (hidden and other sheets are not), values only, every cell at its
/// own address, the cells in error filled red. A CSV upload comes back as one sheet.
///
/// A workbook in our own official layout ([`ImportReport::official`]) instead comes back whole,
/// its own formatting kept (borders, fonts, widths, merged cells, print setup), the list added as
/// its last sheet and shown first ([`keep_layout`]).
///
/// Otherwise built from the streaming reader ([`import::copy_rows`]) with the import's own limits, written
/// by rust_xlsxwriter in constant-memory mode in one pass. Nothing is ever held as a dense
/// range, so a far cell costs nothing; the list holds at most [`MAX_LISTED_ERRORS`] lines.
pub fn annotated_workbook(
    bytes: &[u8],
    report: &ImportReport,
    max_rows: usize,
    lang: Lang,
) -> AppResult<Vec<u8>> {
    use rust_xlsxwriter::{Color, Format, FormatBorder, Url, Workbook as XlsxBook};
    let limits = Limits {
        max_rows,
        ..Limits::default()
    };
    if report.official {
        match keep_layout::annotated(bytes, report, &limits, lang) {
            Ok(book) => return Ok(book),
            // A file the checks refuse gets no answer built from it.
            Err(e @ AppError::Problem { .. }) => return Err(e),
            Err(e) => {
                tracing::warn!("error workbook in the file's own layout: {e}; a plain one instead")
            }
        }
    }
    let fail = |e: rust_xlsxwriter::XlsxError| AppError::Internal(e.to_string());
    let mut book = XlsxBook::new();
    let bold = Format::new().set_bold();
    let wrap = Format::new().set_text_wrap();
    let date = Format::new().set_num_format("dd/mm/yyyy");
    let red = Format::new()
        .set_background_color(Color::RGB(0xFFC7CE))
        .set_border(FormatBorder::Thin)
        .set_border_color(Color::RGB(0xC00000));
    let red_date = red.clone().set_num_format("dd/mm/yyyy");
    // The copies' sheet names, as Excel allows them.
    let names: Vec<(String, String)> = report
        .sheets
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let safe: String = name
                .chars()
                .filter(|c| !"[]:*?/\\".contains(*c))
                .take(31)
                .collect();
            let safe = if safe.is_empty()
                || safe.starts_with('\'')
                || safe.eq_ignore_ascii_case(ERRORS_SHEET)
            {
                format!("Sheet{}", i + 1)
            } else {
                safe
            };
            (name.clone(), safe)
        })
        .collect();
    let mut bad: std::collections::HashSet<(&str, u32, u32)> = std::collections::HashSet::new();
    {
        let ws = book.add_worksheet_with_constant_memory().map_err(fail)?;
        ws.set_name(ERRORS_SHEET).map_err(fail)?;
        for (c, (head, width)) in [
            ("STT", 5.0),
            ("Trang / Sheet", 14.0),
            ("Ô / Cell", 9.0),
            ("Trường / Field", 22.0),
            ("Lỗi / Errors", 90.0),
        ]
        .into_iter()
        .enumerate()
        {
            ws.set_column_width(c as u16, width).map_err(fail)?;
            ws.write_string_with_format(0, c as u16, head, &bold)
                .map_err(fail)?;
        }
        ws.set_freeze_panes(1, 0).map_err(fail)?;
        let mut row = 1u32;
        for (n, e) in report.errors.iter().enumerate() {
            let col = column_index(&e.column_letter);
            if let Some(c) = col {
                bad.insert((e.sheet.as_str(), e.row, c));
            }
            ws.write_number(row, 0, (n + 1) as f64).map_err(fail)?;
            ws.write_string(row, 1, cell_text(&e.sheet)).map_err(fail)?;
            let cell = format!("{}{}", col.map_or("A", |_| e.column_letter.as_str()), e.row);
            match names.iter().find(|(n, _)| n == &e.sheet) {
                Some((_, safe)) => {
                    let target = format!("internal:'{}'!{cell}", safe.replace('\'', "''"));
                    ws.write_url(row, 2, Url::new(target).set_text(&cell))
                        .map_err(fail)?;
                }
                None => {
                    ws.write_string(row, 2, &cell).map_err(fail)?;
                }
            }
            ws.write_string(row, 3, cell_text(&e.field)).map_err(fail)?;
            ws.write_string_with_format(
                row,
                4,
                cell_text(lang.pick(&e.message.vi, &e.message.en)),
                &wrap,
            )
            .map_err(fail)?;
            row += 1;
        }
        if report.error_count > report.errors.len() {
            let more = report.error_count - report.errors.len();
            ws.write_string(
                row,
                4,
                lang.pick(
                    &format!("… và {more} lỗi khác (sửa các lỗi trên rồi nhập lại để xem tiếp)"),
                    &format!(
                        "… and {more} more (fix the errors above and import again to see them)"
                    ),
                ),
            )
            .map_err(fail)?;
        }
    }
    for (i, (_, safe)) in names.iter().enumerate() {
        let ws = book.add_worksheet_with_constant_memory().map_err(fail)?;
        if ws.set_name(safe).is_err() {
            ws.set_name(format!("Sheet{}", i + 1)).map_err(fail)?;
        }
    }
    let mut failed = None;
    let csv = report.file_kind == import::FileKind::Csv;
    import::copy_rows(
        bytes,
        &report.file_name,
        &report.sheets,
        &limits,
        |sheet, r, cells| {
            let Some(i) = names.iter().position(|(n, _)| n == sheet) else {
                return true;
            };
            let Ok(ws) = book.worksheet_from_index(i + 1) else {
                return true;
            };
            let mut marked: Vec<u32> = Vec::new();
            let write = || -> Result<(), rust_xlsxwriter::XlsxError> {
                for (c, v) in cells {
                    if c > MAX_COL {
                        continue;
                    }
                    let is_bad = bad.contains(&(sheet, r + 1, c));
                    if is_bad {
                        marked.push(c);
                    }
                    let c = c as u16;
                    match (v, is_bad) {
                        (import::Copied::Text(t), b) if csv && plain_number(&t).is_some() => {
                            let n = plain_number(&t).unwrap_or_default();
                            match b {
                                true => ws.write_number_with_format(r, c, n, &red)?,
                                false => ws.write_number(r, c, n)?,
                            }
                        }
                        (import::Copied::Text(t), true) => {
                            ws.write_string_with_format(r, c, cell_text(&t), &red)?
                        }
                        (import::Copied::Text(t), false) => ws.write_string(r, c, cell_text(&t))?,
                        (import::Copied::Number(n), true) => {
                            ws.write_number_with_format(r, c, n, &red)?
                        }
                        (import::Copied::Number(n), false) => ws.write_number(r, c, n)?,
                        (import::Copied::Date(n), true) => {
                            ws.write_number_with_format(r, c, n, &red_date)?
                        }
                        (import::Copied::Date(n), false) => {
                            ws.write_number_with_format(r, c, n, &date)?
                        }
                        (import::Copied::Bool(b), true) => {
                            ws.write_boolean_with_format(r, c, b, &red)?
                        }
                        (import::Copied::Bool(b), false) => ws.write_boolean(r, c, b)?,
                    };
                }
                Ok(())
            };
            let done = write();
            // A cell in error left blank (a required value) is marked too.
            let blanks = report
                .errors
                .iter()
                .filter(|e| e.sheet == sheet && e.row == r + 1)
                .filter_map(|e| column_index(&e.column_letter))
                .filter(|c| !marked.contains(c) && *c <= MAX_COL)
                .try_for_each(|c| ws.write_blank(r, c as u16, &red).map(|_| ()));
            match done.and(blanks) {
                Ok(()) => true,
                Err(e) => {
                    failed = Some(e);
                    false
                }
            }
        },
    )
    .map_err(import_error)?;
    if let Some(e) = failed {
        return Err(fail(e));
    }
    book.save_to_buffer().map_err(fail)
}

/// The first sheet of an annotated workbook.
pub const ERRORS_SHEET: &str = "Lỗi - Errors";

/// `A` → 0, `AB` → 27; none for an empty or invalid letter.
fn column_index(letters: &str) -> Option<u32> {
    if letters.is_empty() || letters.len() > 3 {
        return None;
    }
    letters
        .bytes()
        .try_fold(0u32, |n, b| {
            b.is_ascii_uppercase()
                .then(|| n * 26 + u32::from(b - b'A') + 1)
        })
        .map(|n| n - 1)
}

/// Excel's last column (0-based, XFD).
const MAX_COL: u32 = 16_383;

/// A CSV field that is a plain number (`12`, `0`, `1.5`), not a code with leading zeros.
fn plain_number(v: &str) -> Option<f64> {
    let n = v.parse::<f64>().ok()?;
    (n.is_finite() && (!v.starts_with('0') || v == "0" || v.contains('.'))).then_some(n)
}

/// Text cut to what a cell can hold.
fn cell_text(s: &str) -> &str {
    match s.char_indices().nth(export::MAX_CELL_CHARS) {
        Some((at, _)) => &s[..at],
        None => s,
    }
}
