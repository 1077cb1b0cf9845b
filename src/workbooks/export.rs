//! Exports: records streamed out of the database, in section order, into the pure writers of
//! [`write`]; one unit's form (official or flat), every unit's flat sheet, the consolidated
//! summary and the progress board. Each export leaves one audit event.

use std::collections::HashMap;

use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};

use super::{Content, Workbook, download::ChunkWriter, form_or_404};
use crate::{
    audit::Event,
    auth::Actor,
    campaigns, clock,
    entities::{asset, campaign, report, unit},
    error::{AppError, AppResult},
    forms::{Form, Record, record},
    pagination::PageQuery,
    progress::{self, ProgressFilter},
    replica,
    reports::{self, ReportState},
    state::AppState,
    units,
    workbooks::write::{self, Figures, ProgressRow, SheetHeader, TypeProgress, UnitSummary},
};

/// Rows fetched from the database per round trip while exporting.
const EXPORT_BATCH: u64 = 1_000;

fn export_failed(e: impl std::fmt::Display) -> AppError {
    AppError::Internal(format!("export failed: {e}"))
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
        .map(|m| write::TeamLine {
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
/// section order then by code, without holding them all: per unit and section one query, read
/// row by row as the database sends it (no re-query per batch), each row converted to its record
/// and handed on in batches of up to [`EXPORT_BATCH`], two in flight. Each record comes with its
/// unit's tag `T`.
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
    use futures_util::TryStreamExt;
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
        let batch = || Vec::with_capacity(EXPORT_BATCH as usize);
        for (unit_id, tag) in units {
            for section in &sections {
                let q = asset::Entity::find()
                    .filter(asset::Column::CampaignId.eq(campaign_id))
                    .filter(asset::Column::UnitId.eq(unit_id))
                    .filter(asset::Column::FormCode.eq(form.code.clone()));
                let q = match (section, form.has_sections()) {
                    (Some(s), _) => q.filter(asset::Column::Section.eq(s.clone())),
                    (None, true) => q.filter(asset::Column::Section.is_null()),
                    (None, false) => q,
                };
                let mut rows = q.order_by_asc(asset::Column::Code).stream(&db).await?;
                let mut records = batch();
                while let Some(m) = rows.try_next().await? {
                    records.push((tag.clone(), record::record_of(&form, &m)));
                    if records.len() as u64 == EXPORT_BATCH
                        && tx
                            .send(std::mem::replace(&mut records, batch()))
                            .await
                            .is_err()
                    {
                        return Ok(());
                    }
                }
                if !records.is_empty() && tx.send(records).await.is_err() {
                    return Ok(());
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

fn unit_cells(u: &unit::Model) -> std::sync::Arc<write::UnitCells> {
    std::sync::Arc::new(write::UnitCells {
        code: u.code.clone(),
        registration_code: u.registration_code.clone().unwrap_or_default(),
        name: u.name.clone(),
    })
}

/// One unit's form as an xlsx: the official layout (`flat: None`) or the flat layout under
/// the export profile named by `flat`. Everything is checked first (a problem is answered as
/// such); the workbook is then streamed as it is written ([`Content::Chunks`]): the records
/// come from the database section by section, and the file never sits whole in memory.
pub async fn unit_form(
    state: &AppState,
    actor: &Actor,
    campaign_id: i64,
    unit_id: i64,
    form_code: &str,
    flat: Option<&str>,
) -> AppResult<Workbook> {
    let read = replica::reader(state, actor).await;
    let job = unit_job(&read, campaign_id, unit_id, form_code, flat).await?;
    Event::new("export", "report", None)
        .campaign(campaign_id)
        .unit(unit_id)
        .detail(job.file_name.clone())
        .record(&state.db, actor, state.clock.now())
        .await?;
    let file_name = job.file_name.clone();
    let (out, chunks) = ChunkWriter::new();
    tokio::spawn(async move {
        match job.write_to(out).await {
            // The file's last bytes go once the records were all read without an error.
            Ok(out) => {
                let _ = tokio::task::spawn_blocking(move || out.finish()).await;
            }
            Err((out, e)) => {
                tracing::error!(error = %e, "export failed while streaming");
                if let Some(out) = out {
                    let _ = tokio::task::spawn_blocking(move || out.fail(e)).await;
                }
            }
        }
    });
    Ok(Workbook {
        file_name,
        content: Content::Chunks(chunks),
    })
}

/// One unit's form, checked and named, ready to write ([`UnitJob::write_to`]).
pub(super) struct UnitJob {
    state: AppState,
    campaign_id: i64,
    unit: (i64, std::sync::Arc<write::UnitCells>),
    form: std::sync::Arc<Form>,
    profile: Option<std::sync::Arc<crate::forms::Profile>>,
    head: SheetHeader,
    /// Suggested file name.
    pub file_name: String,
}

/// Checks that the unit's form can be exported (form, profile, campaign, unit, the unit's
/// report of the form) and reads its header.
pub(super) async fn unit_job(
    state: &AppState,
    campaign_id: i64,
    unit_id: i64,
    form_code: &str,
    flat: Option<&str>,
) -> AppResult<UnitJob> {
    let form = form_or_404(state, form_code)?.clone();
    let profile = flat.map(|p| profile_or_400(state, p)).transpose()?;
    let c = campaigns::get(&state.db, campaign_id).await?;
    let u = units::get(&state.db, unit_id).await?;
    reports::find(&state.db, campaign_id, unit_id, &form.asset_type.code)
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
    let suffix = match profile.as_deref() {
        None => String::new(),
        Some(p) if p.code == crate::forms::DEFAULT_PROFILE => "_flat".into(),
        Some(p) => format!("_{}", p.code),
    };
    Ok(UnitJob {
        state: state.clone(),
        campaign_id,
        file_name: format!("{}_{}{suffix}.xlsx", form.code, u.code),
        unit: (unit_id, unit_cells(&u)),
        form,
        profile,
        head,
    })
}

impl UnitJob {
    /// Writes the workbook into `out` as the records come from the database; `out` back, or
    /// the error (with `out` when the writer gave it back).
    pub(super) async fn write_to<W: std::io::Write + Send + 'static>(
        self,
        out: W,
    ) -> Result<W, (Option<W>, AppError)> {
        let (mut rx, producer) = stream_records(
            &self.state,
            self.campaign_id,
            vec![self.unit],
            self.form.clone(),
        );
        let (form, profile, head) = (self.form, self.profile, self.head);
        let writer = tokio::task::spawn_blocking(move || {
            let mut out = out;
            let rows = std::iter::from_fn(|| rx.blocking_recv()).flatten();
            let written = match profile {
                Some(p) => write::flat_with_to(&p, &form, false, rows, &mut out),
                None => write::official_form_to(&form, &head, rows.map(|(_, r)| r), &mut out),
            };
            (out, written)
        });
        let (out, written) = writer.await.map_err(|e| (None, export_failed(e)))?;
        if let Err(e) = written {
            return Err((Some(out), export_failed(e)));
        }
        // A database error ends the records early: the file written is then incomplete.
        match producer.await {
            Ok(Ok(())) => Ok(out),
            Ok(Err(e)) => Err((Some(out), e)),
            Err(e) => Err((Some(out), export_failed(e))),
        }
    }
}

/// The units with a report of `form_code` in the campaign, under the view's node and in the
/// caller's scope, by budget-relationship code (the report ids in a subquery: at national
/// scale they would not fit in one statement's parameters).
pub(super) async fn units_with_report(
    db: &impl ConnectionTrait,
    actor: &Actor,
    view: &progress::View,
    campaign_id: i64,
    form_code: &str,
) -> AppResult<Vec<unit::Model>> {
    Ok(unit::Entity::find()
        .filter(
            unit::Column::Id.in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(report::Column::UnitId)
                    .from(report::Entity)
                    .and_where(report::Column::CampaignId.eq(campaign_id))
                    .and_where(report::Column::FormCode.eq(form_code))
                    .take(),
            ),
        )
        .filter(crate::tree::unit_condition(&actor.scope))
        .filter(view.units_condition())
        .order_by_asc(unit::Column::Code)
        .all(db)
        .await?)
}

/// Every unit's records of one form in one flat file under an export profile: the units under
/// the view's node ([`progress::view`]) that registered the form's type, by
/// budget-relationship code, each unit's records in section order then by code.
pub async fn ward_flat(
    state: &AppState,
    actor: &Actor,
    view: &progress::View,
    campaign_id: i64,
    form_code: &str,
    profile: &str,
) -> AppResult<Workbook> {
    // Reads from the replica when it has the caller's writes; the audit event goes to the primary.
    let (primary, state) = (state, &replica::reader(state, actor).await);
    let form = form_or_404(state, form_code)?.clone();
    let profile = profile_or_400(state, profile)?;
    campaigns::get(&state.db, campaign_id).await?;
    let units: Vec<(i64, std::sync::Arc<write::UnitCells>)> =
        units_with_report(&state.db, actor, view, campaign_id, &form.code)
            .await?
            .iter()
            .map(|u| (u.id, unit_cells(u)))
            .collect();
    let (mut rx, producer) = stream_records(state, campaign_id, units, form.clone());
    let writer_form = form.clone();
    let writer_profile = profile.clone();
    let bytes = tokio::task::spawn_blocking(move || {
        let rows = std::iter::from_fn(|| rx.blocking_recv()).flatten();
        write::flat_with(&writer_profile, &writer_form, true, rows)
    })
    .await
    .map_err(export_failed)?
    .map_err(export_failed)?;
    producer.await.map_err(export_failed)??;
    let file_name = format!("{}_tat_ca_don_vi_{}.xlsx", form.code, profile.code);
    audit_export(primary, actor, campaign_id, &file_name).await?;
    Ok(Workbook::in_memory(file_name, bytes))
}

/// The consolidated report of one form under the view's node ([`progress::view`]): a ward's,
/// a row per registered unit and the ward's total; a province's (the installation's), a row
/// per ward (province) with the sums of its units' sent reports, and the node's total.
pub async fn consolidated(
    state: &AppState,
    actor: &Actor,
    view: &progress::View,
    campaign_id: i64,
    form_code: &str,
) -> AppResult<Workbook> {
    // Reads from the replica when it has the caller's writes; the audit event goes to the primary.
    let (primary, state) = (state, &replica::reader(state, actor).await);
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
    let rows = reports::sums(&[
        asset::Column::UnitId,
        asset::Column::Section,
        asset::Column::UsageStatus,
        asset::Column::UnitOfMeasure,
    ])
    .filter(asset::Column::CampaignId.eq(campaign_id))
    .filter(asset::Column::FormCode.eq(form.code.clone()))
    .filter(crate::tree::units_of(asset::Column::UnitId, &actor.scope))
    .filter(crate::tree::units_of(asset::Column::UnitId, &view.area))
    .into_model::<Row>()
    .all(&state.db)
    .await?;
    let reports = report::Entity::find()
        .filter(report::Column::CampaignId.eq(campaign_id))
        .filter(report::Column::FormCode.eq(form.code.clone()))
        .filter(crate::tree::units_of(report::Column::UnitId, &actor.scope))
        .filter(crate::tree::units_of(report::Column::UnitId, &view.area))
        .all(&state.db)
        .await?;
    let units = units_with_report(&state.db, actor, view, campaign_id, &form.code).await?;
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
                    state: write::state_label(st).to_string(),
                    sent: st.is_sent(),
                    ..Default::default()
                },
            )
        })
        .collect();
    let measures = write::measures(&form);
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
    let in_fields: Vec<&write::Measure> = measures
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
            .filter(crate::tree::units_of(asset::Column::UnitId, &actor.scope))
            .filter(crate::tree::units_of(asset::Column::UnitId, &view.area))
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
    let head = node_header(&state.db, &c, view).await?;
    let bytes = match view.rollup {
        None => {
            let summaries: Vec<UnitSummary> =
                units.iter().filter_map(|u| by_unit.remove(&u.id)).collect();
            tokio::task::spawn_blocking(move || write::summary(&form, &head, &summaries)).await
        }
        Some(level) => {
            let areas = area_summaries(&state.db, view, &units, by_unit).await?;
            tokio::task::spawn_blocking(move || {
                write::summary_of_areas(&form, &head, level, &areas)
            })
            .await
        }
    }
    .map_err(export_failed)?
    .map_err(export_failed)?;
    let file_name = format!("tong_hop_{form_code}.xlsx");
    audit_export(primary, actor, campaign_id, &file_name).await?;
    Ok(Workbook::in_memory(file_name, bytes))
}

