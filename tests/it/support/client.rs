//! An MQTT client as a device uses it: connects with its login as client id, subscribes to its
//! own answer topics, publishes requests on its verified topic.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

use paho_mqtt::{
    Client, ConnectOptionsBuilder, CreateOptionsBuilder, Message, MessageBuilder, PersistenceType,
    Properties, PropertyCode, SyncReceiver, MQTT_VERSION_5,
};
use serde_json::Value;

use super::broker::CLIENT_PASSWORD;
use super::TestBroker;
use dh_mqtt_plugin::protocol::Action;

/// The longest any Paho call of a test client blocks.
const CALL_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a test waits for an answer before failing.
pub const ANSWER_TIMEOUT: Duration = Duration::from_secs(10);

/// A received answer.
#[derive(Debug, Clone)]
pub struct Received {
    /// Topic it arrived on.
    pub topic: String,
    /// JSON payload.
    pub json: Value,
    /// The payload as text, exactly as received.
    pub raw: String,
    /// MQTT 5 correlation data.
    pub correlation: Option<Vec<u8>>,
}

/// A connected test client.
pub struct TestClient {
    cli: Client,
    rx: SyncReceiver<Option<Message>>,
    /// The login, which the broker also uses as client id.
    pub id: String,
    stash: RefCell<VecDeque<Received>>,
    next_id: RefCell<u64>,
}

impl TestClient {
    /// Connects as `login` (password [`CLIENT_PASSWORD`]) and subscribes to its answers.
    pub fn connect(broker: &TestBroker, login: &str) -> TestClient {
        Self::connect_as(broker, login, CLIENT_PASSWORD)
    }

    /// Connects as `login` with `password` and subscribes to its answers.
    pub fn connect_as(broker: &TestBroker, login: &str, password: &str) -> TestClient {
        let client = Self::connect_raw(broker, login, login, password);
        let mut topics: Vec<String> = Action::ALL
            .iter()
            .map(|a| format!("dh/response/{}@{login}", a.name()))
            .collect();
        topics.push(format!("dh/response/@{login}"));
        client.subscribe(&topics);
        client
    }

    /// Connects with an explicit client id and password, subscribing to nothing.
    pub fn connect_raw(
        broker: &TestBroker,
        login: &str,
        client_id: &str,
        password: &str,
    ) -> TestClient {
        Self::try_connect_with(broker, login, client_id, password, MQTT_VERSION_5)
            .unwrap_or_else(|e| panic!("{login} cannot connect: {e}"))
    }

    /// Connects as `login` (its password, id = login), subscribing to nothing; the broker's
    /// refusal is the error.
    pub fn try_connect(broker: &TestBroker, login: &str) -> Result<TestClient, paho_mqtt::Error> {
        Self::try_connect_with(broker, login, login, CLIENT_PASSWORD, MQTT_VERSION_5)
    }

    /// Connects as `login` with `password` (id = login), subscribing to nothing.
    pub fn try_connect_as(
        broker: &TestBroker,
        login: &str,
        password: &str,
    ) -> Result<TestClient, paho_mqtt::Error> {
        Self::try_connect_with(broker, login, login, password, MQTT_VERSION_5)
    }

    /// Whether the broker still has this client connected.
    pub fn is_connected(&self) -> bool {
        self.cli.is_connected()
    }

    /// Connects as `login` with MQTT 3.1.1, as a DeviceHive client of the seed pages does,
    /// subscribing to nothing.
    pub fn connect_v311(broker: &TestBroker, login: &str, password: &str) -> TestClient {
        Self::try_connect_with(
            broker,
            login,
            login,
            password,
            paho_mqtt::MQTT_VERSION_3_1_1,
        )
        .unwrap_or_else(|e| panic!("{login} cannot connect: {e}"))
    }

    fn try_connect_with(
        broker: &TestBroker,
        login: &str,
        client_id: &str,
        password: &str,
        version: u32,
    ) -> Result<TestClient, paho_mqtt::Error> {
        let create = CreateOptionsBuilder::new()
            .server_uri(broker.url())
            .client_id(client_id)
            .persistence(PersistenceType::None);
        let opts = if version == MQTT_VERSION_5 {
            create.mqtt_version(version)
        } else {
            create
        }
        .finalize();
        let mut cli = Client::new(opts)?;
        // Bounds every call, the disconnect in `drop` included: with Paho's default of five
        // minutes a disconnect whose token never completed held a whole CI run.
        cli.set_timeout(CALL_TIMEOUT);
        let rx = cli.start_consuming();
        let mut connect = if version == MQTT_VERSION_5 {
            ConnectOptionsBuilder::new_v5()
        } else {
            ConnectOptionsBuilder::with_mqtt_version(version)
        };
        if version == MQTT_VERSION_5 {
            connect.clean_start(true);
        } else {
            connect.clean_session(true);
        }
        let opts = connect
            .user_name(login)
            .password(password)
            .connect_timeout(Duration::from_secs(5))
            .finalize();
        if let Err(e) = cli.connect(opts) {
            // Paho's callback thread may still hold the client; dropping our handle here can
            // make that thread drop the last one and destroy it under its own lock (seen as a
            // hang). A refused test client is small: keep it.
            std::mem::forget(cli);
            return Err(e);
        }
        Ok(TestClient {
            cli,
            rx,
            id: login.to_string(),
            stash: RefCell::new(VecDeque::new()),
            next_id: RefCell::new(1),
        })
    }

