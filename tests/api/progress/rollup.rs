//! Issue 16: roll-up boards — a ward's board for its units only, a province's board with one
//! row per ward, the installation's with one row per province; nodes outside the caller's
//! scope answer 404; the province returns a report its ward accepted.

use kiemke::{
    clock::Clock,
    entities::{admin_node, unit, user},
};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set, sea_query::Expr};
use serde_json::{Value, json};

use crate::{db_test, support::*};

/// Inserts a node of the administrative tree directly (the tree's own API is another part of
/// issue 16).
async fn node(app: &TestApp, code: &str, name: &str, level: &str, parent: Option<i64>) -> i64 {
    let now = app.clock.now();
    admin_node::ActiveModel {
        code: Set(code.into()),
        name: Set(name.into()),
        level: Set(level.into()),
        parent_id: Set(parent),
        search: Set(kiemke::search::fold(name)),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&app.state.db)
    .await
    .expect("node")
    .id
}

/// Places a unit in a ward of a province.
async fn place(app: &TestApp, unit_id: i64, ward: i64, province: i64) {
    unit::Entity::update_many()
        .col_expr(unit::Column::WardId, Expr::value(ward))
        .col_expr(unit::Column::ProvinceId, Expr::value(province))
        .filter(unit::Column::Id.eq(unit_id))
        .exec(&app.state.db)
        .await
        .expect("place");
}

/// Binds a finance officer or viewer to a node.
async fn bind(app: &TestApp, username: &str, node: i64) {
    user::Entity::update_many()
        .col_expr(user::Column::NodeId, Expr::value(node))
        .filter(user::Column::Username.eq(username))
        .exec(&app.state.db)
        .await
        .expect("bind");
}

/// Two provinces: Lạng Sơn (20) with phường Tam Thanh (two units, three reports owed) and
/// phường Lương Văn Tri (one unit, one report), Cao Bằng (04) with phường Thục Phán (one
/// unit); one unit not yet placed. A finance officer bound to each ward and to Lạng Sơn.
struct Tree {
    admin: String,
    campaign: i64,
    lang_son: i64,
    cao_bang: i64,
    tam_thanh: i64,
    luong_van_tri: i64,
    thuc_phan: i64,
    units: [i64; 5],
    province_officer: String,
    tam_thanh_officer: String,
    lvt_officer: String,
}

async fn tree(app: &TestApp) -> Tree {
    let admin = app.admin().await;
    let campaign = app.campaign(&admin).await;
    let lang_son = node(app, "20", "Tỉnh Lạng Sơn", "province", None).await;
    let cao_bang = node(app, "04", "Tỉnh Cao Bằng", "province", None).await;
    let tam_thanh = node(app, "06565", "Phường Tam Thanh", "ward", Some(lang_son)).await;
    let luong_van_tri = node(app, "06553", "Phường Lương Văn Tri", "ward", Some(lang_son)).await;
    let thuc_phan = node(app, "01273", "Phường Thục Phán", "ward", Some(cao_bang)).await;
    let mut units = [0; 5];
    for (i, (code, name)) in [
        ("1000001", "Trường Tiểu học Tam Thanh"),
        ("1000002", "Trạm Y tế Tam Thanh"),
        ("1000003", "Trường Mầm non Lương Văn Tri"),
        ("1000004", "Trường THCS Thục Phán"),
        ("1000005", "Ban quản lý dự án chưa xếp"),
    ]
    .into_iter()
    .enumerate()
    {
        units[i] = app.unit(&admin, code, name).await;
    }
    place(app, units[0], tam_thanh, lang_son).await;
    place(app, units[1], tam_thanh, lang_son).await;
    place(app, units[2], luong_van_tri, lang_son).await;
    place(app, units[3], thuc_phan, cao_bang).await;
    app.register(&admin, campaign, units[0], &["01", "02"])
        .await;
    app.register(&admin, campaign, units[1], &["01"]).await;
    app.register(&admin, campaign, units[2], &["01"]).await;
    app.register(&admin, campaign, units[3], &["01"]).await;
    let province_officer = app
        .user(&admin, "so_tai_chinh", "finance_officer", &[])
        .await;
    bind(app, "so_tai_chinh", lang_son).await;
    let tam_thanh_officer = app
        .user(&admin, "tc_tam_thanh", "finance_officer", &[])
        .await;
    bind(app, "tc_tam_thanh", tam_thanh).await;
    let lvt_officer = app.user(&admin, "tc_lvt", "finance_officer", &[]).await;
    bind(app, "tc_lvt", luong_van_tri).await;
    Tree {
        admin,
        campaign,
        lang_son,
        cao_bang,
        tam_thanh,
        luong_van_tri,
        thuc_phan,
        units,
        province_officer,
        tam_thanh_officer,
        lvt_officer,
    }
}

