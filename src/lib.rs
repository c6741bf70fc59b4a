//! Herald turns a folder of Markdown articles into category feeds and serves them.
//!
//! The pipeline, one module per stage:
//!
//! ```text
//! scan (walk the content root, read files)
//!   → article::parse (bytes → Article, pure)
//!   → dates (front matter, tag line, file name, git history, mtime)
//!   → index (articles by path; per-category newest-first lists)
//!   → render (RSS 2.0 / Atom 1.0 bytes, compressed once, validators once)
//!   → publish (atomic swap of the served snapshot; on-disk mirror via temp + rename)
//!   → http (actix-web route table: conditional GET, CORS, pages, /metrics)
//!   → websub (publish pings to the configured hubs for the live feeds that changed)
//! ```
//!
//! `site` drives the stages for a cold build and for a change set; `watch` turns
//! filesystem events into change sets; `reload` says what a changed config file means for
//! a running server (`serve` applies it); `redirects` keeps the URLs of slugs no longer
//! served answering (301 to where the category went, or 410).

pub mod article;
pub mod check;
pub mod config;
pub mod custom;
pub mod dates;
pub mod http;
pub mod index;
pub mod metrics;
pub mod publish;
pub mod redirects;
pub mod reload;
pub mod render;
pub mod scan;
pub mod serve;
pub mod site;
pub mod slug;
pub mod watch;
pub mod websub;
