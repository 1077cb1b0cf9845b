//! Issue 3: the asset register, validated against the form definitions.

use serde_json::{Value, json};

use crate::{db_test, support::*};

struct Ctx {
    admin: String,
    campaign: i64,
    unit: i64,
}

async fn setup(app: &TestApp, types: &[&str]) -> Ctx {
    let admin = app.admin().await;
    let campaign = app.campaign(&admin).await;
    let unit = app.unit(&admin, "1000001", "Trường THCS A").await;
    app.register(&admin, campaign, unit, types).await;
    Ctx {
        admin,
        campaign,
        unit,
    }
}

fn land(code: &str) -> Value {
    json!({"asset_type": "01", "section": "I", "code": code, "name": "Khu đất trụ sở", "qty_books": 1500, "qty_counted": 1450,
           "original_cost": 3_000_000_000_i64, "usage_status": "1", "origin": "transferred_in", "year_in_use": 2010,
           "fields": {"area_office": 1200, "area_public_service": 250}})
}

impl Ctx {
    fn assets(&self) -> String {
        format!(
            "/api/v1/campaigns/{}/units/{}/assets",
            self.campaign, self.unit
        )
    }
}

db_test!(an_asset_is_stored_with_its_derived_values, |app| {
    let c = setup(&app, &["01"]).await;
    let res = app
        .call("POST", &c.assets())
        .token(&c.admin)
        .json(&land("D-01"))
        .send()
        .await
        .expect(201);
    assert_eq!(res.headers.get("etag").unwrap(), "\"1\"");
    let a = res.json();
    assert_eq!(
        a["remaining_value"], 3_000_000_000_i64,
        "remaining value = cost − depreciation (0)"
    );
    assert_eq!(a["original_cost_budget"], 3_000_000_000_i64);
    assert_eq!(a["original_cost_other"], 0);
    assert_eq!(a["qty_difference"], 50);
    assert_eq!(a["price_basis"], "actual");
    assert_eq!(a["fields"]["area_office"], 1200);
    let got = app
        .call("GET", &format!("/api/v1/assets/{}", a["id"]))
        .token(&c.admin)
        .send()
        .await
        .expect(200)
        .json();
    assert_eq!(got, a);
});

db_test!(
    a_record_breaking_many_rules_lists_every_failing_field_and_stores_nothing,
    |app| {
        let c = setup(&app, &["01"]).await;
        let body = json!({"asset_type": "01", "section": "III", "code": "XE 01", "name": "",
        "original_cost": 500_000_000, "original_cost_budget": 600_000_000, "depreciation": 700_000_000,
        "usage_status": "7", "year_in_use": 2027, "qty_books": 1.2345,
        "fields": {"license_plate": "ABC", "year_of_manufacture": 2028, "area_office": 10, "nope": 1}});
        let res = app
            .call("POST", &c.assets())
            .token(&c.admin)
            .json(&body)
            .send()
            .await
            .problem(422, "validation");
        let mut fields = res.error_fields();
        fields.sort();
        assert_eq!(
            fields,
            ["fields.nope", "qty_books"],
            "unreadable values are reported first, all at once"
        );
        let body = json!({"asset_type": "01", "section": "III", "code": "XE 01", "name": "",
        "original_cost": 500_000_000, "original_cost_budget": 600_000_000, "depreciation": 700_000_000,
        "usage_status": "7", "year_in_use": 2027,
        "fields": {"license_plate": "ABC", "year_of_manufacture": 2028, "area_office": 10}});
        let res = app
            .call("POST", &c.assets())
            .token(&c.admin)
            .json(&body)
            .send()
            .await
            .problem(422, "validation");
        let mut fields = res.error_fields();
        fields.sort();
        assert_eq!(
            fields,
            [
                "code",
                "fields.area_office",
                "fields.license_plate",
                "fields.year_of_manufacture",
                "name",
                "original_cost",
                "usage_status",
                "year_in_use"
            ]
        );
        // Depreciation is judged against the cost only once the cost itself is right.
        let list = app
            .call("GET", &c.assets())
            .token(&c.admin)
            .send()
            .await
            .expect(200)
            .json();
        assert_eq!(list["total"], 0);
    }
);

