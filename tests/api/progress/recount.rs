//! Issue 7: the progress board computed with SQL aggregates agrees with a row-by-row recount
//! (the board's documented semantics applied to every unit, registration and report).

use std::collections::BTreeMap;

use kiemke::{
    clock::{self, Clock},
    entities::{campaign, registration, report, unit},
    generate::{self, GenerateArgs},
    reports::{self, ReportState},
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};

use crate::{db_test, support::*};

/// The board recomputed from every row: counts, the unit ids of the rows matching `filter` (in
/// the order asked), and each unit's days overdue.
async fn recount(
    app: &TestApp,
    campaign_id: i64,
    filter: &[(&str, &str)],
) -> (Value, Vec<i64>, BTreeMap<i64, Option<i64>>) {
    let db = &app.state.db;
    let now = app.clock.now();
    let c = campaign::Entity::find_by_id(campaign_id)
        .one(db)
        .await
        .unwrap()
        .unwrap();
    let regs: BTreeMap<i64, registration::Model> = registration::Entity::find()
        .filter(registration::Column::CampaignId.eq(campaign_id))
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.unit_id, r))
        .collect();
    let reports = report::Entity::find()
        .filter(report::Column::CampaignId.eq(campaign_id))
        .all(db)
        .await
        .unwrap();
    let units: Vec<unit::Model> = unit::Entity::find()
        .order_by_asc(unit::Column::Code)
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .filter(|u| u.active || regs.contains_key(&u.id))
        .collect();
    let mut counts = BTreeMap::<&str, i64>::new();
    let mut by_type = BTreeMap::<String, i64>::new();
    let mut by_state = BTreeMap::<String, i64>::new();
    let mut states_by_type = BTreeMap::<String, BTreeMap<String, i64>>::new();
    let mut days_overdue = BTreeMap::<i64, Option<i64>>::new();
    let mut totals = BTreeMap::<String, (i64, i64, i64)>::new();
    let mut rows = vec![];
    for u in &units {
        match regs.get(&u.id) {
            Some(r) => {
                if r.team_members.as_array().is_some_and(|m| !m.is_empty()) {
                    *counts.entry("teams_established").or_default() += 1;
                }
                if clock::on_time(r.registered_at, c.registration_deadline) {
                    *counts.entry("registered_on_time").or_default() += 1;
                } else {
                    *counts.entry("registered_late").or_default() += 1;
                }
            }
            None => *counts.entry("not_registered").or_default() += 1,
        }
        let mine: Vec<&report::Model> = reports.iter().filter(|r| r.unit_id == u.id).collect();
        let mut shown = 0;
        for r in &mine {
            let s = ReportState::of(r);
            let overdue = reports::is_overdue(&c, r, now);
            *counts.entry("obligations").or_default() += 1;
            *by_type.entry(r.type_code.clone()).or_default() += 1;
            *by_state.entry(s.as_str().to_string()).or_default() += 1;
            *states_by_type
                .entry(r.type_code.clone())
                .or_insert_with(|| {
                    ReportState::ALL
                        .iter()
                        .map(|s| (s.as_str().to_string(), 0))
                        .collect()
                })
                .entry(s.as_str().to_string())
                .or_default() += 1;
            if overdue {
                let late = -clock::days_left(now, reports::deadline(&c, r));
                let d = days_overdue.entry(u.id).or_default();
                *d = Some(d.map_or(late, |x| x.max(late)));
            }
            match (s.is_sent(), reports::sent_on_time(&c, r)) {
                (true, Some(true)) => *counts.entry("submitted_on_time").or_default() += 1,
                (true, _) => *counts.entry("submitted_late").or_default() += 1,
                _ => {}
            }
            if overdue {
                *counts.entry("overdue").or_default() += 1;
            }
            let t = totals.entry(r.type_code.clone()).or_default();
            t.0 += r.record_count;
            t.1 += r.original_cost_total;
            t.2 += r.remaining_value_total;
            let matches = filter.iter().all(|(k, v)| match *k {
                "state" => s.as_str() == *v,
                "asset_type" => r.type_code == *v,
                "overdue" => overdue.to_string() == *v,
                _ => true,
            });
            if matches {
                shown += 1;
            }
        }
        if !mine.is_empty() && mine.iter().all(|r| ReportState::of(r).is_sent()) {
            *counts.entry("units_fully_submitted").or_default() += 1;
        }
        // Search (diacritics and case ignored) and kind narrow the units themselves.
        let unit_ok = filter.iter().all(|(k, v)| match *k {
            "q" => kiemke::search::key(&u.code, &u.name).contains(&kiemke::search::fold(v)),
            "kind" => u.kind == *v,
            _ => true,
        });
        let by_reports = filter
            .iter()
            .any(|(k, _)| matches!(*k, "state" | "asset_type" | "overdue"));
        if unit_ok && (!by_reports || shown > 0) {
            rows.push(u.id);
        }
    }
    if filter.contains(&("sort", "code_desc")) {
        rows.reverse();
    }
    let mut expected = json!({"units_total": units.len()});
    for k in [
        "teams_established",
        "registered_on_time",
        "registered_late",
        "not_registered",
        "obligations",
        "submitted_on_time",
        "submitted_late",
        "overdue",
        "units_fully_submitted",
    ] {
        expected[k] = json!(counts.get(k).copied().unwrap_or(0));
    }
    for s in ReportState::ALL {
        by_state.entry(s.as_str().to_string()).or_default();
    }
    expected["registrations_by_type"] = json!(by_type);
    expected["reports_by_state"] = json!(by_state);
    expected["states_by_type"] = json!(states_by_type);
    expected["totals_by_type"] = json!(
        totals
            .into_iter()
            .map(|(t, (n, cost, rem))| (
                t,
                json!({"record_count": n, "original_cost": cost, "remaining_value": rem})
            ))
            .collect::<BTreeMap<_, _>>()
    );
    (expected, rows, days_overdue)
}

