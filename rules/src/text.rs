//! Which texts may form a topic: client ids and actions.

/// The longest client id that forms a topic (a DeviceHive login is at most 128 characters).
pub const MAX_CLIENT_ID_BYTES: usize = 256;
/// The longest action that names its own response topic; longer ones use the error topic.
pub const MAX_TOPIC_ACTION_BYTES: usize = 64;

/// Whether Mosquitto accepts `text` in a topic: it refuses (and disconnects for) U+0000,
/// the C0 and C1 control characters and the Unicode non-characters (its
/// `mosquitto_validate_utf8`).
pub fn is_safe_text(text: &str) -> bool {
    text.chars().all(|c| {
        let u = u32::from(c);
        !(u <= 0x1F
            || (0x7F..=0x9F).contains(&u)
            || (0xFDD0..=0xFDEF).contains(&u)
            || (u & 0xFFFE) == 0xFFFE)
    })
}

/// A client id that can form a response topic nobody else's can match: not empty, at most
/// [`MAX_CLIENT_ID_BYTES`], no wildcard, level separator or `@`, only text Mosquitto accepts.
pub fn is_valid_client_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_CLIENT_ID_BYTES
        && !id.contains(['+', '#', '/', '@'])
        && is_safe_text(id)
}

/// An action that may name its own response topic: `/`-separated words of ASCII letters and
/// digits, at most [`MAX_TOPIC_ACTION_BYTES`]. Every served action passes.
pub fn is_topic_action(action: &str) -> bool {
    action.len() <= MAX_TOPIC_ACTION_BYTES
        && action
            .split('/')
            .all(|word| !word.is_empty() && word.bytes().all(|b| b.is_ascii_alphanumeric()))
}
