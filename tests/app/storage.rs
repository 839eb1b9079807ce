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
