//! Wire contracts shared by the front doors, the CLI and the tests.
//!
//! `aws` holds the AWS service models boto3 and the AWS CLI are built from, and validates request
//! bodies against them, so that every length, pattern, enum, range and required member of the
//! contract is enforced without being written out by hand.

pub mod aws;
