//! Herald's integration tests: one binary, a module per feature. See README.md here.

mod bad_input;
mod cli;
mod http;
mod properties;
mod site;
mod support;
mod watch;
