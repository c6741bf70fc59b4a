//! Herald's integration tests: one binary, a module per feature. See README.md here.

mod attacks;
mod bad_input;
mod cli;
mod config_reload;
mod consistency;
mod custom_feeds;
mod ecosystem;
mod faults;
mod http;
mod metrics;
mod pages;
mod properties;
mod site;
mod stable_urls;
mod support;
mod watch;
mod websub;
