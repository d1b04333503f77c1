//! The wire contract of docs/PROTOCOL.md as plain functions over plain types: topics, request
//! decoding, answers. Nothing here touches a broker, a database or an actor.

pub mod accept;
pub mod action;
pub mod fields;
pub mod invariants;
pub mod login;
#[cfg(test)]
mod properties;
pub mod request;
pub mod response;
pub mod topic;
pub mod update;
pub mod user_query;
pub mod user_view;

pub use action::Action;
pub use request::{decode, DecodeFailure, Request, RequestId};
pub use response::{Answer, Body, Outgoing};
pub use topic::{Origin, RequestTopic};
