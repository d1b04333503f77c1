//! Any payload decodes to a request or to an error answer on the sender's own safe topic.
#![no_main]

use dh_mqtt_plugin::protocol::invariants::answer_fault;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|payload: &[u8]| {
    if let Some(fault) = answer_fault(payload) {
        panic!("{:?}: {fault}", String::from_utf8_lossy(payload));
    }
});
