//! The actors and the messages between them.
//!
//! ```text
//! Paho thread ─try_send─► IngestActor ──spawned pipeline task per request──┐
//!                          (decode,       │ Authorize / BindSession ─► AuthActor
//!                           admission)    │ getCurrent ─► Batcher<LoadBatch> ─► RepoActor lane
//!                                         │ updateCurrent ─► Batcher<UpdateBatch> ─► RepoActor lane
//!                                         │ logins, authenticate ─► RepoActor lanes
//!                                         │ HashPassword ──────────► HasherActor ×cores (SyncArbiter)
//!                                         └ Publish ───────────────► PublisherActor ─► Paho
//! ```
//! Each actor is supervised on its own (see [`supervise`]): a panic answers that one request
//! with a 500 and restarts only that actor. Pipelines run as their own tasks, so a restarting
//! ingest actor does not drop requests already being handled.

pub mod admission;
pub mod ask;
pub mod auth;
pub mod batcher;
pub mod deadline;
pub mod hasher;
pub mod ingest;
pub mod lanes;
pub mod messages;
pub mod password_budget;
pub mod password_work;
pub mod pipeline;
pub mod publisher;
pub mod rate_limited;
pub mod repo;
pub mod services;
pub mod supervise;
