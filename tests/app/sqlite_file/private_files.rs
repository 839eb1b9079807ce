//! The database, its WAL and its key file are the server's alone.

use crate::common::TestApp;

fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[tokio::test]
async fn the_database_its_wal_and_its_key_are_private_to_the_server() {
    super::on_sqlite();
    let app = TestApp::spawn().await;
    app.create_webhook("CRM", "https://crm.example.com/in", &["*"])
        .await;

    for suffix in ["", "-wal", "-shm"] {
        let path = format!("{}{suffix}", app.database_path.display());
        assert_eq!(mode(path.as_ref()), 0o600, "{path}");
    }
    assert_eq!(mode(&app.database_path.with_extension("key")), 0o600);
}

#[tokio::test]
async fn a_database_left_readable_by_others_is_made_private_at_start() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    std::fs::write(&path, b"").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();

    let db = webhook_console::db::Db::open(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    db.ping().await.unwrap();

    assert_eq!(mode(&path), 0o600);
}

#[tokio::test]
async fn a_key_file_left_readable_by_others_is_made_private_at_start() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("console.db").display());
    webhook_console::secret_key::MasterKey::load(None, &url).unwrap();
    let key = dir.path().join("console.key");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();

    webhook_console::secret_key::MasterKey::load(None, &url).unwrap();

    assert_eq!(mode(&key), 0o600);
}
