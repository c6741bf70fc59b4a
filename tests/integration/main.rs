//! Herald's integration tests: one binary, a module per feature. See README.md here.

mod cli;
mod ecosystem;
mod http;
mod site;
mod support;
mod watch;
