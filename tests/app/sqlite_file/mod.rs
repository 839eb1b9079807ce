//! What only an SQLite installation has: its file, beside it its key, on a disk of its own.
//! The PostgreSQL pass skips this module (`--skip sqlite_file::`); each test also refuses to
//! run there rather than pass without running.

mod backup;
mod disk_full;
mod private_files;

/// Refuses a PostgreSQL run loudly: these tests would otherwise pass without testing.
fn on_sqlite() {
    assert!(
        !crate::common::database::on_postgres(),
        "an SQLite test: skip it on PostgreSQL with --skip sqlite_file::"
    );
}