async fn get(app: &TestApp, token: &str, path: &str) -> Value {
    app.call("GET", path)
        .token(token)
        .send()
        .await
        .expect(200)
        .json()
}

fn codes(rows: &Value) -> Vec<String> {
    rows.as_array()
        .expect("rows")
        .iter()
        .map(|r| r["code"].as_str().expect("code").to_string())
        .collect()
}

/// The counts a roll-up row shares with a board.
const COUNTS: [&str; 11] = [
    "units_total",
    "teams_established",
    "registered_on_time",
    "registered_late",
    "not_registered",
    "obligations",
    "submitted_on_time",
    "submitted_late",
    "overdue",
    "units_fully_submitted",
    "reports_by_state",
];

db_test!(
    a_ward_officer_sees_the_board_of_the_wards_units_and_nothing_else,
    |app| {
        let t = tree(&app).await;
        let progress = format!("/api/v1/campaigns/{}/progress", t.campaign);
        let b = get(&app, &t.tam_thanh_officer, &progress).await;
        assert_eq!(b["units_total"], 2);
        assert_eq!(b["teams_established"], 2);
        assert_eq!(b["registered_on_time"], 2);
        assert_eq!(b["not_registered"], 0);
        assert_eq!(b["obligations"], 3);
        assert_eq!(b["registrations_by_type"], json!({"01": 2, "02": 1}));
        assert_eq!(codes(&b["rows"]), ["1000001", "1000002"]);
        assert_eq!(b["rows_total"], 2);
        assert_eq!(b["rollup"], Value::Null);
        assert_eq!(b["areas"], json!([]));
        assert_eq!(b["node"]["code"], "06565");
        let path: Vec<&str> = b["path"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["name"].as_str().unwrap())
            .collect();
        assert_eq!(path, ["Tỉnh Lạng Sơn", "Phường Tam Thanh"]);
        // The same board as the admin's for that ward; filters and pages stay inside it.
        let same = get(&app, &t.admin, &format!("{progress}?node={}", t.tam_thanh)).await;
        for k in COUNTS {
            assert_eq!(b[k], same[k], "{k}");
        }
        let filtered = get(
            &app,
            &t.tam_thanh_officer,
            &format!("{progress}?asset_type=01&per_page=1"),
        )
        .await;
        assert_eq!(filtered["rows_total"], 2);
        assert_eq!(codes(&filtered["rows"]), ["1000001"]);
        let next = get(
            &app,
            &t.tam_thanh_officer,
            &format!(
                "{progress}?per_page=1&after={}",
                filtered["next_after"].as_str().unwrap()
            ),
        )
        .await;
        assert_eq!(codes(&next["rows"]), ["1000002"]);
        assert_eq!(next["next_after"], Value::Null);
        let searched = get(&app, &t.tam_thanh_officer, &format!("{progress}?q=truong")).await;
        assert_eq!(
            codes(&searched["rows"]),
            ["1000001"],
            "the other wards' schools stay out"
        );
    }
);