/// The roll-up rows of a consolidated report: one per area of the view (its wards, or the
/// installation's provinces and then the units not yet placed, if any), each the sum of its
/// units' sent reports, its state cell the reports sent out of those owed (`2/3`).
async fn area_summaries(
    db: &sea_orm::DatabaseConnection,
    view: &progress::View,
    units: &[unit::Model],
    mut by_unit: HashMap<i64, UnitSummary>,
) -> AppResult<Vec<UnitSummary>> {
    // (figures of the sent reports, reports sent, reports owed) per area.
    let mut by_area: HashMap<Option<i64>, (UnitSummary, u64, u64)> = HashMap::new();
    for u in units {
        let Some(s) = by_unit.remove(&u.id) else {
            continue;
        };
        let a = by_area
            .entry(view.area_of(u.ward_id, u.province_id))
            .or_default();
        a.2 += 1;
        if s.sent {
            a.0.add(&s);
            a.1 += 1;
        }
    }
    let row = |code: String, name: String, a: Option<(UnitSummary, u64, u64)>| {
        let (s, sent, owed) = a.unwrap_or_default();
        UnitSummary {
            unit_code: code,
            unit_name: name,
            state: format!("{sent}/{owed}"),
            sent: true,
            ..s
        }
    };
    let mut rows: Vec<UnitSummary> = progress::area_nodes(db, view)
        .await?
        .into_iter()
        .map(|n| row(n.code, n.name, by_area.remove(&Some(n.id))))
        .collect();
    if let Some(unplaced) = by_area.remove(&None) {
        rows.push(row(
            String::new(),
            progress::UNPLACED.into(),
            Some(unplaced),
        ));
    }
    Ok(rows)
}