async fn compare(app: &TestApp, token: &str, campaign: i64, filter: &[(&str, &str)]) {
    let (expected, rows, days_overdue) = recount(app, campaign, filter).await;
    let query: String = filter
        .iter()
        .map(|(k, v)| format!("&{k}={}", v.replace(' ', "%20")))
        .collect();
    let mut seen = vec![];
    for page in 1.. {
        let b = app
            .call(
                "GET",
                &format!("/api/v1/campaigns/{campaign}/progress?per_page=7&page={page}{query}"),
            )
            .token(token)
            .send()
            .await
            .expect(200)
            .json();
        for (k, v) in expected.as_object().unwrap() {
            assert_eq!(&b[k], v, "{k} with {filter:?}");
        }
        assert_eq!(
            b["rows_total"],
            rows.len() as i64,
            "rows_total with {filter:?}"
        );
        let page_rows = b["rows"].as_array().unwrap();
        let by_reports = filter
            .iter()
            .any(|(k, _)| matches!(*k, "state" | "asset_type" | "overdue"));
        for r in page_rows {
            assert!(
                !r["reports"].as_array().unwrap().is_empty() || !by_reports,
                "a filtered row shows a matching report"
            );
            let id = r["unit_id"].as_i64().unwrap();
            assert_eq!(
                r["days_overdue"],
                json!(days_overdue.get(&id).copied().flatten()),
                "days overdue of unit {id}"
            );
        }
        if page_rows.is_empty() {
            break;
        }
        seen.extend(page_rows.iter().map(|r| r["unit_id"].as_i64().unwrap()));
    }
    assert_eq!(seen, rows, "rows with {filter:?}");
}

db_test!(the_board_agrees_with_a_row_by_row_recount, |app| {
    let admin = app.admin().await;
    let args = GenerateArgs {
        units_per_transaction: 9,
        ..GenerateArgs::new(45, 5, 248)
    };
    let campaign = generate::generate(&app.state, &args, |_, _| {})
        .await
        .unwrap()
        .campaign_id;
    // Two extensions with different deadlines, on units with open reports.
    let open: Vec<i64> = report::Entity::find()
        .filter(report::Column::CampaignId.eq(campaign))
        .filter(report::Column::State.eq("open"))
        .order_by_asc(report::Column::UnitId)
        .all(&app.state.db)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.unit_id)
        .collect();
    assert!(open.len() >= 3, "seed 248 leaves reports open");
    for (unit, day) in [
        (open[0], "2026-04-15"),
        (open[open.len() - 1], "2026-04-30"),
    ] {
        app.call(
            "POST",
            &format!("/api/v1/campaigns/{campaign}/units/{unit}/extension"),
        )
        .token(&admin)
        .json(&json!({"deadline": day, "reason": "Sáp nhập đơn vị"}))
        .send()
        .await
        .expect(200);
    }
    let filters: &[&[(&str, &str)]] = &[
        &[],
        &[("overdue", "true")],
        &[("overdue", "false")],
        &[("asset_type", "01")],
        &[("asset_type", "18"), ("overdue", "false")],
        &[("state", "not_started")],
        &[("state", "draft")],
        &[("state", "submitted")],
        &[("state", "returned"), ("overdue", "true")],
        &[("state", "accepted")],
        &[("sort", "code_desc")],
        &[("kind", "school")],
        &[("kind", "state_agency"), ("overdue", "true")],
        &[("q", "truong")],
        &[("q", "TRƯỜNG"), ("asset_type", "01"), ("sort", "code_desc")],
    ];
    for instant in [
        "2026-02-10T09:00:00+07:00",
        "2026-04-01T00:00:00+07:00",
        "2026-04-15T23:59:59+07:00",
        "2026-04-16T00:00:00+07:00",
        "2026-05-20T08:00:00+07:00",
    ] {
        app.clock.set(at(instant));
        let token = app.login("admin", ADMIN_PASSWORD).await;
        for f in filters {
            compare(&app, &token, campaign, f).await;
        }
        // Reminders list each unit owing a report once, with every report it owes.
        let owed: Vec<(i64, usize)> = app
            .call("GET", &format!("/api/v1/campaigns/{campaign}/reminders"))
            .token(&token)
            .send()
            .await
            .expect(200)
            .json()
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["unit_id"].as_i64().unwrap(),
                    r["owed"].as_array().unwrap().len(),
                )
            })
            .collect();
        let mut expected: Vec<(i64, usize)> = vec![];
        for r in report::Entity::find()
            .filter(report::Column::CampaignId.eq(campaign))
            .all(&app.state.db)
            .await
            .unwrap()
            .iter()
            .filter(|r| !ReportState::of(r).is_sent())
        {
            match expected.iter_mut().find(|(u, _)| *u == r.unit_id) {
                Some(e) => e.1 += 1,
                None => expected.push((r.unit_id, 1)),
            }
        }
        let mut got = owed.clone();
        got.sort();
        expected.sort();
        assert_eq!(got, expected, "reminders at {instant}");
        assert!(
            expected.iter().any(|(_, n)| *n > 1),
            "a unit owes two reports"
        );
    }
});
