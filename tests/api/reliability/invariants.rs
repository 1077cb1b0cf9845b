//! What must hold in the database after any mix of concurrent requests, crashes and
//! restarts: the records, their audit trail, the report counters, the snapshots of locked
//! reports and the progress board all tell the same story.

use std::collections::BTreeMap;

use kiemke::{
    entities::{asset, audit_event, campaign, report, report_snapshot},
    forms::record,
    pagination::PageQuery,
    progress::{self, ProgressFilter},
    reports::{self, ReportState},
    state::AppState,
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

/// How much was checked (for the figures in docs/RELIABILITY.md).
#[derive(Debug, Default, Clone, Copy)]
pub struct Checked {
    pub assets: usize,
    pub reports: usize,
    pub asset_events: usize,
}

fn creation(action: &str) -> bool {
    matches!(action, "create" | "import")
}

/// Panics, naming the record, at the first disagreement.
pub async fn assert_consistent(state: &AppState) -> Checked {
    let db = &state.db;
    let assets = asset::Entity::find()
        .order_by_asc(asset::Column::Id)
        .all(db)
        .await
        .expect("read assets");
    let reports = report::Entity::find()
        .order_by_asc(report::Column::Id)
        .all(db)
        .await
        .expect("read reports");
    let events = audit_event::Entity::find()
        .filter(audit_event::Column::Entity.eq("asset"))
        .order_by_asc(audit_event::Column::Id)
        .all(db)
        .await
        .expect("read audit events");

    // 1. Each report's counters are the sums over its assets, and every asset has a report.
    let key = |c: i64, u: i64, t: &str| (c, u, t.to_string());
    // (campaign, unit, type) → (count, original cost, depreciation, remaining value)
    type Sums = BTreeMap<(i64, i64, String), (i64, i64, i64, i64)>;
    let mut sums = Sums::new();
    for a in &assets {
        let s = sums
            .entry(key(a.campaign_id, a.unit_id, &a.type_code))
            .or_default();
        s.0 += 1;
        s.1 += a.original_cost;
        s.2 += a.depreciation;
        s.3 += a.remaining_value;
    }
    for r in &reports {
        let s = sums
            .remove(&key(r.campaign_id, r.unit_id, &r.type_code))
            .unwrap_or_default();
        assert_eq!(
            (
                r.record_count,
                r.original_cost_total,
                r.depreciation_total,
                r.remaining_value_total
            ),
            s,
            "report {} ({}/{}/{}): counters (count, cost, depreciation, remaining) differ from the sums over its assets",
            r.id,
            r.campaign_id,
            r.unit_id,
            r.type_code
        );
    }
    assert!(sums.is_empty(), "assets without a report: {sums:?}");

    // 2. The audit trail: one creation per asset, one event per version, the last
    //    after-image is the stored record; a deleted asset ends with its delete.
    let mut by_asset: BTreeMap<i64, Vec<&audit_event::Model>> = BTreeMap::new();
    for e in &events {
        let id = e.entity_id.expect("an asset event names its asset");
        by_asset.entry(id).or_default().push(e);
    }
    for a in &assets {
        let trail = by_asset
            .remove(&a.id)
            .unwrap_or_else(|| panic!("asset {} ({}) has no audit event", a.id, a.code));
        let actions: Vec<&str> = trail.iter().map(|e| e.action.as_str()).collect();
        assert!(
            creation(actions[0]) && actions[1..].iter().all(|a| *a == "update"),
            "asset {}: audit actions {actions:?}",
            a.id
        );
        assert_eq!(
            actions.len() as i32,
            a.version,
            "asset {}: one audit event per version",
            a.id
        );
        let form = state
            .forms
            .form(&a.form_code)
            .expect("form of a stored asset");
        let stored = serde_json::Value::Object(record::record_json(&record::record_of(form, a)));
        assert_eq!(
            trail.last().and_then(|e| e.after.clone()),
            Some(stored),
            "asset {}: the last audit after-image is the stored record",
            a.id
        );
    }
    for (id, trail) in &by_asset {
        let actions: Vec<&str> = trail.iter().map(|e| e.action.as_str()).collect();
        assert!(
            creation(actions[0]) && actions.last() == Some(&"delete"),
            "asset {id} is gone but its audit trail is {actions:?}"
        );
        assert_eq!(
            actions.iter().filter(|a| **a == "delete").count(),
            1,
            "asset {id}: {actions:?}"
        );
    }

    // 3. A locked report's records hash to its last snapshot.
    for r in &reports {
        if !ReportState::of(r).is_sent() {
            continue;
        }
        let last = report_snapshot::Entity::find()
            .filter(report_snapshot::Column::ReportId.eq(r.id))
            .order_by_desc(report_snapshot::Column::Seq)
            .one(db)
            .await
            .expect("read snapshots")
            .unwrap_or_else(|| panic!("report {} is {} without a snapshot", r.id, r.state));
        let now = reports::current_digest(state, r)
            .await
            .expect("digest of the current records");
        assert_eq!(
            now, last.digest,
            "report {} is locked, yet its records differ from its last snapshot",
            r.id
        );
    }

    // 4. The progress board counts what the tables hold.
    for c in campaign::Entity::find().all(db).await.expect("campaigns") {
        let page = PageQuery {
            page: None,
            per_page: Some(500),
        };
        let b = progress::board(state, c.id, &ProgressFilter::default(), &page)
            .await
            .expect("board");
        let mine: Vec<&report::Model> = reports.iter().filter(|r| r.campaign_id == c.id).collect();
        assert_eq!(b.obligations, mine.len() as i64, "campaign {}", c.id);
        assert_eq!(
            b.reports_by_state.values().sum::<i64>(),
            b.obligations,
            "campaign {}: reports by state add up to the obligations",
            c.id
        );
        for s in ReportState::ALL {
            let n = mine.iter().filter(|r| ReportState::of(r) == s).count() as i64;
            assert_eq!(
                b.reports_by_state.get(s.as_str()).copied().unwrap_or(0),
                n,
                "campaign {}: reports {}",
                c.id,
                s.as_str()
            );
        }
        let sent = mine.iter().filter(|r| ReportState::of(r).is_sent()).count() as i64;
        assert_eq!(b.submitted_on_time + b.submitted_late, sent);
        let mut by_type: BTreeMap<String, (i64, i64, i64)> = BTreeMap::new();
        for a in assets.iter().filter(|a| a.campaign_id == c.id) {
            let t = by_type.entry(a.type_code.clone()).or_default();
            t.0 += 1;
            t.1 += a.original_cost;
            t.2 += a.remaining_value;
        }
        for (t, (count, cost, remaining)) in &by_type {
            let shown = b.totals_by_type.get(t).cloned().unwrap_or_default();
            assert_eq!(
                (
                    shown.record_count,
                    shown.original_cost,
                    shown.remaining_value
                ),
                (*count, *cost, *remaining),
                "campaign {}: board totals of type {t}",
                c.id
            );
        }
    }
    Checked {
        assets: assets.len(),
        reports: reports.len(),
        asset_events: events.len(),
    }
}
