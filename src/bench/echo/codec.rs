//! An echo on rumqttc's MQTT 3.1.1 packet codec and a blocking socket, one thread per
//! connection. Every read takes what the kernel has; the PUBACKs and answers of all the
//! requests in it go out in one write, where rumqttc's event loop flushes once per answer.
//! Measured beside the event loop for C1 (docs/PERFORMANCE.md): it is not faster, since the
//! broker sends each message in a segment of its own and a read rarely holds two.

use std::future::Future;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use anyhow::{bail, Context};
use bytes::BytesMut;
use rumqttc::mqttbytes::v4::{Connect, Packet, PubAck, Publish, Subscribe, SubscribeReasonCode};
use rumqttc::mqttbytes::{Error as CodecError, QoS};
use rumqttc::ConnectReturnCode;

use super::{answer, answer_qos};
use crate::bench::connection::Account;
use crate::bench::transport::host_and_port;

/// Largest packet read or written.
const MAX_PACKET: usize = 1 << 20;
/// The keep-alive announced; a PINGREQ goes out after half of it without traffic.
const KEEP_ALIVE: Duration = Duration::from_secs(60);

/// Connects and subscribes; the future ends when the connection's thread does.
pub(super) fn open(
    account: &Account,
    topic: &str,
) -> anyhow::Result<impl Future<Output = anyhow::Result<()>>> {
    let mut link = Link::open(account, topic)?;
    // A thread of its own, not tokio's blocking pool: the runtime would wait for it on exit,
    // and it only ends when the connection does.
    let (done, ended) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name(format!("echo-{}", account.login))
        .spawn(move || done.send(link.serve()))?;
    Ok(async move { ended.await? })
}

struct Link {
    stream: TcpStream,
    /// What one read takes, before it is appended to the inbox.
    chunk: Vec<u8>,
    inbox: BytesMut,
    outbox: BytesMut,
    next_id: u16,
}

impl Link {
    /// Connects, logs in and subscribes, failing on any refusal.
    fn open(account: &Account, topic: &str) -> anyhow::Result<Link> {
        let (host, port) = host_and_port(&account.broker_url)?;
        let stream = TcpStream::connect((host.as_str(), port))
            .with_context(|| format!("cannot reach {}", account.broker_url))?;
        stream.set_nodelay(true)?;
        let mut link = Link {
            stream,
            chunk: vec![0; 1 << 16],
            inbox: BytesMut::with_capacity(1 << 16),
            outbox: BytesMut::with_capacity(1 << 16),
            next_id: 1,
        };
        let mut connect = Connect::new(&account.login);
        connect.keep_alive = KEEP_ALIVE.as_secs() as u16;
        connect.set_login(&account.login, &account.password);
        link.send(Packet::Connect(connect))?;
        match link.next_packet()? {
            Packet::ConnAck(ack) if ack.code == ConnectReturnCode::Success => {}
            other => bail!("{} was refused by the broker: {other:?}", account.login),
        }
        let mut subscribe = Subscribe::new(topic, QoS::AtLeastOnce);
        subscribe.pkid = link.packet_id();
        link.send(Packet::Subscribe(subscribe))?;
        loop {
            match link.next_packet()? {
                Packet::SubAck(ack) => {
                    if ack.return_codes.contains(&SubscribeReasonCode::Failure) {
                        bail!("{} may not subscribe to {topic}", account.login);
                    }
                    break;
                }
                Packet::Publish(_) | Packet::PubAck(_) => {}
                other => bail!("unexpected {other:?} before the SUBACK"),
            }
        }
        link.stream.set_read_timeout(Some(KEEP_ALIVE / 2))?;
        Ok(link)
    }

    fn packet_id(&mut self) -> u16 {
        let id = self.next_id;
        self.next_id = self.next_id.checked_add(1).unwrap_or(1);
        id
    }

    fn send(&mut self, packet: Packet) -> anyhow::Result<()> {
        packet.write(&mut self.outbox, MAX_PACKET)?;
        self.flush()
    }

    fn flush(&mut self) -> anyhow::Result<()> {
        if !self.outbox.is_empty() {
            self.stream.write_all(&self.outbox)?;
            self.outbox.clear();
        }
        Ok(())
    }

    /// Reads what the kernel has into the inbox; `false` if the read timed out.
    fn fill(&mut self) -> anyhow::Result<bool> {
        match self.stream.read(&mut self.chunk) {
            Ok(0) => bail!("the broker closed the connection"),
            Ok(n) => {
                self.inbox
                    .extend_from_slice(self.chunk.get(..n).unwrap_or_default());
                Ok(true)
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// The next whole packet in the inbox, if there is one.
    fn parse(&mut self) -> anyhow::Result<Option<Packet>> {
        match Packet::read(&mut self.inbox, MAX_PACKET) {
            Ok(packet) => Ok(Some(packet)),
            Err(CodecError::InsufficientBytes(_)) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    fn next_packet(&mut self) -> anyhow::Result<Packet> {
        loop {
            if let Some(packet) = self.parse()? {
                return Ok(packet);
            }
            if !self.fill()? {
                bail!("no answer from the broker");
            }
        }
    }

    /// Answers requests until the connection fails.
    fn serve(&mut self) -> anyhow::Result<()> {
        loop {
            if !self.fill()? {
                self.send(Packet::PingReq)?;
                continue;
            }
            while let Some(packet) = self.parse()? {
                match packet {
                    Packet::Publish(request) => self.answer(&request)?,
                    Packet::Disconnect => bail!("the broker disconnected the echo"),
                    _ => {}
                }
            }
            self.flush()?;
        }
    }

    fn answer(&mut self, request: &Publish) -> anyhow::Result<()> {
        if request.qos != QoS::AtMostOnce {
            PubAck::new(request.pkid).write(&mut self.outbox)?;
        }
        if let Some((topic, body)) = answer(&request.topic, &request.payload) {
            let qos = answer_qos(request.qos);
            let mut reply = Publish::new(topic, qos, body);
            if qos != QoS::AtMostOnce {
                reply.pkid = self.packet_id();
            }
            reply.write(&mut self.outbox)?;
        }
        Ok(())
    }
}
