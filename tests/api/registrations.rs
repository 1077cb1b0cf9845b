//! Registrations: the asset types a unit registers for a campaign, on time until the end of the
//! deadline day in Vietnam, and changes after it.

use serde_json::json;

use crate::{db_test, support::*};

db_test!(
    registration_is_on_time_until_the_end_of_the_deadline_day_in_vietnam,
    |app| {
        let admin = app.admin().await;
        let campaign = app.campaign(&admin).await;
        let early = app.unit(&admin, "1000001", "A").await;
        let late = app.unit(&admin, "1000002", "B").await;
        app.clock.set(at("2026-03-31T23:59:59+07:00"));
        let admin = app.login("admin", ADMIN_PASSWORD).await;
        let r = app.register(&admin, campaign, early, &["01"]).await;
        assert_eq!(r["on_time"], true);
        assert_eq!(r["asset_types"], json!(["01"]));
        assert_eq!(r["forms"], json!(["01a"]));
        app.clock.set(at("2026-04-01T00:00:00+07:00"));
        let r = app.register(&admin, campaign, late, &["01"]).await;
        assert_eq!(r["on_time"], false);
    }
);

db_test!(
    changing_the_registered_types_after_the_deadline_is_allowed_and_counted,
    |app| {
        let admin = app.admin().await;
        let campaign = app.campaign(&admin).await;
        let unit = app.unit(&admin, "1000001", "A").await;
        app.register(&admin, campaign, unit, &["01"]).await;
        let same = app.register(&admin, campaign, unit, &["01", "02"]).await;
        assert_eq!(same["late_changes"], 0);
        app.clock.set(at("2026-04-02T08:00:00+07:00"));
        let admin = app.login("admin", ADMIN_PASSWORD).await;
        let changed = app
            .register(&admin, campaign, unit, &["01", "02", "18"])
            .await;
        assert_eq!(changed["late_changes"], 1);
        assert_eq!(
            changed["on_time"], true,
            "the first registration stays on time"
        );
        assert_eq!(changed["asset_types"], json!(["01", "02", "18"]));
        let dropped = app.register(&admin, campaign, unit, &["01"]).await;
        assert_eq!(dropped["asset_types"], json!(["01"]));
        assert_eq!(dropped["late_changes"], 2);
    }
);

db_test!(
    a_registration_with_unknown_or_repeated_types_is_refused,
    |app| {
        let admin = app.admin().await;
        let campaign = app.campaign(&admin).await;
        let unit = app.unit(&admin, "1000001", "A").await;
        let path = format!("/api/v1/campaigns/{campaign}/units/{unit}/registration");
        let bad = app
            .call("PUT", &path)
            .token(&admin)
            .json(&json!({"team_decision_no": "", "team_members": [], "asset_types": ["01", "01"]}))
            .send()
            .await
            .problem(422, "validation");
        let mut fields = bad.error_fields();
        fields.sort();
        assert_eq!(fields, ["asset_types", "team_decision_no", "team_members"]);
        let unknown = app
        .call("PUT", &path)
        .token(&admin)
        .json(&json!({"team_decision_no": "1", "team_members": [{"name": "A"}], "asset_types": ["20"]}))
        .send()
        .await
        .problem(422, "validation");
        assert_eq!(unknown.error_fields(), ["asset_types[0]"]);
        app.call("GET", &path)
            .token(&admin)
            .send()
            .await
            .expect(404);
    }
);