db_test!(
    a_province_board_has_one_row_per_ward_and_its_totals_are_the_sum_of_the_wards_boards,
    |app| {
        let t = tree(&app).await;
        let progress = format!("/api/v1/campaigns/{}/progress", t.campaign);
        let b = get(&app, &t.province_officer, &progress).await;
        assert_eq!(b["rollup"], "ward");
        assert_eq!(b["node"]["code"], "20");
        let areas = b["areas"].as_array().unwrap();
        let names: Vec<&str> = areas
            .iter()
            .map(|a| a["node"]["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            names,
            ["Phường Lương Văn Tri", "Phường Tam Thanh"],
            "in code order"
        );
        assert_eq!(areas[0]["units_total"], 1);
        assert_eq!(areas[0]["obligations"], 1);
        assert_eq!(areas[1]["units_total"], 2);
        assert_eq!(areas[1]["obligations"], 3);
        assert_eq!(b["units_total"], 3);
        assert_eq!(b["obligations"], 4);
        // Every count of the province is the sum of its wards' boards, each ward's row is
        // that ward's board.
        let mut sums: std::collections::BTreeMap<&str, i64> = Default::default();
        for a in areas {
            let ward = get(
                &app,
                &t.province_officer,
                &format!("{progress}?node={}", a["node"]["id"]),
            )
            .await;
            for k in COUNTS {
                assert_eq!(a[k], ward[k], "{k} of {}", a["node"]["name"]);
                if k != "reports_by_state" {
                    *sums.entry(k).or_default() += ward[k].as_i64().unwrap();
                }
            }
        }
        for (k, n) in sums {
            assert_eq!(b[k], n, "{k}");
        }
        // The unit rows are the province's units, never another province's.
        assert_eq!(codes(&b["rows"]), ["1000001", "1000002", "1000003"]);
    }
);

db_test!(
    the_installation_board_has_one_row_per_province_and_one_for_the_units_not_yet_placed,
    |app| {
        let t = tree(&app).await;
        let b = get(
            &app,
            &t.admin,
            &format!("/api/v1/campaigns/{}/progress", t.campaign),
        )
        .await;
        assert_eq!(b["rollup"], "province");
        assert_eq!(b["node"], Value::Null);
        let areas = b["areas"].as_array().unwrap();
        assert_eq!(areas.len(), 3);
        assert_eq!(areas[0]["node"]["id"], t.cao_bang);
        assert_eq!(areas[0]["units_total"], 1);
        assert_eq!(areas[1]["node"]["id"], t.lang_son);
        assert_eq!(areas[1]["units_total"], 3);
        assert_eq!(areas[1]["obligations"], 4);
        assert_eq!(areas[2]["node"], Value::Null, "the units not yet placed");
        assert_eq!(areas[2]["units_total"], 1);
        assert_eq!(areas[2]["not_registered"], 1);
        assert_eq!(b["units_total"], 5);
        assert_eq!(b["not_registered"], 1);
        assert_eq!(b["obligations"], 5);
        let total: i64 = areas
            .iter()
            .map(|a| a["obligations"].as_i64().unwrap())
            .sum();
        assert_eq!(total, 5);
        // A province's row is that province's board.
        let province = get(
            &app,
            &t.admin,
            &format!(
                "/api/v1/campaigns/{}/progress?node={}",
                t.campaign, t.lang_son
            ),
        )
        .await;
        for k in COUNTS {
            assert_eq!(areas[1][k], province[k], "{k}");
        }
    }
);

db_test!(
    a_node_outside_the_callers_scope_answers_404_on_the_board_summary_reminders_and_workbooks,
    |app| {
        let t = tree(&app).await;
        let c = t.campaign;
        for (token, node) in [
            (&t.province_officer, t.cao_bang),
            (&t.province_officer, t.thuc_phan),
            (&t.tam_thanh_officer, t.lang_son),
            (&t.tam_thanh_officer, t.luong_van_tri),
            (&t.admin, 999_999),
        ] {
            for path in [
                format!("/api/v1/campaigns/{c}/progress?node={node}"),
                format!("/api/v1/campaigns/{c}/progress/summary?node={node}"),
                format!("/api/v1/campaigns/{c}/reminders?node={node}"),
                format!("/api/v1/campaigns/{c}/progress.xlsx?node={node}"),
                format!("/api/v1/campaigns/{c}/forms/01a/summary.xlsx?node={node}"),
                format!("/api/v1/campaigns/{c}/forms/01a/flat.xlsx?node={node}"),
            ] {
                app.call("GET", &path)
                    .token(token)
                    .send()
                    .await
                    .problem(404, "not-found");
            }
        }
        // Inside the scope: the province's own wards.
        get(
            &app,
            &t.province_officer,
            &format!("/api/v1/campaigns/{c}/progress?node={}", t.tam_thanh),
        )
        .await;
    }
);

db_test!(
    the_summary_paragraph_of_a_province_names_each_wards_figures,
    |app| {
        let t = tree(&app).await;
        let s = get(
            &app,
            &t.province_officer,
            &format!("/api/v1/campaigns/{}/progress/summary", t.campaign),
        )
        .await;
        let areas: Vec<&str> = s["parts"]["areas"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l.as_str().unwrap())
            .collect();
        assert_eq!(
            areas,
            [
                "Tình hình từng xã, phường:",
                "+ Phường Lương Văn Tri: 1/1 đơn vị đã đăng ký đối tượng kiểm kê, 0/1 đơn vị đã gửi đủ báo cáo; 0/1 báo cáo đã gửi (0 báo cáo quá hạn chưa gửi);",
                "+ Phường Tam Thanh: 2/2 đơn vị đã đăng ký đối tượng kiểm kê, 0/2 đơn vị đã gửi đủ báo cáo; 0/3 báo cáo đã gửi (0 báo cáo quá hạn chưa gửi).",
            ]
        );
        assert!(s["text"].as_str().unwrap().ends_with(areas[2]));
        assert!(
            s["parts"]["units"].as_str().unwrap().starts_with(
                "Tổng số đơn vị thuộc phạm vi quản lý thuộc đối tượng kiểm kê là 3 đơn vị"
            ),
            "{}",
            s["parts"]["units"]
        );
        // A ward's paragraph names no ward.
        let ward = get(
            &app,
            &t.tam_thanh_officer,
            &format!("/api/v1/campaigns/{}/progress/summary", t.campaign),
        )
        .await;
        assert_eq!(ward["parts"]["areas"], json!([]));
    }
);

db_test!(
    the_reminders_of_a_node_list_only_the_late_units_under_it,
    |app| {
        let t = tree(&app).await;
        let path = format!("/api/v1/campaigns/{}/reminders", t.campaign);
        let province = get(&app, &t.province_officer, &path).await;
        let mut got = codes(&province);
        got.sort();
        assert_eq!(got, ["1000001", "1000002", "1000003"]);
        let ward = get(&app, &t.lvt_officer, &path).await;
        assert_eq!(codes(&ward), ["1000003"]);
        let national = get(&app, &t.admin, &path).await;
        assert_eq!(national.as_array().unwrap().len(), 4);
    }
);

db_test!(
    the_province_returns_a_report_its_ward_accepted_and_the_unit_sees_it_returned,
    |app| {
        let t = tree(&app).await;
        let unit = t.units[2];
        let report = format!("/api/v1/campaigns/{}/units/{unit}/reports/01", t.campaign);
        let accountant = app
            .user(&t.admin, "ke_toan_lvt", "unit_accountant", &[unit])
            .await;
        app.call("POST", &format!("{report}/submit"))
            .token(&accountant)
            .json(&json!({"nil_return": true}))
            .send()
            .await
            .expect(200);
        app.call("POST", &format!("{report}/accept"))
            .token(&t.lvt_officer)
            .send()
            .await
            .expect(200);
        let progress = format!("/api/v1/campaigns/{}/progress", t.campaign);
        let b = get(&app, &t.province_officer, &progress).await;
        let row = |b: &Value, code: &str| {
            b["areas"]
                .as_array()
                .unwrap()
                .iter()
                .find(|a| a["node"]["code"] == code)
                .cloned()
                .unwrap()
        };
        assert_eq!(
            row(&b, "06553")["accepted_all"],
            true,
            "the ward accepted everything"
        );
        assert!(row(&b, "06553")["accepted_at"].is_string());
        assert_eq!(row(&b, "06565")["accepted_all"], false);
        assert_eq!(row(&b, "06565")["accepted_at"], Value::Null);

        // The ward cannot take back what it accepted.
        app.call("POST", &format!("{report}/return"))
            .token(&t.lvt_officer)
            .json(&json!({"reason": "Xem lại"}))
            .send()
            .await
            .problem(409, "invalid-state");
        let still = get(&app, &accountant, &report).await;
        assert_eq!(still["state"], "accepted");

        // The province can, with a reason; the unit sees it returned.
        let back = app
            .call("POST", &format!("{report}/return"))
            .token(&t.province_officer)
            .json(&json!({"reason": "Sở Tài chính: đơn vị có xe ô tô, không thể báo cáo không phát sinh"}))
            .send()
            .await
            .expect(200)
            .json();
        assert_eq!(back["state"], "returned");
        let seen = get(&app, &accountant, &report).await;
        assert_eq!(seen["state"], "returned");
        assert_eq!(
            seen["return_reason"],
            "Sở Tài chính: đơn vị có xe ô tô, không thể báo cáo không phát sinh"
        );
        let b = get(&app, &t.province_officer, &progress).await;
        assert_eq!(row(&b, "06553")["accepted_all"], false);
        assert_eq!(row(&b, "06553")["reports_by_state"]["returned"], 1);
        // Audited: the return names the accepted state it came from.
        let events = get(
            &app,
            &t.admin,
            &format!("/api/v1/audit-events?entity=report&action=return&unit_id={unit}"),
        )
        .await;
        let event = &events["items"][0];
        assert_eq!(event["actor_name"], "so_tai_chinh");
        assert_eq!(event["before"]["state"], "accepted");
        assert_eq!(event["after"]["state"], "returned");
    }
);
