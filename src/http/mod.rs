//! HTTP: one route table (`configure`) for production and tests.
