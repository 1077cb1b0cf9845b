//! Isolation and attacks, from a real browser: another unit's pages, script in data, forged posts.

use crate::support::*;

crate::ui_test!(
    another_units_pages_answer_a_404_page_and_show_nothing_of_it,
    |app| {
        let foreign = app.unit_id("1109301").await;
        // One of the foreign unit's assets (the demo has records in every unit).
        let token = app.api_login(OTHER_ACCOUNTANT).await;
        let res = app
            .api(
                "GET",
                &format!(
                    "/api/v1/campaigns/{}/units/{foreign}/assets?asset_type=01",
                    app.campaign_id
                ),
                &token,
                None,
            )
            .await;
        assert_eq!(res.status, 200, "{}", res.text());
        let items = res.json()["items"].as_array().cloned().unwrap_or_default();
        let asset = items.first().expect("a demo asset in the foreign unit");
        let asset_id = asset["id"].as_i64().expect("id");
        let asset_name = asset["name"].as_str().expect("name").to_string();

        let page = app.logged_in(ACCOUNTANT).await;
        for path in [
            format!("/units/{foreign}/types/01"),
            format!("/units/{foreign}/types/01/new"),
            format!("/units/{foreign}/types/01/import"),
            format!("/units/{foreign}/types/01/submit"),
            format!("/units/{foreign}/registration"),
            format!("/assets/{asset_id}"),
            format!("/assets/{asset_id}/history"),
            format!("/assets/{asset_id}/delete"),
        ] {
            page.goto(&path).await;
            let body = page.body().await;
            assert!(
                page.has("#error-title").await && body.contains("404"),
                "{path} should be a 404 page, shows:\n{body}"
            );
            assert!(!body.contains(&asset_name), "{path} leaks «{asset_name}»");
            assert!(
                !body.contains("Văn phòng HĐND"),
                "{path} leaks the foreign unit's name"
            );
        }
        // The home page ignores a foreign unit asked for and shows the accountant's own.
        page.goto(&format!("/?unit={foreign}")).await;
        let body = page.body().await;
        assert!(
            !body.contains(&asset_name) && !body.contains("Văn phòng HĐND"),
            "{body}"
        );
        // The export of a foreign unit is a 404 too (checked without the browser's download manager).
        let cookie = page.cookie_header().await;
        let res = app
            .request(
                "GET",
                &format!("/units/{foreign}/types/01/export/official"),
                &[("cookie", &cookie)],
                vec![],
            )
            .await;
        assert_eq!(res.status, 404);
    }
);

crate::ui_test!(
    an_asset_named_with_a_script_tag_is_shown_as_text_and_never_run,
    |app| {
        let unit = app.unit_id("1109302").await;
        let page = app.logged_in(ACCOUNTANT).await;
        page.goto(&format!("/units/{unit}/types/01/new?section=IV"))
            .await;
        let evil = "<script>alert(1)</script>";
        page.fill("#f-code", "XSS-01").await;
        page.fill("#f-name", evil).await;
        page.fill("#f-original_cost", "12.000.000").await;
        page.select("#f-usage_status", "1").await;
        page.click("#save").await;
        assert!(
            !page.has("#error-summary").await,
            "the record should save: {}",
            page.text("#error-summary").await
        );
        page.goto(&format!("/units/{unit}/types/01?q=XSS")).await;
        // An alert would have made every WebDriver command fail; the name is on the page as text.
        assert!(page.client.get_alert_text().await.is_err(), "a script ran");
        let cell = page.text("#asset-table tbody tr td:nth-child(2)").await;
        assert_eq!(cell, evil);
        let scripts = page
        .client
        .execute(
            "return Array.from(document.scripts).filter(s => s.textContent.includes('alert')).length;",
            vec![],
        )
        .await
        .expect("count scripts");
        assert_eq!(scripts.as_i64(), Some(0));
        page.click("#asset-table tbody tr td a").await;
        assert!(page.client.get_alert_text().await.is_err(), "a script ran");
        assert_eq!(page.value("#f-name").await, evil);
    }
);

crate::ui_test!(
    a_post_without_the_form_token_is_refused_with_403_and_changes_nothing,
    |app| {
        let unit = app.unit_id("1109302").await;
        let page = app.logged_in(ACCOUNTANT).await;
        let cookie = page.cookie_header().await;
        let host = app.base.trim_start_matches("http://").to_string();
        let count = |app: TestApp| async move {
            let token = app.api_login(ACCOUNTANT).await;
            app.api(
                "GET",
                &format!(
                    "/api/v1/campaigns/{}/units/{unit}/assets?asset_type=01&q=CSRF",
                    app.campaign_id
                ),
                &token,
                None,
            )
            .await
            .json()["total"]
                .as_i64()
                .unwrap_or(-1)
        };
        let body = "section=IV&code=CSRF-01&name=Forged&original_cost=12000000&usage_status=1&price_basis=actual";
        let path = format!("/units/{unit}/types/01/new");
        // Same origin, session cookie, but no token.
        let res = app
            .request(
                "POST",
                &path,
                &[
                    ("host", host.as_str()),
                    ("cookie", cookie.as_str()),
                    ("content-type", "application/x-www-form-urlencoded"),
                ],
                body.as_bytes().to_vec(),
            )
            .await;
        assert_eq!(res.status, 403, "{}", res.text());
        // Another site's form: a cross-site Origin, even with a token.
        let csrf = page.value("input[name=csrf]").await;
        let forged = format!("{body}&csrf={csrf}");
        let res = app
            .request(
                "POST",
                &path,
                &[
                    ("host", host.as_str()),
                    ("origin", "http://evil.example"),
                    ("cookie", cookie.as_str()),
                    ("content-type", "application/x-www-form-urlencoded"),
                ],
                forged.into_bytes(),
            )
            .await;
        assert_eq!(res.status, 403, "{}", res.text());
        assert!(res.text().contains("mã bảo vệ biểu mẫu"), "{}", res.text());
        assert_eq!(
            count(app.clone()).await,
            0,
            "a forged post created a record"
        );

        // And from a real page of another origin, auto-submitted by the browser with its cookies.
        let evil = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let evil_addr = evil.local_addr().expect("addr");
        let target = app.url(&path);
        let html = format!(
            "<!doctype html><html lang=en><title>Prize</title><main><h1>Prize</h1>\
         <form method=post action='{target}'>\
         <input type=hidden name=section value=IV><input type=hidden name=code value=CSRF-02>\
         <input type=hidden name=name value=Forged><input type=hidden name=original_cost value=12000000>\
         <input type=hidden name=usage_status value=1><input type=hidden name=price_basis value=actual>\
         <button id=go>Claim</button></form></main></html>"
        );
        let evil_app = axum::Router::new().route(
            "/",
            axum::routing::get(move || {
                let h = html.clone();
                async move { axum::response::Html(h) }
            }),
        );
        let evil_server = tokio::spawn(axum::serve(evil, evil_app).into_future());
        page.goto(&format!("http://{evil_addr}/")).await;
        page.click("#go").await;
        let body = page.body().await;
        assert!(
            body.contains("403"),
            "the forged form was not refused:\n{body}"
        );
        evil_server.abort();
        assert_eq!(
            count(app.clone()).await,
            0,
            "a forged post created a record"
        );
    }
);
