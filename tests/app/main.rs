//! The console over real HTTP: one test binary, so the crate links once.

#[path = "../common/mod.rs"]
mod common;

mod accessibility;
mod accounts;
mod api;
mod auth;
mod browser;
mod catalog_admin;
mod costly_schemas;
mod csrf;
mod custom_headers;
mod delivery;
mod delivery_log;
mod durability;
mod errors;
mod event_catalog;
mod event_schemas;
mod find_delivery;
mod hardening;
mod health;
mod isolation;
mod lock_out;
mod look_alike_names;
mod operational_events;
mod profile;
mod receiver;
mod roles;
mod security;
mod setup;
mod signing_secret;
mod sqlite_file;
mod storage;
mod waiting;
mod webhook_create;
mod webhook_list;
mod webhook_manage;
