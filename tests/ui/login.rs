//! Logging in and out in the browser.

use crate::support::*;

crate::ui_test!(
    a_wrong_password_is_refused_in_vietnamese_and_keeps_the_user_name,
    |app| {
        let page = app.browser().await;
        page.login(ACCOUNTANT, "not-the-password-1").await;
        assert_eq!(page.path().await, "/login");
        let error = page.text("#login-error").await;
        assert!(
            error.contains("mật khẩu không đúng"),
            "Vietnamese message expected, got «{error}»"
        );
        assert_eq!(page.value("#username").await, ACCOUNTANT);
        assert_eq!(
            page.value("#password").await,
            "",
            "a password is never sent back"
        );
    }
);

crate::ui_test!(
    an_accountant_logs_in_and_lands_on_the_task_list_of_the_unit,
    |app| {
        let page = app.logged_in(ACCOUNTANT).await;
        assert_eq!(page.path().await, "/");
        assert!(page.text("#current-user").await.contains(ACCOUNTANT));
        assert!(
            page.text("#unit-name")
                .await
                .contains("Phòng Kinh tế, Hạ tầng và Đô thị")
        );
        // The cookie is HttpOnly: page scripts cannot read it.
        let seen = page
            .client
            .execute("return document.cookie;", vec![])
            .await
            .expect("document.cookie");
        assert!(
            !seen.as_str().unwrap_or("").contains("kiemke_session"),
            "session cookie visible to scripts: {seen}"
        );
    }
);

crate::ui_test!(
    a_page_opened_without_logging_in_shows_the_login_form,
    |app| {
        let page = app.browser().await;
        page.goto("/").await;
        assert_eq!(page.path().await, "/login");
        let unit = app.unit_id("1109302").await;
        page.goto(&format!("/units/{unit}/types/01")).await;
        assert!(page.path().await.starts_with("/login"));
        assert!(page.has("#username").await);
    }
);

crate::ui_test!(
    a_cookie_kept_after_logging_out_opens_nothing_but_the_login_page,
    |app| {
        let page = app.logged_in(ACCOUNTANT).await;
        let cookies = page.client.get_all_cookies().await.expect("cookies");
        let session = cookies
            .iter()
            .find(|c| c.name() == "kiemke_session")
            .expect("a session cookie after login")
            .clone()
            .into_owned();
        page.click("#logout").await;
        assert!(page.path().await.starts_with("/login"));
        // An attacker who copied the cookie before the logout puts it back.
        page.client
            .add_cookie(session)
            .await
            .expect("put the old cookie back");
        page.goto("/").await;
        assert!(
            page.path().await.starts_with("/login"),
            "a revoked session still opens {}",
            page.path().await
        );
        let unit = app.unit_id("1109302").await;
        page.goto(&format!("/units/{unit}/types/01")).await;
        assert!(page.path().await.starts_with("/login"));
    }
);
