//! `kiemke demo`: the demo ward of the seed loads once, its 16 units registered on time.

use serde_json::Value;

use crate::{db_test, support::*};

db_test!(
    the_demo_ward_loads_once_with_16_units_registered_on_time,
    |app| {
        let campaign = app.demo().await;
        let again = app.demo().await;
        assert_eq!(campaign, again);
        let token = app.login("taichinh", DEMO_PASSWORD).await;
        let units = app
            .call("GET", "/api/v1/units?per_page=100")
            .token(&token)
            .send()
            .await
            .expect(200)
            .json();
        assert_eq!(units["total"], 16);
        let regs = app
            .call(
                "GET",
                &format!("/api/v1/campaigns/{campaign}/registrations"),
            )
            .token(&token)
            .send()
            .await
            .expect(200)
            .json();
        let regs = regs.as_array().unwrap();
        assert_eq!(regs.len(), 16);
        assert!(
            regs.iter()
                .all(|r| r["on_time"] == true && !r["team_members"].as_array().unwrap().is_empty())
        );
        let count = |t: &str| {
            regs.iter()
                .filter(|r| {
                    r["asset_types"]
                        .as_array()
                        .unwrap()
                        .contains(&Value::from(t))
                })
                .count()
        };
        assert_eq!((count("01"), count("02"), count("18")), (16, 1, 1));
        let c = app
            .call("GET", &format!("/api/v1/campaigns/{campaign}"))
            .token(&token)
            .send()
            .await
            .expect(200)
            .json();
        assert_eq!(
            c["name"],
            "Tổng kiểm kê tài sản công thời điểm 0h00 ngày 01/01/2026"
        );
        assert_eq!(c["registration_deadline"], "2026-03-31");
    }
);
