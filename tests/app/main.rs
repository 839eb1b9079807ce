//! The console over real HTTP: one test binary, so the crate links once.

#[path = "../common/mod.rs"]
mod common;

mod accessibility;
mod api;
mod auth;
mod backup;
mod browser;
mod csrf;
mod database_outage;
mod delivery;
mod delivery_log;
mod disk_full;
mod durability;
mod errors;
mod event_catalog;
mod find_delivery;
mod hardening;
mod health;
mod isolation;
mod look_alike_names;
mod migrate;
mod multi_node;
mod receiver;
mod roles;
mod security;
mod setup;
mod signing_secret;
mod storage;
mod webhook_create;
mod webhook_list;
mod webhook_manage;
