//! The asset-type catalogue: the 19 types of the inventory and the forms that record them.

use crate::db_test;

db_test!(
    the_catalogue_lists_the_19_asset_types_with_their_forms,
    |app| {
        let admin = app.admin().await;
        let types = app
            .call("GET", "/api/v1/asset-types")
            .token(&admin)
            .send()
            .await
            .expect(200)
            .json();
        let types = types.as_array().expect("list");
        assert_eq!(types.len(), 19);
        assert_eq!(types[0]["code"], "01");
        assert_eq!(types[0]["form_code"], "01a");
        assert_eq!(types[0]["group"], "unit_assets");
        assert_eq!(types[17]["code"], "18");
        assert_eq!(types[17]["form_code"], "18a");
        assert!(types[1]["name_vi"].as_str().unwrap().contains("giao thông"));
        let form = app
            .call("GET", "/api/v1/forms/01a")
            .token(&admin)
            .send()
            .await
            .expect(200)
            .json();
        let keys: Vec<&str> = form["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["key"].as_str().unwrap())
            .collect();
        for k in [
            "section",
            "code",
            "original_cost",
            "usage_status",
            "license_plate",
            "area_office",
        ] {
            assert!(keys.contains(&k), "01a lacks {k}");
        }
        app.call("GET", "/api/v1/forms/99z")
            .token(&admin)
            .send()
            .await
            .expect(404);
    }
);
