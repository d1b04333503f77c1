//! Property tests of the decoder and the topic builder: 100,000 generated cases each, from a
//! fixed seed so a failure repeats (CI runs them with `cargo test`; the cargo-fuzz targets in
//! `fuzz/` explore the same functions without a bound). Generated, not shrunk: the failing
//! input is printed whole.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Map, Value};

use super::invariants::{answer_fault, response_topic_fault};

const CASES: usize = 100_000;

/// Pieces that break topics: separators, wildcards, controls, non-characters.
const PIECES: [&str; 14] = [
    "/",
    "@",
    "+",
    "#",
    "user",
    "getCurrent",
    "token",
    "\u{0}",
    "\u{1}",
    "\n",
    "\u{7f}",
    "\u{85}",
    "\u{fdd0}",
    "\u{ffff}",
];

fn nasty_text(rng: &mut StdRng) -> String {
    let len = rng.gen_range(0..10);
    (0..len)
        .map(|_| match rng.gen_range(0..3) {
            0 => rng.gen::<char>().to_string(),
            _ => PIECES
                .get(rng.gen_range(0..PIECES.len()))
                .copied()
                .unwrap_or("")
                .to_string(),
        })
        .collect()
}

fn json_value(rng: &mut StdRng, depth: u32) -> Value {
    match rng.gen_range(0..if depth == 0 { 5 } else { 7 }) {
        0 => Value::Null,
        1 => Value::Bool(rng.gen()),
        2 => Value::from(rng.gen::<i64>()),
        3 => Value::from(rng.gen::<f64>()),
        4 => Value::String(nasty_text(rng)),
        5 => Value::Array(
            (0..rng.gen_range(0..4))
                .map(|_| json_value(rng, depth - 1))
                .collect(),
        ),
        _ => Value::Object(
            (0..rng.gen_range(0..4))
                .map(|_| (nasty_text(rng), json_value(rng, depth - 1)))
                .collect(),
        ),
    }
}

/// A request object with the envelope's keys and the actions' own, any values.
fn request_object(rng: &mut StdRng) -> Vec<u8> {
    const KEYS: [&str; 7] = [
        "requestId",
        "token",
        "user",
        "login",
        "password",
        "payload",
        "refreshToken",
    ];
    let mut object = Map::new();
    let action = match rng.gen_range(0..4) {
        0 => Value::from("user/getCurrent"),
        1 => Value::from("token"),
        2 => Value::from("user/updateCurrent"),
        _ => json_value(rng, 2),
    };
    object.insert("action".into(), action);
    for _ in 0..rng.gen_range(0..6) {
        let key = match rng.gen_range(0..3) {
            0 => nasty_text(rng),
            _ => KEYS
                .get(rng.gen_range(0..KEYS.len()))
                .copied()
                .unwrap_or("")
                .to_string(),
        };
        object.insert(key, json_value(rng, 3));
    }
    let text = Value::Object(object).to_string();
    // Now and then a truncated or corrupted copy.
    let mut bytes = text.into_bytes();
    match rng.gen_range(0..8) {
        0 => bytes.truncate(rng.gen_range(0..=bytes.len())),
        1 if !bytes.is_empty() => {
            let at = rng.gen_range(0..bytes.len());
            if let Some(b) = bytes.get_mut(at) {
                *b = rng.gen();
            }
        }
        _ => {}
    }
    bytes
}

#[test]
fn topics_are_safe_and_only_the_senders() {
    let mut rng = StdRng::seed_from_u64(0x7E57_0001);
    for _ in 0..CASES {
        let (action, id) = (nasty_text(&mut rng), nasty_text(&mut rng));
        let fault = response_topic_fault(&action, &id);
        assert_eq!(fault, None, "action {action:?}, client {id:?}");
    }
}

#[test]
fn any_bytes_decode_to_a_request_or_an_addressable_error() {
    let mut rng = StdRng::seed_from_u64(0x7E57_0002);
    for _ in 0..CASES {
        let len = rng.gen_range(0..64);
        let payload: Vec<u8> = (0..len).map(|_| rng.gen()).collect();
        let fault = answer_fault(&payload);
        assert_eq!(fault, None, "{:?}", String::from_utf8_lossy(&payload));
    }
}

#[test]
fn any_request_object_decodes_to_a_request_or_an_addressable_error() {
    let mut rng = StdRng::seed_from_u64(0x7E57_0003);
    for _ in 0..CASES {
        let payload = request_object(&mut rng);
        let fault = answer_fault(&payload);
        assert_eq!(fault, None, "{:?}", String::from_utf8_lossy(&payload));
    }
}