db_test!(each_rule_accepts_good_values_and_refuses_bad_ones, |app| {
    let c = setup(&app, &["01", "02"]).await;
    let post = |body: Value| {
        let app = app.clone();
        let path = c.assets();
        let admin = c.admin.clone();
        async move {
            app.call("POST", &path)
                .token(&admin)
                .json(&body)
                .send()
                .await
        }
    };
    let codes = |res: Res| -> Vec<String> {
        res.json()["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["code"].as_str().unwrap().to_string())
            .collect()
    };
    // Remaining value must be cost − depreciation.
    let mut b = land("R1");
    b["depreciation"] = json!(1_000_000_000_i64);
    b["remaining_value"] = json!(2_000_000_001_i64);
    assert_eq!(
        codes(post(b.clone()).await.problem(422, "validation")),
        ["remaining_value"]
    );
    b["remaining_value"] = json!(2_000_000_000_i64);
    post(b).await.expect(201);
    // Books − counted = difference.
    let mut b = land("R2");
    b["qty_difference"] = json!(40);
    assert_eq!(
        codes(post(b.clone()).await.problem(422, "validation")),
        ["quantity_difference"]
    );
    b["qty_difference"] = json!(50);
    post(b).await.expect(201);
    // Area by use cannot exceed the counted area.
    let mut b = land("R3");
    b["fields"]["area_idle"] = json!(100);
    assert_eq!(
        codes(post(b.clone()).await.problem(422, "validation")),
        ["area_by_use"]
    );
    b["fields"]["area_idle"] = json!(0);
    post(b).await.expect(201);
    // Year built ≤ year in use ≤ cut-off year.
    let building = |built: i64, used: i64| {
        json!({"asset_type": "01", "section": "II", "code": format!("N-{built}-{used}"), "name": "Nhà",
        "original_cost": 900_000_000, "usage_status": "1", "year_in_use": used, "fields": {"year_built": built, "floors": 2}})
    };
    assert_eq!(
        codes(post(building(2015, 2012)).await.problem(422, "validation")),
        ["year_built_before_use"]
    );
    assert_eq!(
        codes(post(building(2015, 2027)).await.problem(422, "validation")),
        ["year_in_use_not_after_cutoff"]
    );
    post(building(2012, 2026)).await.expect(201);
    // Licence plates.
    let car = |plate: &str| {
        json!({"asset_type": "01", "section": "III", "code": format!("XE-{plate}"), "name": "Xe", "original_cost": 800_000_000,
        "usage_status": "1", "fields": {"license_plate": plate}})
    };
    assert_eq!(
        codes(post(car("12-ABC")).await.problem(422, "validation")),
        ["pattern"]
    );
    post(car("12A-345.67")).await.expect(201);
    // Conventional price 1 đồng only with the flag (infrastructure).
    let road = |cost: i64, basis: &str| {
        json!({"asset_type": "02", "code": format!("DB-{cost}-{basis}"), "name": "Đường", "original_cost": cost,
        "price_basis": basis, "usage_status": "1", "fields": {"length_km": 0.5}})
    };
    assert_eq!(
        codes(post(road(1, "actual")).await.problem(422, "validation")),
        ["infrastructure_conventional_price"]
    );
    assert_eq!(
        codes(
            post(road(5_000_000, "conventional"))
                .await
                .problem(422, "validation")
        ),
        ["infrastructure_conventional_price"]
    );
    post(road(1, "conventional")).await.expect(201);
    post(road(5_000_000_000, "actual")).await.expect(201);
    // Special assets at 10,000,000 đồng with the flag; other fixed assets at least 10,000,000 đồng.
    let other = |cost: i64, basis: &str| {
        json!({"asset_type": "01", "section": "IV", "code": format!("K-{cost}-{basis}"), "name": "Hiện vật",
        "original_cost": cost, "price_basis": basis, "usage_status": "1"})
    };
    assert_eq!(
        codes(
            post(other(9_000_000, "actual"))
                .await
                .problem(422, "validation")
        ),
        ["fixed_asset_threshold"]
    );
    assert_eq!(
        codes(
            post(other(12_000_000, "conventional"))
                .await
                .problem(422, "validation")
        ),
        ["special_asset_price"]
    );
    post(other(10_000_000, "conventional")).await.expect(201);
    post(other(10_000_000, "actual")).await.expect(201);
    // Money must be whole đồng and never negative.
    let mut b = land("M1");
    b["original_cost"] = json!(1000.5);
    assert_eq!(
        codes(post(b.clone()).await.problem(422, "validation")),
        ["money"]
    );
    b["original_cost"] = json!(-5);
    assert_eq!(codes(post(b).await.problem(422, "validation")), ["min"]);
});

db_test!(an_asset_of_an_unregistered_type_is_refused, |app| {
    let c = setup(&app, &["01"]).await;
    let road = json!({"asset_type": "02", "code": "DB-1", "name": "Đường", "original_cost": 1, "price_basis": "conventional",
                      "usage_status": "1", "fields": {"length_km": 1}});
    let res = app
        .call("POST", &c.assets())
        .token(&c.admin)
        .json(&road)
        .send()
        .await
        .problem(422, "validation");
    assert_eq!(res.json()["errors"][0]["code"], "not_registered");
    assert!(
        res.json()["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("chưa đăng ký")
    );
});

db_test!(a_duplicate_asset_code_is_a_conflict, |app| {
    let c = setup(&app, &["01"]).await;
    app.call("POST", &c.assets())
        .token(&c.admin)
        .json(&land("D-01"))
        .send()
        .await
        .expect(201);
    app.call("POST", &c.assets())
        .token(&c.admin)
        .json(&land("D-01"))
        .send()
        .await
        .problem(409, "conflict");
});

db_test!(
    of_two_concurrent_edits_one_wins_and_the_other_gets_409,
    |app| {
        let c = setup(&app, &["01"]).await;
        let a = app
            .call("POST", &c.assets())
            .token(&c.admin)
            .json(&land("D-01"))
            .send()
            .await
            .expect(201)
            .json();
        let path = format!("/api/v1/assets/{}", a["id"]);
        let (first, second) = tokio::join!(
            app.call("PATCH", &path)
                .token(&c.admin)
                .header("if-match", "\"1\"")
                .json(&json!({"name": "Khu đất A"}))
                .send(),
            app.call("PATCH", &path)
                .token(&c.admin)
                .header("if-match", "\"1\"")
                .json(&json!({"name": "Khu đất B"}))
                .send(),
        );
        let mut statuses = [first.status.as_u16(), second.status.as_u16()];
        statuses.sort();
        assert_eq!(
            statuses,
            [200, 409],
            "exactly one of two concurrent edits wins"
        );
        let (winner, loser) = if first.status == 200 {
            (first, second)
        } else {
            (second, first)
        };
        assert_eq!(loser.json()["type"], "/problems/stale-version");
        let now = app.call("GET", &path).token(&c.admin).send().await.json();
        assert_eq!(
            now["name"],
            winner.json()["name"],
            "the loser overwrote nothing"
        );
        assert_eq!(now["version"], 2);
        app.call("PATCH", &path)
            .token(&c.admin)
            .json(&json!({"name": "C"}))
            .send()
            .await
            .expect(428);
        app.call("PATCH", &path)
            .token(&c.admin)
            .json(&json!({"name": "C", "version": 2}))
            .send()
            .await
            .expect(200);
    }
);

db_test!(
    an_update_rederives_values_and_a_bad_update_changes_nothing,
    |app| {
        let c = setup(&app, &["01"]).await;
        let a = app
            .call("POST", &c.assets())
            .token(&c.admin)
            .json(&land("D-01"))
            .send()
            .await
            .expect(201)
            .json();
        let path = format!("/api/v1/assets/{}", a["id"]);
        let b = app
            .call("PATCH", &path)
            .token(&c.admin)
            .header("if-match", "\"1\"")
            .json(&json!({"depreciation": 500_000_000, "fields": {"area_idle": null}}))
            .send()
            .await
            .expect(200)
            .json();
        assert_eq!(b["remaining_value"], 2_500_000_000_i64);
        let bad = app
            .call("PATCH", &path)
            .token(&c.admin)
            .header("if-match", "\"2\"")
            .json(&json!({"depreciation": 9_000_000_000_i64}))
            .send()
            .await
            .problem(422, "validation");
        assert_eq!(bad.error_fields(), ["depreciation"]);
        let same = app.call("GET", &path).token(&c.admin).send().await.json();
        assert_eq!(same, b);
    }
);

db_test!(
    every_write_leaves_a_history_entry_with_before_and_after,
    |app| {
        let c = setup(&app, &["01"]).await;
        let a = app
            .call("POST", &c.assets())
            .token(&c.admin)
            .json(&land("D-01"))
            .send()
            .await
            .expect(201)
            .json();
        let path = format!("/api/v1/assets/{}", a["id"]);
        app.call("PATCH", &path)
            .token(&c.admin)
            .header("if-match", "\"1\"")
            .json(&json!({"name": "Đất mới"}))
            .send()
            .await
            .expect(200);
        app.call("DELETE", &path)
            .token(&c.admin)
            .send()
            .await
            .expect(204);
        let h = app
            .call("GET", &format!("{path}/history"))
            .token(&c.admin)
            .send()
            .await
            .expect(200)
            .json();
        let h = h.as_array().unwrap();
        let actions: Vec<&str> = h.iter().map(|e| e["action"].as_str().unwrap()).collect();
        assert_eq!(actions, ["create", "update", "delete"]);
        assert_eq!(h[1]["before"]["name"], "Khu đất trụ sở");
        assert_eq!(h[1]["after"]["name"], "Đất mới");
        assert_eq!(h[2]["before"]["name"], "Đất mới");
        assert_eq!(h[0]["actor"], "admin");
        app.call("GET", &path)
            .token(&c.admin)
            .send()
            .await
            .expect(404);
        app.call("POST", &format!("{path}/history"))
            .token(&c.admin)
            .json(&json!({}))
            .send()
            .await
            .expect(405);
    }
);

db_test!(totals_are_the_exact_sums_of_the_records, |app| {
    let admin = app.admin().await;
    let campaign = app.demo().await;
    let units = app
        .call("GET", "/api/v1/units?per_page=100")
        .token(&admin)
        .send()
        .await
        .json();
    for u in units["items"].as_array().unwrap() {
        let id = u["id"].as_i64().unwrap();
        let list = app
            .call(
                "GET",
                &format!("/api/v1/campaigns/{campaign}/units/{id}/assets?per_page=500"),
            )
            .token(&admin)
            .send()
            .await
            .expect(200)
            .json();
        let items = list["items"].as_array().unwrap();
        let totals = app
            .call(
                "GET",
                &format!("/api/v1/campaigns/{campaign}/units/{id}/totals"),
            )
            .token(&admin)
            .send()
            .await
            .expect(200)
            .json();
        let sum = |k: &str| items.iter().map(|a| a[k].as_i64().unwrap()).sum::<i64>();
        assert_eq!(totals["total"]["count"], items.len() as i64);
        for k in [
            "original_cost",
            "original_cost_budget",
            "original_cost_other",
            "depreciation",
            "remaining_value",
        ] {
            assert_eq!(totals["total"][k], sum(k), "{k} of unit {}", u["code"]);
        }
        let broken = items.iter().filter(|a| a["usage_status"] == "4").count() as i64;
        assert_eq!(
            totals["total"]["by_status"]["4"].as_i64().unwrap_or(0),
            broken
        );
        for t in totals["types"].as_array().unwrap() {
            let of_type: Vec<&Value> = items
                .iter()
                .filter(|a| a["asset_type"] == t["asset_type"])
                .collect();
            assert_eq!(t["total"]["count"], of_type.len() as i64);
            for (section, s) in t["sections"].as_object().unwrap() {
                let sec: i64 = of_type
                    .iter()
                    .filter(|a| a["section"] == section.as_str())
                    .map(|a| a["remaining_value"].as_i64().unwrap())
                    .sum();
                assert_eq!(s["remaining_value"], sec);
            }
        }
    }
});

db_test!(the_asset_list_filters_sorts_and_searches, |app| {
    let admin = app.admin().await;
    let campaign = app.demo().await;
    let units = app
        .call("GET", "/api/v1/units?q=kinh%20t%E1%BA%BF")
        .token(&admin)
        .send()
        .await
        .json();
    let id = units["items"][0]["id"].as_i64().unwrap();
    let base = format!("/api/v1/campaigns/{campaign}/units/{id}/assets");
    let roads = app
        .call(
            "GET",
            &format!("{base}?asset_type=02&sort=original_cost_desc"),
        )
        .token(&admin)
        .send()
        .await
        .expect(200)
        .json();
    assert_eq!(roads["total"], 3);
    assert_eq!(roads["items"][0]["name"], "Đường Lê Lợi");
    let land = app
        .call("GET", &format!("{base}?section=I"))
        .token(&admin)
        .send()
        .await
        .json();
    assert_eq!(land["total"], 1);
    let q = app
        .call("GET", &format!("{base}?q=tr%E1%BA%A7n"))
        .token(&admin)
        .send()
        .await
        .json();
    assert_eq!(q["total"], 1);
    app.call("GET", &format!("{base}?sort=sideways"))
        .token(&admin)
        .send()
        .await
        .problem(422, "validation");
});

db_test!(
    another_units_asset_and_a_missing_one_get_the_same_404,
    |app| {
        let c = setup(&app, &["01"]).await;
        let other = app.unit(&c.admin, "1000002", "Trường THCS B").await;
        app.register(&c.admin, c.campaign, other, &["01"]).await;
        let foreign = app
            .call(
                "POST",
                &format!("/api/v1/campaigns/{}/units/{other}/assets", c.campaign),
            )
            .token(&c.admin)
            .json(&land("D-01"))
            .send()
            .await
            .expect(201)
            .json()["id"]
            .as_i64()
            .unwrap();
        let missing = foreign + 1000;
        let accountant = app
            .user(&c.admin, "ketoan.a", "unit_accountant", &[c.unit])
            .await;
        for lang in ["vi", "en"] {
            for (method, suffix) in [
                ("GET", ""),
                ("PATCH", ""),
                ("DELETE", ""),
                ("GET", "/history"),
            ] {
                let answer = |id: i64| {
                    let call = app
                        .call(method, &format!("/api/v1/assets/{id}{suffix}"))
                        .token(&accountant)
                        .header("accept-language", lang)
                        .header("if-match", "\"1\"");
                    let call = if method == "PATCH" {
                        call.json(&json!({"name": "Khu đất khác"}))
                    } else {
                        call
                    };
                    async move {
                        let res = call.send().await.expect(404);
                        String::from_utf8(res.body)
                            .unwrap()
                            .replace(&id.to_string(), "{id}")
                    }
                };
                let (a, b) = (answer(foreign).await, answer(missing).await);
                assert_eq!(a, b, "{method} {suffix} in {lang}");
                let detail = serde_json::from_str::<Value>(&a).unwrap()["detail"].clone();
                let expected = if lang == "vi" {
                    "Không tìm thấy tài sản."
                } else {
                    "Asset not found."
                };
                assert_eq!(detail, expected);
            }
        }
        // The foreign asset is untouched.
        let kept = app
            .call("GET", &format!("/api/v1/assets/{foreign}"))
            .token(&c.admin)
            .send()
            .await
            .expect(200)
            .json();
        assert_eq!(kept["version"], 1);
        assert_eq!(kept["name"], "Khu đất trụ sở");
    }
);

db_test!(a_deactivated_unit_can_be_read_but_not_written_to, |app| {
    let c = setup(&app, &["01", "18"]).await;
    let accountant = app
        .user(&c.admin, "ketoan.a", "unit_accountant", &[c.unit])
        .await;
    let asset = app
        .call("POST", &c.assets())
        .token(&accountant)
        .json(&land("D-01"))
        .send()
        .await
        .expect(201)
        .json();
    let id = asset["id"].as_i64().unwrap();
    app.call("PATCH", &format!("/api/v1/units/{}", c.unit))
        .token(&c.admin)
        .json(&json!({"active": false}))
        .send()
        .await
        .expect(200);
    let reports = format!("/api/v1/campaigns/{}/units/{}/reports", c.campaign, c.unit);
    let csv = b"code;name;original_cost;usage_status;price_basis;facility_kind\nVH-1;Nh\xc3\xa0 v\xc4\x83n h\xc3\xb3a;1;1;conventional;group_house\n".to_vec();
    for token in [&accountant, &c.admin] {
        for lang in ["vi", "en"] {
            let refused = [
                app.call("POST", &c.assets()).json(&land("D-02")),
                app.call("PATCH", &format!("/api/v1/assets/{id}"))
                    .header("if-match", "\"1\"")
                    .json(&json!({"name": "Khu đất A"})),
                app.call("DELETE", &format!("/api/v1/assets/{id}"))
                    .header("if-match", "\"1\""),
                app.call(
                    "POST",
                    &format!("/api/v1/campaigns/{}/units/{}/imports", c.campaign, c.unit),
                )
                .raw("text/csv", csv.clone()),
                app.call("POST", &format!("{reports}/01/submit"))
                    .json(&json!({"nil_return": false})),
                app.call("POST", &format!("{reports}/18/submit"))
                    .json(&json!({"nil_return": true})),
            ];
            for call in refused {
                let res = call
                    .token(token)
                    .header("accept-language", lang)
                    .send()
                    .await
                    .expect(409);
                let p = res.json();
                assert_eq!(p["type"], "/problems/unit-inactive");
                let detail = p["detail"].as_str().unwrap();
                if lang == "vi" {
                    assert!(detail.contains("đã ngừng hoạt động"), "{detail}");
                } else {
                    assert!(detail.contains("is inactive"), "{detail}");
                }
                assert!(detail.contains("Trường THCS A"), "{detail}");
            }
        }
    }
    // Nothing changed, and every read still answers.
    let got = app
        .call("GET", &format!("/api/v1/assets/{id}"))
        .token(&accountant)
        .send()
        .await
        .expect(200)
        .json();
    assert_eq!(got, asset);
    let list = app
        .call("GET", &c.assets())
        .token(&accountant)
        .send()
        .await
        .expect(200)
        .json();
    assert_eq!(list["total"], 1);
    app.call(
        "GET",
        &format!("/api/v1/campaigns/{}/units/{}/totals", c.campaign, c.unit),
    )
    .token(&accountant)
    .send()
    .await
    .expect(200);
    app.call("GET", &format!("/api/v1/assets/{id}/history"))
        .token(&accountant)
        .send()
        .await
        .expect(200);
    let states = app
        .call("GET", &reports)
        .token(&accountant)
        .send()
        .await
        .expect(200)
        .json();
    for r in states.as_array().unwrap() {
        assert_ne!(r["state"], "submitted", "{r}");
    }
    // Reactivated, the unit can be written to again.
    app.call("PATCH", &format!("/api/v1/units/{}", c.unit))
        .token(&c.admin)
        .json(&json!({"active": true}))
        .send()
        .await
        .expect(200);
    app.call("PATCH", &format!("/api/v1/assets/{id}"))
        .token(&accountant)
        .header("if-match", "\"1\"")
        .json(&json!({"name": "Khu đất A"}))
        .send()
        .await
        .expect(200);
});

db_test!(
    the_asset_type_is_inferred_when_the_unit_registered_only_one,
    |app| {
        let c = setup(&app, &["01"]).await;
        let mut body = land("D-01");
        body.as_object_mut().unwrap().remove("asset_type");
        let a = app
            .call("POST", &c.assets())
            .token(&c.admin)
            .json(&body)
            .send()
            .await
            .expect(201)
            .json();
        assert_eq!(a["asset_type"], "01");
        assert_eq!(a["form_code"], "01a");
        // With two registered types the body must say which.
        let other = app.unit(&c.admin, "1000002", "Trường THCS B").await;
        app.register(&c.admin, c.campaign, other, &["01", "02"])
            .await;
        let res = app
            .call(
                "POST",
                &format!("/api/v1/campaigns/{}/units/{other}/assets", c.campaign),
            )
            .token(&c.admin)
            .json(&body)
            .send()
            .await
            .problem(422, "validation");
        assert_eq!(res.error_fields(), vec!["asset_type"]);
        let msg = res.json()["errors"][0]["message"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(msg.contains("01, 02"), "{msg}");
        let list = app
            .call(
                "GET",
                &format!("/api/v1/campaigns/{}/units/{other}/assets", c.campaign),
            )
            .token(&c.admin)
            .send()
            .await
            .expect(200)
            .json();
        assert_eq!(list["items"].as_array().unwrap().len(), 0, "nothing stored");
    }
);

db_test!(
    a_form_field_at_the_top_level_and_a_bad_document_date_are_explained,
    |app| {
        let c = setup(&app, &["01"]).await;
        let mut body = land("D-01");
        let o = body.as_object_mut().unwrap();
        o.insert("land_certificate_no".into(), json!("BĐ 1"));
        o.insert(
            "legal_documents".into(),
            json!([{"kind": "land_use_certificate", "number": "BĐ 1", "date": "12/05/2010"}]),
        );
        for (lang, under, date) in [
            ("vi", "đặt nó trong «fields»", "ghi ngày dạng yyyy-mm-dd"),
            ("en", "put it under \"fields\"", "write it as yyyy-mm-dd"),
        ] {
            let res = app
                .call("POST", &c.assets())
                .token(&c.admin)
                .header("accept-language", lang)
                .json(&body)
                .send()
                .await
                .problem(422, "validation");
            let errors = res.json()["errors"].as_array().unwrap().clone();
            let by = |f: &str| {
                errors
                    .iter()
                    .find(|e| e["field"] == f)
                    .unwrap_or_else(|| panic!("no error on {f}: {errors:?}"))
                    .clone()
            };
            let top = by("land_certificate_no");
            assert_eq!(top["code"], "not_under_fields");
            assert!(top["message"].as_str().unwrap().contains(under), "{top}");
            let doc = by("legal_documents");
            assert_eq!(doc["code"], "date");
            let m = doc["message"].as_str().unwrap();
            assert!(m.contains(date) && m.contains("12/05/2010"), "{m}");
        }
        // Under "fields", with an ISO date, the same asset is stored.
        let o = body.as_object_mut().unwrap();
        o.remove("land_certificate_no");
        o["fields"]["land_certificate_no"] = json!("BĐ 1");
        o["legal_documents"][0]["date"] = json!("2010-05-12");
        let a = app
            .call("POST", &c.assets())
            .token(&c.admin)
            .json(&body)
            .send()
            .await
            .expect(201)
            .json();
        assert_eq!(a["fields"]["land_certificate_no"], "BĐ 1");
        assert_eq!(a["legal_documents"][0]["date"], "2010-05-12");
    }
);

db_test!(
    the_409_of_a_stale_edit_names_who_made_the_newer_change_and_when,
    |app| {
        let c = setup(&app, &["01"]).await;
        let a = app
            .call("POST", &c.assets())
            .token(&c.admin)
            .json(&land("D-01"))
            .send()
            .await
            .expect(201)
            .json();
        let path = format!("/api/v1/assets/{}", a["id"]);
        let accountant = app
            .user(&c.admin, "ketoan.lan", "unit_accountant", &[c.unit])
            .await;
        app.clock.set(at("2026-02-10T10:35:00+07:00"));
        app.call("PATCH", &path)
            .token(&accountant)
            .header("if-match", "\"1\"")
            .json(&json!({"name": "Khu đất A"}))
            .send()
            .await
            .expect(200);
        let vi = app
            .call("PATCH", &path)
            .token(&c.admin)
            .header("if-match", "\"1\"")
            .json(&json!({"name": "Khu đất B"}))
            .send()
            .await
            .problem(409, "stale-version");
        let detail = vi.json()["detail"].as_str().unwrap().to_string();
        assert!(
            detail.contains("ketoan.lan sửa lúc 10:35 ngày 10/02/2026"),
            "{detail}"
        );
        assert!(detail.contains("phiên bản hiện tại 2"), "{detail}");
        let en = app
            .call("DELETE", &path)
            .token(&c.admin)
            .header("if-match", "\"1\"")
            .header("accept-language", "en")
            .send()
            .await
            .problem(409, "stale-version");
        let detail = en.json()["detail"].as_str().unwrap().to_string();
        assert!(
            detail.contains("ketoan.lan changed the asset at 10:35 on 10/02/2026"),
            "{detail}"
        );
        let now = app.call("GET", &path).token(&c.admin).send().await.json();
        assert_eq!(now["name"], "Khu đất A", "the stale edit changed nothing");
    }
);

db_test!(
    every_page_of_a_list_in_every_order_follows_the_single_page_order,
    |app| {
        let admin = app.admin().await;
        let campaign = app.demo().await;
        let get = |path: String| {
            let app = app.clone();
            let admin = admin.clone();
            async move {
                app.call("GET", &path)
                    .token(&admin)
                    .send()
                    .await
                    .expect(200)
                    .json()
            }
        };
        // The demo unit with the most assets.
        let mut unit = (0, 0);
        for u in get("/api/v1/units?per_page=100".into()).await["items"]
            .as_array()
            .expect("units")
        {
            let id = u["id"].as_i64().expect("id");
            let total = get(format!(
                "/api/v1/campaigns/{campaign}/units/{id}/assets?per_page=1"
            ))
            .await["total"]
                .as_u64()
                .expect("total");
            if total > unit.1 {
                unit = (id, total);
            }
        }
        let unit = unit.0;
        let base = format!("/api/v1/campaigns/{campaign}/units/{unit}/assets");
        // Its most frequent type.
        let mut counts = std::collections::BTreeMap::<String, usize>::new();
        for a in get(format!("{base}?per_page=100")).await["items"]
            .as_array()
            .expect("items")
        {
            *counts
                .entry(a["asset_type"].as_str().expect("type").to_string())
                .or_default() += 1;
        }
        let asset_type = counts
            .iter()
            .max_by_key(|(_, n)| **n)
            .map(|(t, _)| t.clone())
            .expect("a type");
        let ids = |query: String| {
            let base = base.clone();
            async move {
                let res = get(format!("{base}?{query}")).await;
                let ids: Vec<i64> = res["items"]
                    .as_array()
                    .expect("items")
                    .iter()
                    .filter_map(|a| a["id"].as_i64())
                    .collect();
                (ids, res["total"].as_u64().expect("total"))
            }
        };
        // Pages past the middle are read from the far end (assets::list_counted): the same order.
        for sort in ["code", "name", "original_cost_desc", "updated_desc"] {
            for filter in [String::new(), format!("asset_type={asset_type}")] {
                let (all, total) = ids(format!("sort={sort}&{filter}&per_page=100")).await;
                assert_eq!(all.len() as u64, total, "{sort} {filter}");
                assert!(total >= 3, "{sort} {filter}: too few assets to page");
                for per_page in [1, 2] {
                    let mut paged = Vec::new();
                    for page in 1..=total + 1 {
                        paged.extend(
                            ids(format!(
                                "sort={sort}&{filter}&per_page={per_page}&page={page}"
                            ))
                            .await
                            .0,
                        );
                    }
                    assert_eq!(paged, all, "sort={sort} {filter} per_page={per_page}");
                }
            }
        }
    }
);
