//! Storage behaviour only a shared database has.

#[tokio::test]
async fn upkeep_runs_on_one_node_at_a_time() {
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
