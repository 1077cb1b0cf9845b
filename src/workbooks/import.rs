//! Imports: a file read with [`read`], every row checked against the form, and all of it
//! written in one transaction — or nothing.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, Set, TryIntoModel,
};
use serde::Serialize;
use serde_json::Value as Json;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use super::{ImportPermit, bulk, form_or_404};
use crate::{
    assets,
    audit::Event,
    auth::Actor,
    campaigns,
    db::WriteTx,
    entities::{asset, audit_event, campaign, report},
    error::{AppError, AppResult, FieldError, Lang, OnUnique},
    forms::{Form, Record, Text, record},
    reports::{self, Delta},
    state::AppState,
    units,
    workbooks::read::{self, CellError, ImportError, Limits},
};

/// Rows inserted per statement while importing.
const IMPORT_BATCH: usize = 500;

/// What an import did, or would do with `dry_run`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ImportReport {
    /// Nothing was written.
    pub dry_run: bool,
    /// Form the file was read as.
    pub form_code: String,
    /// `xlsx` or `csv`.
    pub file_kind: read::FileKind,
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

pub(super) fn import_error(e: ImportError) -> AppError {
    let m = e.message();
    let kind = if e.is_too_large() {
        crate::error::Problem::PayloadTooLarge
    } else if matches!(
        e.code(),
        "not_a_spreadsheet" | "unsupported_format" | "encoding"
    ) {
        crate::error::Problem::UnsupportedMediaType
    } else {
        crate::error::Problem::ImportFile
    };
    AppError::Problem {
        kind,
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
        let probe = read::read_with(
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
            Ok(p) if p.sheets.iter().any(|s| s.layout == read::Layout::Official) => {
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
/// `permit` ([`super::ImportGate::try_enter`]) bounds how many imports run at once; take it before
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
    let reader = tokio::task::spawn_blocking(move || {
        let read = checker.run(&bytes, &name, &limits, to_writer)?;
        // The file's digest names it in the audit trail (taken once the rows are handed on).
        Ok::<_, ImportError>((read, hex::encode(Sha256::digest(&bytes))))
    });
    while let Some(batch) = batches.recv().await {
        on_row(batch.rows_checked);
        writer.write(batch.planned).await?;
    }
    let ((checker, scan), digest) = reader
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?
        .map_err(import_error)?;
    writer.finish(checker, scan, &digest).await
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
    ) -> Result<(Checker, read::Scan), ImportError> {
        let form = self.form.clone();
        let scan = read::read_each(&form, bytes, file_name, limits, |row| {
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
    fn error(row: &read::ParsedRow, field: &str, code: &str, message: Text) -> CellError {
        CellError {
            sheet: row.sheet.clone(),
            row: row.row_number,
            column_letter: String::new(),
            field: field.to_string(),
            code: code.to_string(),
            message,
        }
    }

    fn check(&mut self, mut row: read::ParsedRow) {
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
        let before = current.map(|m| record::record_of(form, m));
        let mut record = match &before {
            Some(b) => assets::merge(form, b, std::mem::take(&mut row.record), &row.clears),
            None => std::mem::take(&mut row.record),
        };
        let issues = record::check_issues(form, &mut record, self.cutoff, false);
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
    /// The unit's province: the distribution key of the rows written.
    province_id: Option<i64>,
    form: &'a Form,
    opts: &'a ImportOptions,
    /// The import's transaction (none for a dry run).
    tx: Option<WriteTx>,
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
        // The distribution key of the new rows: the unit's province (NULL while unplaced). Read
        // before the transaction opens: SQLite's pool has one connection, which it takes.
        let province_id = units::get(&state.db, unit_id).await?.province_id;
        let tx = if opts.dry_run {
            None
        } else {
            Some(WriteTx::begin(&state.db).await?)
        };
        // Under the transaction the report row is locked, then read: it may have been
        // submitted meanwhile, and the unit's assets cannot change until the import ends.
        let (rep, existing) = match &tx {
            Some(tx) => (
                reports::report_for(tx, campaign.id, unit_id, &form.asset_type.code).await?,
                unit_assets(tx, campaign.id, unit_id).await?,
            ),
            None => (
                reports::report_for(&state.db, campaign.id, unit_id, &form.asset_type.code).await?,
                unit_assets(&state.db, campaign.id, unit_id).await?,
            ),
        };
        reports::ensure_editable(&rep)?;
        let writer = Writer {
            actor,
            campaign,
            unit_id,
            province_id,
            form,
            opts,
            tx,
            report_id: rep.id,
            delta: Delta::default(),
            now: state.clock.now(),
        };
        Ok((writer, existing))
    }

    /// Writes a batch of checked rows: the new assets and every audit event of the batch in
    /// bulk ([`bulk`]), each changed asset by its id and version.
    async fn write(&mut self, planned: Vec<Planned>) -> AppResult<()> {
        let Some(tx) = &self.tx else {
            return Ok(());
        };
        let (form, actor, now) = (self.form, self.actor, self.now);
        let (c, unit_id, file) = (self.campaign, self.unit_id, &self.opts.file_name);
        let (inserts, updates): (Vec<_>, Vec<_>) =
            planned.into_iter().partition(|(_, e)| e.is_none());
        let mut events = Vec::with_capacity(inserts.len() + updates.len());
        if !inserts.is_empty() {
            // Each row as it will be stored (every column is set by `new_asset` and `fill`, the
            // id comes with the insert): its totals and its audit copy are taken from it.
            let mut actives = Vec::with_capacity(inserts.len());
            let mut afters = Vec::with_capacity(inserts.len());
            for (record, _) in &inserts {
                let mut a = new_asset(c.id, unit_id, self.province_id, form, actor, now);
                record::fill(form, record, &mut a);
                a.id = Set(0);
                let m: asset::Model = a.try_into_model()?;
                self.delta.add(Delta::of(&m, 1));
                afters.push((m.code.clone(), record_json(form, &m)));
                let mut a = m.into_active_model();
                a.id = sea_orm::ActiveValue::NotSet;
                actives.push(a);
            }
            // The new ids come back by code (drawn from the sequence on PostgreSQL, `RETURNING`
            // on SQLite): a lookup afterwards was planned badly by PostgreSQL inside this
            // transaction, whose fresh rows the statistics do not know yet.
            let ids = bulk::insert_assets(tx, actives).await.on_unique(|| {
                AppError::conflict(
                    "Có mã tài sản vừa được người khác nhập cùng lúc; hãy nhập lại tệp.",
                    "An asset code was entered by someone else meanwhile; import the file again.",
                )
            })?;
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
        }
        // Each changed asset as it will be stored: version and time moved on, its totals and
        // audit copies taken from it; then all of them in bulk, each only if its version is
        // still the one read at the start.
        let mut changed = Vec::with_capacity(updates.len());
        for (record, current) in updates {
            let Some(current) = current else { continue };
            let mut a: asset::ActiveModel = current.clone().into();
            record::fill(form, &record, &mut a);
            a.version = Set(current.version + 1);
            a.updated_at = Set(now);
            a.updated_by = Set(actor.audit_id());
            let updated: asset::Model = a.clone().try_into_model()?;
            self.delta.add(Delta::of(&current, -1));
            self.delta.add(Delta::of(&updated, 1));
            events.push(event(
                actor,
                now,
                "update",
                c.id,
                unit_id,
                updated.id,
                Some(record_json(form, &current)),
                Some(record_json(form, &updated)),
                file,
            ));
            changed.push((a, current.version));
        }
        let expected = changed.len() as u64;
        if bulk::update_assets(tx, changed).await? != expected {
            return Err(AppError::new(
                crate::error::Problem::StaleVersion,
                "Có tài sản trong tệp vừa được người khác sửa; hãy nhập lại tệp.",
                "An asset of the file was changed by someone else meanwhile; import the file again.",
            ));
        }
        bulk::insert_all(tx, events).await?;
        Ok(())
    }

    /// The outcome; commits when the whole file was clean and this is not a dry run.
    async fn finish(
        mut self,
        checker: Checker,
        scan: read::Scan,
        digest: &str,
    ) -> AppResult<ImportReport> {
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
            official: scan.kind == read::FileKind::Xlsx
                && !scan.sheets.is_empty()
                && scan
                    .sheets
                    .iter()
                    .all(|s| s.layout == read::Layout::Official),
        };
        let Some(tx) = self.tx.take() else {
            return Ok(report);
        };
        if !report.errors.is_empty() {
            tx.rollback().await?;
            return Ok(report);
        }
        reports::apply_delta(&tx, self.report_id, self.delta, self.now).await?;
        Event::new("import", "report", self.report_id)
            .campaign(self.campaign.id)
            .unit(self.unit_id)
            .detail(format!(
                "{} (SHA-256 {digest}): {} rows, {} created, {} updated, {} unchanged",
                self.opts.file_name, report.rows, report.created, report.updated, report.unchanged
            ))
            .record(&tx, self.actor, self.now)
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
    province_id: Option<i64>,
    form: &Form,
    actor: &Actor,
    now: DateTime<Utc>,
) -> asset::ActiveModel {
    asset::ActiveModel {
        campaign_id: Set(campaign_id),
        unit_id: Set(unit_id),
        province_id: Set(province_id),
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
    Json::Object(record::record_json(&record::record_of(form, m)))
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
