//! The harness itself: a browser session reaches the application, and axe-core finds what it must.

crate::ui_test!(
    a_browser_session_reaches_the_application_served_on_a_local_port,
    |app| {
        let page = app.browser().await;
        page.client
            .goto(&app.url("/health"))
            .await
            .expect("open /health");
        let body = page.body().await;
        assert!(body.contains("\"status\""), "health page: {body}");
    }
);

crate::ui_test!(
    axe_core_reports_an_image_without_text_and_passes_a_clean_page,
    |app| {
        let page = app.browser().await;
        page.client
        .goto("data:text/html;charset=utf-8,<!doctype html><html lang=vi><title>Thử</title><main><h1>Trang</h1><img src=x></main></html>")
        .await
        .expect("open a data page");
        let found = page.accessibility_violations().await;
        assert!(
            found.iter().any(|v| v.contains("image-alt")),
            "axe-core should report the image without alt text: {found:?}"
        );
        page.client
        .goto("data:text/html;charset=utf-8,<!doctype html><html lang=vi><title>Thử</title><main><h1>Trang sạch</h1><p>Không có lỗi.</p></main></html>")
        .await
        .expect("open a data page");
        let found = page.accessibility_violations().await;
        assert!(found.is_empty(), "a clean page has no violation: {found:?}");
    }
);
