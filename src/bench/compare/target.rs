//! What `compare` measures: the service or one of echo's engines, each started fresh for a
//! run and stopped after it.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{bail, Context};
use serde_json::Value;

use super::CompareConfig;
use crate::bench::connection::{connect, Account};
use crate::bench::echo::Engine;
use crate::bench::load::LoadConfig;

/// The responder of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// `dh-bench echo` as shipped (its default engine): the ceiling.
    Echo,
    /// Another responder, measured beside echo for C1.
    Other(Engine),
    /// dh-mqtt-plugin.
    Service,
}

/// The responders C1 compares echo with.
pub const OTHERS: [Engine; 2] = [Engine::Codec, Engine::Rumqttc];

impl Target {
    /// `echo`, `echo-codec`, `echo-rumqttc` or `service`.
    pub fn name(self) -> String {
        match self {
            Target::Echo => "echo".into(),
            Target::Other(engine) => format!("echo-{}", engine.name()),
            Target::Service => "service".into(),
        }
    }
}

/// A started target; stopped (SIGTERM, then waited for) when dropped.
pub struct Running(Child);

impl Running {
    pub fn pid(&self) -> u32 {
        self.0.id()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-s", "TERM", &self.0.id().to_string()])
            .status();
        let _ = self.0.wait();
    }
}

pub fn start(cfg: &CompareConfig, target: Target, log: &std::fs::File) -> anyhow::Result<Running> {
    let engine = match target {
        Target::Service => None,
        Target::Echo => Some(Engine::DEFAULT),
        Target::Other(engine) => Some(engine),
    };
    let mut cmd = match engine {
        None => {
            let mut c = Command::new(&cfg.service_bin);
            c.arg("serve");
            c
        }
        Some(engine) => {
            let mut c = Command::new(std::env::current_exe()?);
            c.args([
                "echo",
                "--broker-url",
                &cfg.echo_account.broker_url,
                "--username",
                &cfg.echo_account.login,
                "--engine",
                engine.name(),
            ])
            .env("DH_BROKER_PASSWORD", &cfg.echo_account.password);
            c
        }
    };
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log.try_clone()?)
        .spawn()
        .with_context(|| format!("cannot start the {}", target.name()))?;
    Ok(Running(child))
}

/// Sends `body` from the first bench connection until an answer arrives (or 30 s pass).
pub async fn ask(cfg: &LoadConfig, action: &str, body: Value) -> anyhow::Result<Value> {
    let account = Account {
        broker_url: cfg.broker_url.clone(),
        login: format!("{}01", cfg.client_prefix),
        password: cfg.client_password.clone(),
    };
    let topic = format!("dh/response/{action}@{}", account.login);
    let (client, stream) = connect(&account, std::slice::from_ref(&topic), 1).await?;
    for _ in 0..60 {
        let msg =
            paho_mqtt::Message::new(format!("dh/request/{}", account.login), body.to_string(), 1);
        drop(client.publish(msg));
        if let Ok(Ok(Some(answer))) =
            tokio::time::timeout(Duration::from_millis(500), stream.recv()).await
        {
            let _ = client.disconnect(None).await;
            return Ok(serde_json::from_slice(answer.payload())?);
        }
    }
    bail!("no answer to '{action}' within 30 s")
}
