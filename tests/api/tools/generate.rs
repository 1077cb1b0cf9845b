//! Issue 7: the national-scale generator writes consistent, valid data.

use std::collections::{BTreeMap, BTreeSet};

use kiemke::{
    entities::{admin_node, asset, campaign, registration, report, unit},
    forms::record,
    generate::{self, GenerateArgs},
    reports::ReportState,
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::{db_test, support::*};

/// Generates 40 units of 5 assets, 7 units per transaction (so that batches split mid-way).
/// Seed 248 draws every case: an inactive unit, units not registered or registered late,
/// types 02 and 18, extensions, returned reports and a nil return.
async fn small(app: &TestApp) -> i64 {
    let args = GenerateArgs {
        units_per_transaction: 7,
        ..GenerateArgs::new(40, 5, 248)
    };
    let out = generate::generate(&app.state, &args, |_, _| {})
        .await
        .expect("generate");
    assert_eq!(out.counts.units, 40);
    out.campaign_id
}

db_test!(
    generated_counters_and_the_board_agree_with_the_rows,
    |app| {
        let admin = app.admin().await;
        let campaign = small(&app).await;
        let db = &app.state.db;
        let c = campaign::Entity::find_by_id(campaign)
            .one(db)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(c.cutoff_at, at("2026-01-01T00:00:00+07:00"));
        let units = unit::Entity::find().all(db).await.unwrap();
        let regs = registration::Entity::find()
            .filter(registration::Column::CampaignId.eq(campaign))
            .all(db)
            .await
            .unwrap();
        let reports = report::Entity::find()
            .filter(report::Column::CampaignId.eq(campaign))
            .all(db)
            .await
            .unwrap();
        let assets = asset::Entity::find()
            .filter(asset::Column::CampaignId.eq(campaign))
            .all(db)
            .await
            .unwrap();
        assert_eq!(units.len(), 40);
        assert!(
            units
                .iter()
                .all(|u| u.code.len() == 7 && u.code.chars().all(|c| c.is_ascii_digit()))
        );
        assert!(
            regs.len() > 30 && regs.len() < 40,
            "{} registered",
            regs.len()
        );
        assert!(!assets.is_empty());

        // Each report's counters are the sums of its assets.
        let mut sums: BTreeMap<(i64, String), (i64, i64, i64, i64)> = BTreeMap::new();
        for a in &assets {
            let s = sums.entry((a.unit_id, a.type_code.clone())).or_default();
            s.0 += 1;
            s.1 += a.original_cost;
            s.2 += a.depreciation;
            s.3 += a.remaining_value;
        }
        for r in &reports {
            let s = sums
                .remove(&(r.unit_id, r.type_code.clone()))
                .unwrap_or_default();
            assert_eq!(
                (
                    r.record_count,
                    r.original_cost_total,
                    r.depreciation_total,
                    r.remaining_value_total
                ),
                s,
                "report {} of unit {}",
                r.type_code,
                r.unit_id
            );
            // States and instants agree.
            let state = ReportState::of(r);
            match r.state.as_str() {
                "open" => assert!(r.first_submitted_at.is_none() && r.submitted_at.is_none()),
                "submitted" | "accepted" | "returned" => {
                    let first = r.first_submitted_at.expect("first submission");
                    assert!(r.submitted_at.expect("submission") >= first);
                    assert!(r.nil_return == (r.record_count == 0));
                }
                other => panic!("unexpected state {other}"),
            }
            if state == ReportState::Returned {
                assert!(r.returned_at > r.first_submitted_at && r.return_reason.is_some());
            }
            if state == ReportState::Accepted {
                assert!(r.accepted_at > r.submitted_at);
            }
            let reg = regs
                .iter()
                .find(|g| g.unit_id == r.unit_id)
                .expect("a report belongs to a registered unit");
            assert!(r.first_submitted_at.is_none_or(|t| t > reg.registered_at));
        }
        assert!(sums.is_empty(), "assets without a report: {sums:?}");
        let types: Vec<&str> = reports.iter().map(|r| r.type_code.as_str()).collect();
        for t in ["01", "02", "18"] {
            assert!(types.contains(&t), "seed 248 registers type {t}");
        }

        // Every generated record passes every rule of its form, submission rules included,
        // and already carries every value the checks would derive.
        for a in &assets {
            let form = app.state.forms.form(&a.form_code).expect("form");
            let record = record::record_of(form, a);
            let keys = a.fields.as_object().map_or(0, |o| o.len());
            assert_eq!(
                record
                    .keys()
                    .filter(|k| !kiemke::forms::Form::is_core(k))
                    .count(),
                keys,
                "every own field of {} reads back",
                a.code
            );
            let mut checked = record.clone();
            let errors = record::check_record(form, &mut checked, c.cutoff_at, true);
            assert!(errors.is_empty(), "{} {}: {errors:?}", a.form_code, a.code);
            assert_eq!(checked, record, "{} derives nothing new", a.code);
        }

        // The board counts what the rows say.
        let b = app
            .call(
                "GET",
                &format!("/api/v1/campaigns/{campaign}/progress?per_page=100"),
            )
            .token(&admin)
            .send()
            .await
            .expect(200)
            .json();
        let active = units.iter().filter(|u| u.active).count() as i64;
        assert_eq!(b["units_total"], active);
        assert_eq!(
            b["registered_on_time"].as_i64().unwrap() + b["registered_late"].as_i64().unwrap(),
            regs.len() as i64
        );
        assert_eq!(b["not_registered"], active - regs.len() as i64);
        assert_eq!(b["obligations"], reports.len() as i64);
        let by_state: i64 = b["reports_by_state"]
            .as_object()
            .unwrap()
            .values()
            .map(|v| v.as_i64().unwrap())
            .sum();
        assert_eq!(by_state, reports.len() as i64);
        let sent = reports
            .iter()
            .filter(|r| ReportState::of(r).is_sent())
            .count() as i64;
        assert_eq!(
            b["submitted_on_time"].as_i64().unwrap() + b["submitted_late"].as_i64().unwrap(),
            sent
        );
        for t in ["01", "02", "18"] {
            let of_type: Vec<&asset::Model> = assets.iter().filter(|a| a.type_code == t).collect();
            let total = &b["totals_by_type"][t];
            assert_eq!(total["record_count"], of_type.len() as i64, "type {t}");
            assert_eq!(
                total["original_cost"],
                of_type.iter().map(|a| a.original_cost).sum::<i64>()
            );
            assert_eq!(
                total["remaining_value"],
                of_type.iter().map(|a| a.remaining_value).sum::<i64>()
            );
            assert_eq!(
                b["registrations_by_type"][t],
                reports.iter().filter(|r| r.type_code == t).count() as i64
            );
        }
        assert_eq!(b["rows_total"], active);

        // Generated assets read back through the API.
        let a = &assets[0];
        let list = app
            .call(
                "GET",
                &format!(
                    "/api/v1/campaigns/{campaign}/units/{}/assets?per_page=50",
                    a.unit_id
                ),
            )
            .token(&admin)
            .send()
            .await
            .expect(200)
            .json();
        assert!(
            list["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|i| i["code"].as_str() == Some(a.code.as_str()))
        );
    }
);

db_test!(a_second_run_with_the_same_name_is_refused, |app| {
    small(&app).await;
    let again = generate::generate(&app.state, &GenerateArgs::new(2, 1, 248), |_, _| {}).await;
    assert!(again.is_err());
    let other = GenerateArgs {
        campaign_name: Some("Đợt thử thứ hai".into()),
        ..GenerateArgs::new(5, 2, 248)
    };
    let out = generate::generate(&app.state, &other, |_, _| {})
        .await
        .expect("a second campaign with new units");
    assert_eq!(out.counts.units, 5);
    assert_eq!(
        unit::Entity::find().all(&app.state.db).await.unwrap().len(),
        45
    );
});

/// Generates the tree: 2 provinces × 3 wards × 4 units, 3 assets each, 5 units per transaction.
async fn tree(app: &TestApp, name: &str) -> generate::Outcome {
    let args = GenerateArgs {
        units_per_transaction: 5,
        campaign_name: Some(name.into()),
        ..GenerateArgs::tree(2, 3, 4, 3, 248)
    };
    generate::generate(&app.state, &args, |_, _| {})
        .await
        .expect("generate")
}

db_test!(
    the_tree_options_build_provinces_and_wards_and_place_every_unit_in_turn,
    |app| {
        let out = tree(&app, "Cây thử").await;
        assert_eq!((out.provinces, out.wards, out.counts.units), (2, 6, 24));
        let db = &app.state.db;
        let nodes = admin_node::Entity::find()
            .order_by_asc(admin_node::Column::Code)
            .all(db)
            .await
            .unwrap();
        let provinces: Vec<&admin_node::Model> =
            nodes.iter().filter(|n| n.level == "province").collect();
        let wards: Vec<&admin_node::Model> = nodes.iter().filter(|n| n.level == "ward").collect();
        let codes = |ns: &[&admin_node::Model]| -> Vec<String> {
            ns.iter().map(|n| n.code.clone()).collect()
        };
        assert_eq!(codes(&provinces), ["01", "02"]);
        assert_eq!(
            codes(&wards),
            ["00001", "00002", "00003", "00004", "00005", "00006"]
        );
        assert_eq!(
            provinces
                .iter()
                .map(|p| p.name.as_str())
                .collect::<Vec<_>>(),
            ["Thành phố Hà Nội", "Thành phố Huế"]
        );
        assert!(provinces.iter().all(|p| p.parent_id.is_none()));
        for p in &provinces {
            let mine: Vec<&&admin_node::Model> =
                wards.iter().filter(|w| w.parent_id == Some(p.id)).collect();
            assert_eq!(mine.len(), 3, "three wards in {}", p.name);
            let names: BTreeSet<&str> = mine.iter().map(|w| w.name.as_str()).collect();
            assert_eq!(
                names.len(),
                3,
                "distinct ward names in {}: {names:?}",
                p.name
            );
        }
        for w in &wards {
            assert!(
                w.name.starts_with("Xã ") || w.name.starts_with("Phường "),
                "{}",
                w.name
            );
            assert_eq!(w.search, kiemke::search::key(&w.code, &w.name));
        }

        // Every unit placed: four per ward, in the ward's province, named after its ward.
        let units = unit::Entity::find().all(db).await.unwrap();
        assert_eq!(units.len(), 24);
        let province_of: BTreeMap<i64, i64> =
            wards.iter().map(|w| (w.id, w.parent_id.unwrap())).collect();
        let mut per_ward: BTreeMap<i64, usize> = BTreeMap::new();
        for u in &units {
            let ward = u.ward_id.expect("every unit placed");
            *per_ward.entry(ward).or_default() += 1;
            assert_eq!(u.province_id, province_of.get(&ward).copied(), "{}", u.code);
            let w = wards.iter().find(|w| w.id == ward).unwrap();
            let place = w.name.split_once(' ').unwrap().1;
            assert!(
                u.name.contains(place),
                "{} is named after {}",
                u.name,
                w.name
            );
            let p = provinces
                .iter()
                .find(|p| Some(p.id) == u.province_id)
                .unwrap();
            if let Some(reg) = &u.registration_code {
                assert!(reg.starts_with(&p.code), "{reg} leads with {}", p.code);
            }
        }
        assert_eq!(per_ward.len(), 6);
        assert!(per_ward.values().all(|n| *n == 4), "{per_ward:?}");

        // The distribution key: every row under a unit carries the unit's province.
        let unit_province: BTreeMap<i64, Option<i64>> =
            units.iter().map(|u| (u.id, u.province_id)).collect();
        let regs = registration::Entity::find().all(db).await.unwrap();
        let reports = report::Entity::find().all(db).await.unwrap();
        let assets = asset::Entity::find().all(db).await.unwrap();
        assert!(!regs.is_empty() && !reports.is_empty() && !assets.is_empty());
        for r in &regs {
            assert_eq!(r.province_id, unit_province[&r.unit_id]);
        }
        for r in &reports {
            assert_eq!(r.province_id, unit_province[&r.unit_id]);
        }
        for a in &assets {
            assert_eq!(a.province_id, unit_province[&a.unit_id]);
        }
    }
);

db_test!(
    a_second_tree_takes_codes_no_node_holds_and_plain_runs_leave_units_unplaced,
    |app| {
        tree(&app, "Cây thứ nhất").await;
        let plain = GenerateArgs {
            campaign_name: Some("Không có cây".into()),
            ..GenerateArgs::new(3, 2, 7)
        };
        let out = generate::generate(&app.state, &plain, |_, _| {})
            .await
            .expect("generate");
        assert_eq!((out.provinces, out.wards, out.counts.units), (0, 0, 3));
        tree(&app, "Cây thứ hai").await;
        let db = &app.state.db;
        let nodes = admin_node::Entity::find().all(db).await.unwrap();
        let codes: BTreeSet<&str> = nodes.iter().map(|n| n.code.as_str()).collect();
        assert_eq!(nodes.len(), 16, "two trees of 2 + 6 nodes");
        assert_eq!(codes.len(), 16, "every code once");
        assert!(codes.contains("04") && codes.contains("00012"), "{codes:?}");
        let units = unit::Entity::find().all(db).await.unwrap();
        assert_eq!(units.len(), 51);
        assert_eq!(units.iter().filter(|u| u.ward_id.is_none()).count(), 3);
        assert!(
            units
                .iter()
                .all(|u| u.ward_id.is_some() == u.province_id.is_some())
        );
        let unplaced: Vec<i64> = units
            .iter()
            .filter(|u| u.ward_id.is_none())
            .map(|u| u.id)
            .collect();
        let assets = asset::Entity::find()
            .filter(asset::Column::UnitId.is_in(unplaced))
            .all(db)
            .await
            .unwrap();
        assert!(!assets.is_empty());
        assert!(assets.iter().all(|a| a.province_id.is_none()));
    }
);
