//! The console over real HTTP: one test binary, so the crate links once.

#[path = "../common/mod.rs"]
mod common;

mod browser;
mod errors;
mod event_catalog;
mod webhook_create;
mod webhook_list;
mod webhook_manage;
