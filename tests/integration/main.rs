//! Herald's integration tests: one binary, a module per feature. See README.md here.

mod cli;
mod http;
mod pages;
mod site;
mod support;
mod watch;
