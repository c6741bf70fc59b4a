//! Herald's integration tests: one binary, a module per feature. See README.md here.

mod attacks;
mod bad_input;
mod cli;
mod consistency;
mod ecosystem;
mod faults;
mod http;
mod metrics;
mod pages;
mod properties;
mod site;
mod support;
mod watch;
