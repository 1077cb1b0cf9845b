//! The read replica (`KIEMKE_READ_DATABASE_URL`, docs/ARCHITECTURE.md "Read replica"): the board,
//! the summary, the reminders and the exports read from a hot standby, and a user's reads after
//! their own write still see it.
//!
//! The tests named `with_a_lagging_replica_…` need a streaming standby of the test server:
//! `bench/replica.sh start`, then `TEST_READ_DATABASE_URL=postgres://postgres@127.0.0.1:5433/postgres`
//! (.ci/run does both). Without it they say so and are skipped, except under `CI=true`, where they
//! fail. With it, every PostgreSQL run of the suite reads through the replica too (support.rs).

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use kiemke::{
    auth::Actor,
    entities::user,
    replica::{self, Source},
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::{db_test, support::*};

/// The actor of `username`, as the guard would resolve it (only the user id matters here).
async fn actor(app: &TestApp, username: &str) -> Actor {
    let u = user::Entity::find()
        .filter(user::Column::Username.eq(username))
        .one(&app.state.db)
        .await
        .expect("query")
        .expect("user exists");
    Actor {
        user_id: u.id,
        username: u.username,
        ..Actor::system()
    }
}

/// Every text cell of the first sheet.
fn texts(bytes: &[u8]) -> Vec<String> {
    let mut wb: Xlsx<_> =
        calamine::open_workbook_from_rs(Cursor::new(bytes.to_vec())).expect("an xlsx");
    let name = wb.sheet_names()[0].clone();
    let range = wb.worksheet_range(&name).expect("sheet");
    range
        .cells()
        .filter_map(|(_, _, d)| match d {
            Data::String(s) => Some(s.clone()),
            _ => None,
        })
        .collect()
}

fn sent(board: &serde_json::Value) -> i64 {
    board["submitted_on_time"].as_i64().expect("count")
        + board["submitted_late"].as_i64().expect("count")
}

db_test!(
    without_a_read_replica_every_read_goes_to_the_primary,
    |app| {
        let admin = app.admin().await;
        let campaign = app.demo().await;
        // The suite's own replica (TEST_READ_DATABASE_URL) is set aside: this is the default.
        let mut state = app.state.clone();
        state.replica = None;
        let who = actor(&app, "admin").await;
        replica::note_write(&state, who.user_id).await;
        assert_eq!(replica::source_for(&state, &who).await, Source::Primary);
        let reader = replica::reader(&state, &who).await;
        assert!(reader.replica.is_none());
        // And the board reads what was just written.
        let b = app
            .call("GET", &format!("/api/v1/campaigns/{campaign}/progress"))
            .token(&admin)
            .send()
            .await
            .expect(200)
            .json();
        assert_eq!(b["units_total"], 16);
    }
);

db_test!(
    a_read_replica_must_be_a_postgresql_hot_standby_of_a_postgresql_primary,
    |app| {
        let mut state = app.state.clone();
        state.replica = None;
        let err = match app.backend {
            // SQLite has no replica to read from.
            Backend::Sqlite => {
                replica::attach(&mut state, "postgres://postgres@127.0.0.1:5433/postgres", 1)
                    .await
                    .expect_err("a SQLite primary is refused")
            }
            // The primary itself is not a standby: reading it as one would hide nothing, but the
            // setting would be a mistake.
            Backend::Postgres => {
                let server = std::env::var("TEST_DATABASE_URL").expect("PostgreSQL runs have it");
                replica::attach(&mut state, &server, 1)
                    .await
                    .expect_err("a server that is not a standby is refused")
            }
        };
        assert!(
            err.contains("PostgreSQL primary") || err.contains("hot standby"),
            "{err}"
        );
        assert!(state.replica.is_none());
    }
);

#[tokio::test]
async fn with_a_lagging_replica_a_users_board_summary_and_progress_sheet_after_their_own_submit_show_it()
 {
    run_with_paused_replica(|app| async move {
        let admin = app.admin().await;
        let campaign = app.demo().await;
        let viewer = app.login("chutich", DEMO_PASSWORD).await;
        let (admin_actor, viewer_actor) =
            (actor(&app, "admin").await, actor(&app, "chutich").await);
        let progress = format!("/api/v1/campaigns/{campaign}/progress");
        let board = app
            .call("GET", &progress)
            .token(&admin)
            .send()
            .await
            .expect(200)
            .json();
        let unit = board["rows"][0]["unit_id"].as_i64().expect("a unit");
        assert_eq!(sent(&board), 0);
        wait_until_replayed(&app).await;
        assert_eq!(
            replica::source_for(&app.state, &viewer_actor).await,
            Source::Replica,
            "with nothing unreplayed, reads go to the replica"
        );

        pause_replay(&app).await;
        app.call(
            "POST",
            &format!("/api/v1/campaigns/{campaign}/units/{unit}/reports/01/submit"),
        )
        .token(&admin)
        .json(&serde_json::json!({"nil_return": false}))
        .send()
        .await
        .expect(200);
        // The replica has not replayed the submit…
        assert_eq!(
            replica::source_for(&app.state, &admin_actor).await,
            Source::Primary,
            "the writer's reads go to the primary until the replica has their write"
        );
        // …so the one who submitted reads it from the primary: board, summary, progress sheet.
        let b = app
            .call("GET", &progress)
            .token(&admin)
            .send()
            .await
            .expect(200)
            .json();
        assert_eq!(sent(&b), 1);
        assert_eq!(b["reports_by_state"]["submitted"], 1);
        let s = app
            .call("GET", &format!("{progress}/summary"))
            .token(&admin)
            .send()
            .await
            .expect(200)
            .json();
        let submissions = s["parts"]["submissions"].as_str().expect("text");
        assert!(submissions.contains(": 1/18 báo cáo"), "{submissions}");
        let sheet = app
            .call(
                "GET",
                &format!("/api/v1/campaigns/{campaign}/progress.xlsx"),
            )
            .token(&admin)
            .send()
            .await
            .expect(200);
        assert!(texts(&sheet.body).iter().any(|t| t == "Đã gửi"));

        // Another user reads the replica, which does not have the submit yet.
        assert_eq!(
            replica::source_for(&app.state, &viewer_actor).await,
            Source::Replica
        );
        let stale = app
            .call("GET", &progress)
            .token(&viewer)
            .send()
            .await
            .expect(200)
            .json();
        assert_eq!(
            sent(&stale),
            0,
            "the viewer's board came from the lagging replica"
        );
        let sheet = app
            .call(
                "GET",
                &format!("/api/v1/campaigns/{campaign}/progress.xlsx"),
            )
            .token(&viewer)
            .send()
            .await
            .expect(200);
        assert!(!texts(&sheet.body).iter().any(|t| t == "Đã gửi"));

        // Once the replica has replayed the submit, both read it there.
        resume_replay(&app).await;
        wait_until_replayed(&app).await;
        assert_eq!(
            replica::source_for(&app.state, &admin_actor).await,
            Source::Replica
        );
        for token in [&admin, &viewer] {
            let b = app
                .call("GET", &progress)
                .token(token)
                .send()
                .await
                .expect(200)
                .json();
            assert_eq!(sent(&b), 1);
        }
    })
    .await;
}

#[tokio::test]
async fn with_a_lagging_replica_an_accountants_official_form_after_their_own_new_asset_holds_it() {
    run_with_paused_replica(|app| async move {
        let admin = app.admin().await;
        let campaign = app.demo().await;
        let board = app
            .call("GET", &format!("/api/v1/campaigns/{campaign}/progress"))
            .token(&admin)
            .send()
            .await
            .expect(200)
            .json();
        let row = &board["rows"][0];
        let unit = row["unit_id"].as_i64().expect("a unit");
        let code = row["code"].as_str().expect("a code").to_string();
        let accountant = app
            .user(&admin, "ketoan.replica", "unit_accountant", &[unit])
            .await;
        let form = format!("/api/v1/campaigns/{campaign}/units/{unit}/forms/01a.xlsx");
        wait_until_replayed(&app).await;

        pause_replay(&app).await;
        let name = "Nhà văn hóa ghi khi bản sao chậm";
        app.call(
            "POST",
            &format!("/api/v1/campaigns/{campaign}/units/{unit}/assets"),
        )
        .token(&accountant)
        .json(&serde_json::json!({
            "asset_type": "01", "section": "I", "code": "RPL-01", "name": name,
            "qty_books": 100, "qty_counted": 100, "original_cost": 1_000_000,
            "usage_status": "1", "origin": "transferred_in", "year_in_use": 2010,
            "fields": {"area_office": 100}
        }))
        .send()
        .await
        .expect(201);
        let own = app
            .call("GET", &form)
            .token(&accountant)
            .send()
            .await
            .expect(200);
        assert!(
            texts(&own.body).iter().any(|t| t == name),
            "the accountant's own export of {code} holds the asset they just added"
        );
        let other = app
            .call("GET", &form)
            .token(&admin)
            .send()
            .await
            .expect(200);
        assert!(
            !texts(&other.body).iter().any(|t| t == name),
            "another user's export came from the lagging replica"
        );
        resume_replay(&app).await;
    })
    .await;
}
