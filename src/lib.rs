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
//! ```
//!
//! `site` drives the stages for a cold build and for a change set; `watch` turns
//! filesystem events into change sets.

pub mod article;
pub mod check;
pub mod config;
pub mod dates;
pub mod http;
pub mod index;
pub mod metrics;
pub mod publish;
pub mod render;
pub mod scan;
pub mod serve;
pub mod site;
pub mod slug;
pub mod watch;
