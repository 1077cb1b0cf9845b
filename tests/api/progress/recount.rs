//! Issue 7: the progress board computed with SQL aggregates agrees with a row-by-row recount
//! (the board's documented semantics applied to every unit, registration and report).

use std::collections::BTreeMap;

use kiemke::{
    clock::{self, Clock},
    entities::{campaign, registration, report, unit},
    generate::{self, GenerateArgs},
    reports::{self, ReportState},
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
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
    // Name order: names ranked by the database itself (its collation), ties broken by code.
    let names: Vec<String> = unit::Entity::find()
        .select_only()
        .column(unit::Column::Name)
        .distinct()
        .order_by_asc(unit::Column::Name)
        .into_tuple()
        .all(db)
        .await
        .unwrap();
    let rank: BTreeMap<&str, usize> = names
        .iter()
        .enumerate()
        .map(|(i, n)| (n.as_str(), i))
        .collect();
    let by_id: BTreeMap<i64, &unit::Model> = units.iter().map(|u| (u.id, u)).collect();
    let name_key = |id: &i64, desc: bool| {
        let u = by_id[id];
        let r = rank[u.name.as_str()];
        (if desc { usize::MAX - r } else { r }, u.code.clone())
    };
    match filter.iter().find(|(k, _)| *k == "sort").map(|(_, v)| *v) {
        Some("code_desc") => rows.reverse(),
        Some("name") => rows.sort_by_key(|id| name_key(id, false)),
        Some("name_desc") => rows.sort_by_key(|id| name_key(id, true)),
        _ => {}
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
            assert_eq!(b["next_after"], Value::Null, "no next page after the end");
            break;
        }
        seen.extend(page_rows.iter().map(|r| r["unit_id"].as_i64().unwrap()));
        // `next_after` is the last row's code exactly when rows follow (the pages in the second
        // half are read from the far end: this checks that reading too).
        let more = seen.len() < rows.len();
        assert_eq!(
            b["next_after"],
            if more {
                page_rows.last().unwrap()["code"].clone()
            } else {
                Value::Null
            },
            "next_after of page {page} with {filter:?}"
        );
    }
    assert_eq!(seen, rows, "rows with {filter:?}");

    // The same rows, walked by `after=` from the first page to the last, exactly once each.
    let mut walked = vec![];
    let mut after: Option<String> = None;
    for page in 1.. {
        let cursor = after
            .as_deref()
            .map(|a| format!("&after={a}"))
            .unwrap_or_default();
        let b = app
            .call(
                "GET",
                &format!(
                    "/api/v1/campaigns/{campaign}/progress?per_page=7&page={page}{cursor}{query}"
                ),
            )
            .token(token)
            .send()
            .await
            .expect(200)
            .json();
        assert_eq!(b["page"], page, "the page number is echoed");
        assert_eq!(
            b["rows_total"],
            rows.len() as i64,
            "rows_total after {after:?}"
        );
        assert_eq!(b["units_total"], expected["units_total"]);
        let page_rows = b["rows"].as_array().unwrap();
        assert!(page_rows.len() <= 7);
        walked.extend(page_rows.iter().map(|r| r["unit_id"].as_i64().unwrap()));
        match b["next_after"].as_str() {
            Some(next) => {
                assert_eq!(page_rows.len(), 7, "only a full page has a next one");
                after = Some(next.to_string());
            }
            None => break,
        }
        assert!(page <= rows.len() + 1, "the walk ends");
    }
    assert_eq!(walked, rows, "rows walked by after= with {filter:?}");
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
        &[("sort", "name")],
        &[("sort", "name_desc")],
        &[("sort", "name"), ("overdue", "true")],
        &[("sort", "name_desc"), ("kind", "school")],
        &[("sort", "name"), ("q", "truong"), ("state", "draft")],
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

/// A unit made by a test: id, code, name.
type Made = (i64, String, String);

/// The unit ids of every row of the board, walked with `after=` in `sort`, 4 per page.
async fn walk_after(app: &TestApp, token: &str, campaign: i64, sort: &str) -> Vec<i64> {
    let mut ids = vec![];
    let mut after = String::new();
    loop {
        let b = app
            .call(
                "GET",
                &format!("/api/v1/campaigns/{campaign}/progress?per_page=4&sort={sort}{after}"),
            )
            .token(token)
            .send()
            .await
            .expect(200)
            .json();
        ids.extend(
            b["rows"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["unit_id"].as_i64().unwrap()),
        );
        match b["next_after"].as_str() {
            Some(code) => after = format!("&after={code}"),
            None => return ids,
        }
        assert!(ids.len() < 100, "the walk ends");
    }
}

