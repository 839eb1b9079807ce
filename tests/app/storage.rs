use std::future::Future;
use std::task::{Context, Waker};
use std::time::Duration;

use crate::common::TestApp;

#[tokio::test]
async fn a_write_cancelled_in_the_middle_of_begin_does_not_wedge_the_writer() {
    let app = TestApp::spawn().await;

    // Start a transaction and abandon it after the database ran BEGIN but before anyone
    // owned the transaction, as a request whose client disconnects does.
    {
        let mut begin = Box::pin(app.db.begin_write());
        let mut context = Context::from_waker(Waker::noop());
        let pending = begin.as_mut().poll(&mut context).is_pending();
        // A pooled PostgreSQL connection may answer at once; SQLite's writer never does.
        assert!(
            pending || crate::common::database::on_postgres(),
            "BEGIN was sent, not yet answered"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let mut tx = tokio::time::timeout(Duration::from_secs(5), app.db.begin_write())
        .await
        .expect("the writer is free again")
        .expect("a new transaction begins");
    crate::common::sql_execute(
        &mut tx,
        "INSERT INTO sign_in_failures (email, client, at) VALUES ('x', 'y', 0)",
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        app.get("/settings/webhooks").await.status(),
        reqwest::StatusCode::OK
    );
}

#[tokio::test]
async fn upkeep_runs_on_one_node_at_a_time() {
    if !crate::common::database::on_postgres() {
        return; // One SQLite file serves one process, which always holds the job.
    }
    let url = crate::common::database::fresh_postgres().await;
    let (first, second) = (
        webhook_console::db::Db::open(&url).await.unwrap(),
        webhook_console::db::Db::open(&url).await.unwrap(),
    );
    use webhook_console::db::Job;
    let held = first.try_lock(Job::Upkeep).await.unwrap().expect("free");
    assert!(
        second.try_lock(Job::Upkeep).await.unwrap().is_none(),
        "another node skips its round while one runs"
    );
    held.release().await;
    let next = second.try_lock(Job::Upkeep).await.unwrap();
    assert!(next.is_some(), "released: the next round may run anywhere");
    next.unwrap().release().await;
}
