//! The broker plugin's topic decision on any input: never a panic, and a device is granted
//! a read only of its own response topic.
#![no_main]

use dh_mqtt_rules::{decide, is_valid_client_id, Access, Account, Decision, RESPONSE_PREFIX};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|parts: (&str, &str, u8)| {
    let (client_id, topic, kind) = parts;
    let access = match kind % 4 {
        0 => Access::Publish,
        1 => Access::Read,
        2 => Access::Subscribe,
        _ => Access::Unsubscribe,
    };
    let decision = decide(Account::Device, client_id, access, topic);
    let _ = decide(Account::Service, client_id, access, topic);
    if access == Access::Read && decision == Decision::Allow {
        let owner = topic
            .strip_prefix(RESPONSE_PREFIX)
            .and_then(|rest| rest.split_once('@'))
            .map(|(_, owner)| owner);
        assert!(is_valid_client_id(client_id) && owner == Some(client_id), "{client_id:?} reads {topic:?}");
    }
});
