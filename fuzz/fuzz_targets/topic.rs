//! Any action and client id form a safe topic of the sender's own, or none.
#![no_main]

use dh_mqtt_plugin::protocol::invariants::response_topic_fault;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|parts: (&str, &str)| {
    let (action, client_id) = parts;
    if let Some(fault) = response_topic_fault(action, client_id) {
        panic!("action {action:?}, client {client_id:?}: {fault}");
    }
});
