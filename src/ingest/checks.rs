//! Schema checks (and compiling a schema) that may be costly run on the blocking pool, a
//! few at a time: each is CPU-bound for up to its budget, and the threads that answer
//! requests (`/healthz`, sign-in, the console) must stay free whatever anyone publishes. A
//! check that fits in a small budget (every real event's: a step per field and item) is
//! done where it is asked: handing it to another thread would cost more than the check.

use std::sync::LazyLock;

use serde_json::Value;
use tokio::sync::Semaphore;

use crate::domain::{CheckRefusal, DataSchema};

/// As many checks at once as there are cores: more would only share them.
static RUNNING: LazyLock<Semaphore> = LazyLock::new(|| {
    Semaphore::new(std::thread::available_parallelism().map_or(2, |cores| cores.get()))
});

/// [`DataSchema::parse`], off the request threads.
pub async fn compile_off_thread(source: Value) -> Result<DataSchema, String> {
    let _turn = RUNNING
        .acquire()
        .await
        .expect("the semaphore is never closed");
    tokio::task::spawn_blocking(move || DataSchema::parse(source))
        .await
        .unwrap_or_else(|failed| {
            tracing::error!("compiling a schema failed: {failed}");
            Err("The schema could not be compiled.".to_owned())
        })
}

/// Schema steps a check may take where it is asked: a real event's data takes tens to a
/// few hundred; this many take well under a millisecond.
const STEPS_IN_PLACE: u64 = 5_000;

/// [`DataSchema::check`]: in place when it is quick, else off the request threads.
pub async fn check_bounded(schema: DataSchema, data: Value) -> Result<(), CheckRefusal> {
    match schema.check_within(&data, STEPS_IN_PLACE) {
        Err(CheckRefusal::TooCostly) => {}
        quick => return quick,
    }
    let _turn = RUNNING
        .acquire()
        .await
        .expect("the semaphore is never closed");
    tokio::task::spawn_blocking(move || schema.check(&data))
        .await
        .unwrap_or_else(|failed| {
            // The validator panicked: a bug of its own, answered as a check that could not end.
            tracing::error!("a schema check failed: {failed}");
            Err(CheckRefusal::TooCostly)
        })
}