db_test!(
    after_walks_every_unit_once_in_code_and_name_order_with_ties_on_name_and_the_last_page_is_the_tail,
    |app| {
        let admin = app.admin().await;
        let campaign = app.campaign(&admin).await;
        // Three names shared by several units each, codes not in name order; one inactive unit
        // that registered (in scope) and one that did not (out of scope).
        let names = [
            "Trường Tiểu học Kim Đồng",
            "Trường Mầm non Hoa Sen",
            "UBND phường Tam Thanh",
        ];
        let mut units: Vec<Made> = vec![];
        for i in 0..17u32 {
            let code = format!("{}", 1_109_100 + (i * 7919) % 97);
            let name = names[(i % 3) as usize].to_string();
            let id = app.unit(&admin, &code, &name).await;
            units.push((id, code, name));
        }
        app.register(&admin, campaign, units[3].0, &["01"]).await;
        for (i, _) in [(3usize, ()), (5, ())] {
            app.call("PATCH", &format!("/api/v1/units/{}", units[i].0))
                .token(&admin)
                .json(&json!({"active": false}))
                .send()
                .await
                .expect(200);
        }
        units.remove(5);
        let by = |f: &dyn Fn(&Made, &Made) -> std::cmp::Ordering| {
            let mut u = units.clone();
            u.sort_by(|a, b| f(a, b));
            u.into_iter().map(|u| u.0).collect::<Vec<i64>>()
        };
        // The three names differ in their first letter after "Trường " / "U": the same order
        // under any collation.
        let code = by(&|a, b| a.1.cmp(&b.1));
        let code_desc = by(&|a, b| b.1.cmp(&a.1));
        let name = by(&|a, b| a.2.cmp(&b.2).then(a.1.cmp(&b.1)));
        let name_desc = by(&|a, b| b.2.cmp(&a.2).then(a.1.cmp(&b.1)));
        for (sort, expected) in [
            ("code", &code),
            ("code_desc", &code_desc),
            ("name", &name),
            ("name_desc", &name_desc),
        ] {
            assert_eq!(
                &walk_after(&app, &admin, campaign, sort).await,
                expected,
                "after= in {sort} order"
            );
            // The last page by number (read from the far end) is the tail of the order, and
            // each page by number is the same slice as the walk.
            let pages = expected.len().div_ceil(4);
            for page in 1..=pages {
                let b = app
                    .call(
                        "GET",
                        &format!(
                            "/api/v1/campaigns/{campaign}/progress?per_page=4&sort={sort}&page={page}"
                        ),
                    )
                    .token(&admin)
                    .send()
                    .await
                    .expect(200)
                    .json();
                let ids: Vec<i64> = b["rows"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|r| r["unit_id"].as_i64().unwrap())
                    .collect();
                let from = (page - 1) * 4;
                assert_eq!(
                    ids,
                    expected[from..(from + 4).min(expected.len())],
                    "page {page} of {pages} in {sort} order"
                );
                assert_eq!(b["rows_total"], expected.len() as i64);
            }
        }
        // A cursor naming no unit, or longer than a code, is refused and named.
        for bad in ["9999999", "12345678"] {
            let res = app
                .call(
                    "GET",
                    &format!("/api/v1/campaigns/{campaign}/progress?after={bad}"),
                )
                .token(&admin)
                .send()
                .await
                .problem(422, "validation");
            assert_eq!(res.error_fields(), ["after"], "after={bad}");
        }
    }
);

db_test!(
    the_board_pages_next_link_continues_after_the_last_row_shown,
    |app| {
        app.admin().await;
        let args = GenerateArgs {
            units_per_transaction: 60,
            ..GenerateArgs::new(120, 1, 7)
        };
        let campaign = generate::generate(&app.state, &args, |_, _| {})
            .await
            .unwrap()
            .campaign_id;
        let token = app.login("admin", ADMIN_PASSWORD).await;
        let login = app
            .call("POST", "/login")
            .header("host", "kiemke.test")
            .header("origin", "http://kiemke.test")
            .raw(
                "application/x-www-form-urlencoded",
                format!("username=admin&password={ADMIN_PASSWORD}").into_bytes(),
            )
            .send()
            .await
            .expect(303);
        let cookie = login
            .headers
            .get("set-cookie")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .unwrap()
            .to_string();
        for sort in ["code", "name_desc"] {
            let api = |page: u64| {
                format!("/api/v1/campaigns/{campaign}/progress?sort={sort}&page={page}")
            };
            let mut path = format!("/board?sort={sort}");
            for page in 1..=3u64 {
                let html = app
                    .call("GET", &path)
                    .header("host", "kiemke.test")
                    .header("accept", "text/html")
                    .header("cookie", &cookie)
                    .send()
                    .await
                    .expect(200);
                let html = String::from_utf8_lossy(&html.body).to_string();
                let b = app
                    .call("GET", &api(page))
                    .token(&token)
                    .send()
                    .await
                    .expect(200)
                    .json();
                let rows = b["rows"].as_array().unwrap();
                for r in [rows.first().unwrap(), rows.last().unwrap()] {
                    let link = format!("href=\"/units/{}\"", r["unit_id"]);
                    assert!(
                        html.contains(&link),
                        "page {page} in {sort} order shows {link}"
                    );
                }
                let next = html
                    .split("rel=\"next\"")
                    .next()
                    .and_then(|h| h.rsplit("href=\"").next())
                    .and_then(|h| h.split('"').next())
                    .unwrap()
                    .replace("&amp;", "&")
                    .replace("&#38;", "&");
                if page < 3 {
                    let last = rows.last().unwrap()["code"].as_str().unwrap();
                    assert_eq!(
                        next,
                        format!("/board?sort={sort}&after={last}&page={}", page + 1),
                        "next link of page {page}"
                    );
                    path = next;
                } else {
                    assert!(
                        !html.contains("rel=\"next\""),
                        "the last page has no next link"
                    );
                }
            }
        }
    }
);