pub(super) async fn audit_export(
    state: &AppState,
    actor: &Actor,
    campaign_id: i64,
    file_name: &str,
) -> AppResult<()> {
    Event::new("export", "campaign", campaign_id)
        .campaign(campaign_id)
        .detail(file_name.to_string())
        .record(&state.db, actor, state.clock.now())
        .await
}

/// The header of a node's sheet: a province rolled up names itself (`TỈNH LẠNG SƠN`, and no
/// ward's place in its date line) where a ward's sheets (and the installation's) name the
/// campaign's authority, as before.
async fn node_header(
    db: &impl ConnectionTrait,
    c: &campaign::Model,
    view: &progress::View,
) -> AppResult<SheetHeader> {
    let mut head = header(db, c, None).await?;
    if view.rollup.is_some()
        && let Some(n) = view.node()
    {
        head.superior_body = n.name.to_uppercase();
        head.unit_name = n.name.clone();
        // The campaign's place is a ward's: the province's date line leaves it to be written.
        head.place = String::new();
    }
    Ok(head)
}

/// The progress board of a view ([`progress::view`]) as a sheet: a ward's units, one row each;
/// a province's wards (the installation's provinces), one row each with the board's own counts
/// ([`progress::AreaRow`]), and the node's totals.
pub async fn progress_sheet(
    state: &AppState,
    actor: &Actor,
    view: &progress::View,
    campaign_id: i64,
) -> AppResult<Workbook> {
    // Reads from the replica when it has the caller's writes; the audit event goes to the primary.
    let (primary, state) = (state, &replica::reader(state, actor).await);
    let c = campaigns::get(&state.db, campaign_id).await?;
    let head = node_header(&state.db, &c, view).await?;
    let file_name = "tien_do.xlsx".to_string();
    if let Some(level) = view.rollup {
        // The roll-up rows only: one unit row is enough for the board's counts.
        let one = PageQuery {
            page: Some(1),
            per_page: Some(1),
        };
        let board = progress::board_of(
            state,
            view,
            campaign_id,
            &ProgressFilter::default(),
            &one,
            None,
        )
        .await?;
        let areas = board.areas;
        let bytes =
            tokio::task::spawn_blocking(move || write::progress_areas_sheet(&head, level, &areas))
                .await
                .map_err(export_failed)?
                .map_err(export_failed)?;
        audit_export(primary, actor, campaign_id, &file_name).await?;
        return Ok(Workbook::in_memory(file_name, bytes));
    }
    let all = PageQuery {
        page: Some(1),
        per_page: Some(u64::MAX / 2),
    };
    let board = progress::board_of(
        state,
        view,
        campaign_id,
        &ProgressFilter::default(),
        &all,
        None,
    )
    .await?;
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
                    state: write::state_label(t.state).to_string(),
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
    let bytes = tokio::task::spawn_blocking(move || write::progress_sheet(&head, &rows))
        .await
        .map_err(export_failed)?
        .map_err(export_failed)?;
    audit_export(primary, actor, campaign_id, &file_name).await?;
    Ok(Workbook::in_memory(file_name, bytes))
}
