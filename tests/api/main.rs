//! One integration-test binary: the real application on port 0, on SQLite
//! (a temp file per test) and on PostgreSQL (a throwaway cluster per run, a
//! fresh database per test).

mod browser;
mod helpers;
mod journey;
mod lessons;
mod smtp;
mod visits;

mod admin;
mod architecture;
mod audit;
mod auth;
mod backup;
mod cli;
mod delivery;
mod digests;
mod directory;
mod events;
mod follows;
mod hardening;
mod import;
mod insight;
mod mail;
mod matching;
mod matrix;
mod mergers;
mod metrics;
mod migrations;
mod outbox;
mod packaging;
mod pages;
mod partners;
mod privacy;
mod profile;
mod schedule;
mod sessions;
mod sign_in;
mod sso;
mod two_step;
mod web_browser;
mod webhooks;
