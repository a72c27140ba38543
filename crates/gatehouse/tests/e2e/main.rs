//! Gatehouse end-to-end tests: one binary (link time matters on two cores).
//! Set GATEHOUSE_TEST_DATABASE_URL=postgres://… to run everything on PostgreSQL as well.

mod apps;
mod authz;
mod cli;
mod conditions;
mod crash;
mod harness;
mod identity;
mod org;
mod server;
mod signin;
mod storage;
