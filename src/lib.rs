//! Meeloop: match Dutch public organisations to best-in-class peers for
//! shadow visits (meeloopdagen).
//!
//! Layers, from the edge inwards (see `docs/architecture.md`):
//! `cli` → `app` (+ `config`) → `http` / `web` → `service` → `domain` / `db`.
//! `domain` is pure: no I/O, no actix, no diesel.

pub mod app;
pub mod auth;
pub mod cli;
pub mod config;
pub mod db;
pub mod domain;
pub mod http;
pub mod jobs;
pub mod mail;
pub mod observe;
pub mod service;
pub mod state;
pub mod web;
pub mod webhooks;