    /// Whether the broker refuses a SUBSCRIBE to `filter` in its SUBACK (or fails the call).
    pub fn subscription_refused(&self, filter: &str) -> bool {
        match self.cli.subscribe(filter, 1) {
            Ok(response) => match response.request_response() {
                paho_mqtt::RequestResponse::Subscribe(code) => *code >= 0x80,
                _ => false,
            },
            Err(_) => true,
        }
    }

    /// Subscribes (QoS 1) to `topics` without checking what the broker granted.
    pub fn subscribe_unchecked(&self, topics: &[String]) {
        let _ = self.cli.subscribe_many_same_qos(topics, 1);
    }

    /// Subscribes (QoS 1) to `topics`.
    pub fn subscribe(&self, topics: &[String]) {
        self.cli
            .subscribe_many_same_qos(topics, 1)
            .unwrap_or_else(|e| panic!("subscribe: {e}"));
    }

    /// Publishes a payload.
    pub fn publish(&self, topic: &str, payload: &[u8], qos: i32) {
        self.publish_with(topic, payload, qos, false, Properties::new());
    }

    /// Publishes at QoS 1 and returns the broker's verdict (MQTT 5 PUBACK reason).
    pub fn try_publish(&self, topic: &str, payload: &[u8]) -> Result<(), paho_mqtt::Error> {
        self.cli.publish(Message::new(topic, payload, 1))
    }

    /// Publishes with the retain flag and MQTT 5 properties.
    pub fn publish_with(
        &self,
        topic: &str,
        payload: &[u8],
        qos: i32,
        retained: bool,
        props: Properties,
    ) {
        let msg = MessageBuilder::new()
            .topic(topic)
            .payload(payload)
            .qos(qos)
            .retained(retained)
            .properties(props)
            .finalize();
        self.cli
            .publish(msg)
            .unwrap_or_else(|e| panic!("publish on {topic}: {e}"));
    }

    /// Publishes an MQTT 5 request on `dh/request` with a Response Topic and Correlation Data.
    pub fn publish_v5(
        &self,
        body: &Value,
        response_topic: Option<&str>,
        correlation: Option<&[u8]>,
    ) {
        let mut props = Properties::new();
        if let Some(rt) = response_topic {
            props
                .push_string(PropertyCode::ResponseTopic, rt)
                .unwrap_or_else(|e| panic!("{e}"));
        }
        if let Some(cd) = correlation {
            props
                .push_binary(PropertyCode::CorrelationData, cd.to_vec())
                .unwrap_or_else(|e| panic!("{e}"));
        }
        self.publish_with("dh/request", body.to_string().as_bytes(), 1, false, props);
    }

    /// Sends a request on the client's verified topic and returns the answer with the same
    /// requestId (one is assigned if the body has none).
    pub fn request(&self, body: Value) -> Value {
        let id = self.send_request(body);
        self.answer_to(&id)
    }

    /// Like [`Self::request`], but gives up quietly after `timeout`.
    pub fn try_request(&self, body: Value, timeout: Duration) -> Option<Value> {
        let id = self.send_request(body);
        self.wait_answer(|r| r.json.get("requestId") == Some(&id), timeout)
            .map(|r| r.json)
    }

    /// Publishes a request on the verified topic and returns its requestId.
    pub fn send_request(&self, mut body: Value) -> Value {
        let id = match body.get("requestId") {
            Some(id) => id.clone(),
            None => {
                let mut next = self.next_id.borrow_mut();
                *next += 1;
                let id = Value::from(format!("{}-{}", self.id, *next));
                body["requestId"] = id.clone();
                id
            }
        };
        self.publish(
            &format!("dh/request/{}", self.id),
            body.to_string().as_bytes(),
            1,
        );
        id
    }

    /// Waits for the answer whose requestId is `id`.
    pub fn answer_to(&self, id: &Value) -> Value {
        self.wait_answer(|r| r.json.get("requestId") == Some(id), ANSWER_TIMEOUT)
            .unwrap_or_else(|| {
                panic!(
                    "{}: no answer to request {id} within {ANSWER_TIMEOUT:?}",
                    self.id
                )
            })
            .json
    }

    /// Waits for any answer matching `pred`; others stay queued for later calls.
    pub fn wait_answer(
        &self,
        pred: impl Fn(&Received) -> bool,
        timeout: Duration,
    ) -> Option<Received> {
        {
            let mut stash = self.stash.borrow_mut();
            if let Some(pos) = stash.iter().position(&pred) {
                return stash.remove(pos);
            }
        }
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let msg = match self.rx.recv_timeout(left) {
                Ok(Some(msg)) => msg,
                Ok(None) => continue,
                Err(_) => return None,
            };
            let received = Received {
                topic: msg.topic().to_string(),
                json: serde_json::from_slice(msg.payload()).unwrap_or(Value::Null),
                raw: String::from_utf8_lossy(msg.payload()).into_owned(),
                correlation: msg
                    .properties()
                    .get_binary(PropertyCode::CorrelationData)
                    .map(|b| b.to_vec()),
            };
            if pred(&received) {
                return Some(received);
            }
            self.stash.borrow_mut().push_back(received);
        }
    }

    /// The next message of any kind within `timeout`.
    pub fn next(&self, timeout: Duration) -> Option<Received> {
        self.wait_answer(|_| true, timeout)
    }

    /// Asserts that nothing arrives for `wait`.
    pub fn expect_silence(&self, wait: Duration) {
        if let Some(r) = self.next(wait) {
            panic!(
                "{}: expected no message, got {} on {}",
                self.id, r.json, r.topic
            );
        }
    }
}

impl Drop for TestClient {
    fn drop(&mut self) {
        if self.cli.is_connected() {
            let _ = self.cli.disconnect(None);
        }
    }
}
