//! The web pages over HTTP (issue 12): headers, static files, compression, language and the
//! session cookie, through the real router on both databases. What a page shows is proven in a
//! browser (tests/ui); who may open it, in tests/api/permissions.rs.

use std::sync::Arc;

use crate::{
    db_test,
    support::{DEMO_PASSWORD, Res, TestApp},
};

/// `GET path` as a browser asks for it, with extra headers.
async fn browse(app: &TestApp, path: &str, headers: &[(&str, &str)]) -> Res {
    let mut call = app
        .call("GET", path)
        .header("host", "kiemke.test")
        .header("accept", "text/html");
    for (k, v) in headers {
        call = call.header(k, v);
    }
    call.send().await
}

fn header(res: &Res, name: &str) -> String {
    res.headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

/// The login form's answer for a demo accountant.
async fn form_login(app: &TestApp) -> Res {
    app.call("POST", "/login")
        .header("host", "kiemke.test")
        .header("origin", "http://kiemke.test")
        .raw(
            "application/x-www-form-urlencoded",
            format!("username=ketoan.mn.tamthanh&password={DEMO_PASSWORD}").into_bytes(),
        )
        .send()
        .await
        .expect(303)
}

db_test!(
    a_page_carries_a_script_src_self_policy_the_apis_security_headers_and_no_inline_script,
    |app| {
        let res = browse(&app, "/login", &[]).await.expect(200);
        let csp = header(&res, "content-security-policy");
        assert!(csp.contains("script-src 'self'"), "{csp}");
        assert!(
            !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"),
            "{csp}"
        );
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert_eq!(header(&res, "x-content-type-options"), "nosniff");
        assert_eq!(header(&res, "x-frame-options"), "DENY");
        // `same-origin`, not the API's `no-referrer`: under `no-referrer` a browser posts
        // `Origin: null`, which the CSRF check would have to take on trust.
        assert_eq!(header(&res, "referrer-policy"), "same-origin");
        let html = String::from_utf8_lossy(&res.body);
        let scripts: Vec<&str> = html.split("<script").skip(1).collect();
        assert!(!scripts.is_empty(), "htmx is loaded: {html}");
        for s in scripts {
            let tag = s.split('>').next().unwrap_or_default();
            assert!(
                tag.contains("src=\"/static/"),
                "an inline script: <script{tag}>"
            );
        }
        assert!(
            html.contains("<meta name=\"htmx-config\""),
            "htmx is configured by a meta tag: {html}"
        );
        // The API keeps its own policy.
        let api = app.call("GET", "/health").send().await;
        assert_eq!(header(&api, "referrer-policy"), "no-referrer");
    }
);

db_test!(
    static_files_have_content_hashed_urls_cached_for_a_year_and_text_answers_are_compressed,
    |app| {
        let urls = kiemke::web::static_urls();
        for (url, kind) in [
            (urls.pico, "text/css"),
            (urls.site, "text/css"),
            (urls.htmx, "text/javascript"),
        ] {
            let res = browse(&app, url, &[("accept-encoding", "br, gzip")])
                .await
                .expect(200);
            assert!(header(&res, "content-type").starts_with(kind), "{url}");
            assert_eq!(
                header(&res, "cache-control"),
                "public, max-age=31536000, immutable",
                "{url}"
            );
            assert!(
                ["br", "gzip"].contains(&header(&res, "content-encoding").as_str()),
                "{url} is sent compressed"
            );
            // The plain name, or another hash, is not served: a changed file gets a new URL.
            let (stem, _) = url.rsplit_once('.').expect("extension");
            let (plain, _) = stem.rsplit_once('.').expect("hash");
            let ext = url.rsplit('.').next().unwrap_or_default();
            browse(&app, &format!("{plain}.{ext}"), &[])
                .await
                .expect(404);
        }
        let page = browse(&app, "/login", &[("accept-encoding", "gzip")])
            .await
            .expect(200);
        assert_eq!(header(&page, "content-encoding"), "gzip");
        assert_eq!(header(&page, "cache-control"), "no-store");
    }
);

db_test!(
    pages_are_vietnamese_by_default_and_english_by_the_language_link_or_accept_language,
    |app| {
        let vi = browse(&app, "/login", &[]).await.expect(200);
        let vi = String::from_utf8_lossy(&vi.body).into_owned();
        assert!(
            vi.contains("<html lang=\"vi\">") && vi.contains("Đăng nhập"),
            "{vi}"
        );
        let link = browse(&app, "/lang/en", &[]).await.expect(303);
        let set = header(&link, "set-cookie");
        assert!(set.starts_with("kiemke_lang=en;"), "{set}");
        let cookie = set.split(';').next().expect("cookie").to_string();
        for headers in [
            vec![("cookie", cookie.as_str())],
            vec![("accept-language", "en-US,en;q=0.9")],
        ] {
            let en = browse(&app, "/login", &headers).await.expect(200);
            let en = String::from_utf8_lossy(&en.body).into_owned();
            assert!(
                en.contains("<html lang=\"en\">") && en.contains("Log in"),
                "{headers:?}: {en}"
            );
        }
        // The cookie wins over the browser's languages.
        let back = browse(
            &app,
            "/login",
            &[
                ("cookie", "kiemke_lang=vi"),
                ("accept-language", "en-US,en;q=0.9"),
            ],
        )
        .await
        .expect(200);
        assert!(String::from_utf8_lossy(&back.body).contains("<html lang=\"vi\">"));
    }
);

db_test!(
    the_session_cookie_is_httponly_samesite_and_secure_only_when_configured,
    |app| {
        app.demo().await;
        let set = header(&form_login(&app).await, "set-cookie");
        assert!(set.starts_with("kiemke_session=kk_"), "{set}");
        for attr in ["HttpOnly", "SameSite=Lax", "Path=/"] {
            assert!(set.contains(attr), "{attr} missing: {set}");
        }
        assert!(!set.contains("Secure"), "{set}");
        // KIEMKE_COOKIE_SECURE=true: the same service behind HTTPS.
        let mut settings = (*app.state.settings).clone();
        settings.cookie_secure = true;
        let mut state = app.state.clone();
        state.settings = Arc::new(settings);
        let secure = TestApp {
            router: kiemke::app::app(state.clone()),
            state,
            ..app.clone()
        };
        let set = header(&form_login(&secure).await, "set-cookie");
        assert!(set.contains("; Secure"), "{set}");
        assert!(set.contains("HttpOnly"), "{set}");
    }
);

db_test!(
    an_asset_is_entered_by_plain_form_posts_without_javascript,
    |app| {
        let admin = app.admin().await;
        app.demo().await;
        let unit = app
            .call("GET", "/api/v1/units?per_page=100")
            .token(&admin)
            .send()
            .await
            .expect(200)
            .json()["items"]
            .as_array()
            .expect("units")
            .iter()
            .find(|u| u["code"] == "1109302")
            .and_then(|u| u["id"].as_i64())
            .expect("the demo unit 1109302");
        let login = app
            .call("POST", "/login")
            .header("host", "kiemke.test")
            .header("origin", "http://kiemke.test")
            .raw(
                "application/x-www-form-urlencoded",
                format!("username=ketoan.kinhte&password={DEMO_PASSWORD}").into_bytes(),
            )
            .send()
            .await
            .expect(303);
        let token = header(&login, "set-cookie")
            .split(';')
            .next()
            .and_then(|c| c.strip_prefix("kiemke_session="))
            .expect("session cookie")
            .to_string();
        let cookie = format!("kiemke_session={token}");
        let csrf = kiemke::web::csrf_token(&token);
        let base = format!("/units/{unit}/types/01");
        // What a browser without JavaScript sends: the form's fields, as a Vietnamese types them.
        let post = |cost: &str| {
            let body: String = form_urlencoded::Serializer::new(String::new())
                .append_pair("csrf", &csrf)
                .append_pair("section", "IV")
                .append_pair("code", "NOJS-01")
                .append_pair("name", "Bộ bàn ghế phòng họp")
                .append_pair("original_cost", cost)
                .append_pair("usage_status", "1")
                .append_pair("year_in_use", "2019")
                .finish();
            app.call("POST", &format!("{base}/new"))
                .header("host", "kiemke.test")
                .header("origin", "http://kiemke.test")
                .header("cookie", &cookie)
                .raw("application/x-www-form-urlencoded", body.into_bytes())
        };
        let wrong = post("mười tám triệu").send().await.expect(422);
        let html = String::from_utf8_lossy(&wrong.body);
        assert!(
            html.contains("id=\"error-summary\"") && html.contains("mười tám triệu"),
            "the error is shown and the input kept: {html}"
        );
        let saved = post("18.500.000").send().await.expect(303);
        assert_eq!(header(&saved, "location"), format!("{base}?saved=1"));
        let list = browse(&app, &format!("{base}?q=NOJS-01"), &[("cookie", &cookie)])
            .await
            .expect(200);
        let html = String::from_utf8_lossy(&list.body);
        assert!(
            html.contains("Bộ bàn ghế phòng họp") && html.contains("18.500.000"),
            "{html}"
        );
    }
);
