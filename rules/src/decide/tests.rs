use proptest::prelude::*;

use super::*;
use crate::MAX_CLIENT_ID_BYTES;

use Access::*;
use Decision::*;

fn device(id: &str, access: Access, topic: &str) -> Decision {
    decide(Account::Device, id, access, topic)
}

#[test]
fn devices_publish_only_their_requests() {
    assert_eq!(device("alice", Publish, "dh/request/alice"), Allow);
    assert_eq!(device("alice", Publish, "dh/request"), Allow);
    for topic in [
        "dh/request/bob",
        "dh/request/alice/x",
        "dh/request/",
        "dh/response/user/getCurrent@alice",
        "dh/plugin/credentials",
        "dh",
        "dh/",
    ] {
        assert_eq!(device("alice", Publish, topic), Deny, "{topic}");
    }
    assert_eq!(device("alice", Publish, "sensors/alice"), Defer);
}

#[test]
fn devices_read_every_answer_of_their_own_and_nothing_else() {
    for topic in [
        "dh/response/user/getCurrent@alice",
        "dh/response/user/get@alice",
        "dh/response/@alice",
        "dh/response/anything/at/all@alice",
    ] {
        assert_eq!(device("alice", Read, topic), Allow, "{topic}");
    }
    for topic in [
        "dh/response/user/getCurrent@bob",
        "dh/response/user/getCurrent@alice@bob",
        "dh/response/x@bob@alice",
        "dh/response/user/getCurrent@alicex",
        "dh/response/user/getCurrent",
        "dh/request/alice",
        "dh/plugin/credentials",
    ] {
        assert_eq!(device("alice", Read, topic), Deny, "{topic}");
    }
}

#[test]
fn subscriptions_covering_other_clients_are_refused() {
    for filter in [
        "dh/response/user/getCurrent@alice",
        "dh/response/@alice",
        "$share/g/dh/response/user/get@alice",
    ] {
        assert_eq!(device("alice", Subscribe, filter), Allow, "{filter}");
    }
    for filter in [
        "#",
        "+/#",
        "+/response/x@alice",
        "dh/#",
        "dh/response/#",
        "dh/response/+",
        "dh/request/#",
        "dh/request/alice",
        "dh/response/user/getCurrent@bob",
        "dh/response/x@alice/#",
        "dh/response/+/getCurrent@alice",
        "dh/response/+/@alice",
        "$share/g/dh/request/#",
    ] {
        assert_eq!(device("alice", Subscribe, filter), Deny, "{filter}");
    }
    assert_eq!(device("alice", Subscribe, "sensors/#"), Defer);
    assert_eq!(device("alice", Unsubscribe, "dh/#"), Allow);
}

#[test]
fn invalid_client_ids_get_nothing() {
    for id in ["", "a+b", "a#", "a/b", "vic@atk", "a\u{1}"] {
        assert_eq!(
            device(id, Publish, &format!("dh/request/{id}")),
            Deny,
            "{id:?}"
        );
        assert_eq!(
            device(id, Read, &format!("dh/response/x@{id}")),
            Deny,
            "{id:?}"
        );
    }
    let long = "x".repeat(MAX_CLIENT_ID_BYTES + 1);
    assert_eq!(device(&long, Read, &format!("dh/response/x@{long}")), Deny);
}

#[test]
fn the_service_reads_requests_and_writes_answers() {
    let service = |access, topic| decide(Account::Service, "dhplugin", access, topic);
    assert_eq!(service(Publish, "dh/response/user/getCurrent@alice"), Allow);
    assert_eq!(service(Publish, "dh/plugin/credentials"), Allow);
    assert_eq!(service(Publish, "dh/request/alice"), Deny);
    assert_eq!(service(Read, "dh/request/alice"), Allow);
    assert_eq!(service(Read, "dh/request"), Allow);
    assert_eq!(service(Read, "dh/response/x@alice"), Deny);
    assert_eq!(service(Read, "dh/plugin/credentials"), Deny);
    assert_eq!(service(Subscribe, "$share/dhplugin/dh/request/+"), Allow);
    assert_eq!(service(Subscribe, "dh/request"), Allow);
    assert_eq!(service(Subscribe, "dh/#"), Deny);
    assert_eq!(service(Subscribe, "other/#"), Defer);
}

// ---- properties -------------------------------------------------------------------------

/// MQTT topic matching, written independently of the rules: `+` one level, `#` the rest.
fn matches(filter: &str, topic: &str) -> bool {
    let mut f = filter.split('/');
    let mut t = topic.split('/');
    loop {
        match (f.next(), t.next()) {
            (Some("#"), _) => return true,
            (Some("+"), Some(_)) => {}
            (Some(a), Some(b)) if a == b => {}
            (None, None) => return true,
            _ => return false,
        }
    }
}

const IDS: &[&str] = &["a", "b", "ab", "a@b", "b@a", "", "a+", "x/y"];

fn level() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("dh".to_string()),
        Just("request".to_string()),
        Just("response".to_string()),
        Just("plugin".to_string()),
        Just("user".to_string()),
        Just("+".to_string()),
        Just("#".to_string()),
        Just("".to_string()),
        prop::sample::select(IDS).prop_map(|id| format!("x@{id}")),
        prop::sample::select(IDS).prop_map(|id| format!("@{id}")),
        prop::sample::select(IDS).prop_map(str::to_string),
        "[a-z@+#]{0,4}",
    ]
}

/// Random levels, half of them under `dh/response/` or `dh/request/` so that grants and
/// matches are common.
fn topic_text() -> impl Strategy<Value = String> {
    let levels = prop::collection::vec(level(), 1..6).prop_map(|levels| levels.join("/"));
    (
        prop::sample::select(&["", "dh/response/", "dh/request/"][..]),
        levels,
    )
        .prop_map(|(prefix, rest)| format!("{prefix}{rest}"))
}

fn concrete(filter: &str, fill: &[String]) -> String {
    let mut fill = fill.iter().cycle();
    filter
        .split('/')
        .map(|l| match l {
            "+" | "#" => fill.next().cloned().unwrap_or_default(),
            other => other.to_string(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

fn cases() -> ProptestConfig {
    ProptestConfig::with_cases(100_000)
}

proptest! {
    #![proptest_config(cases())]

    /// A device reads a topic only when it is a response topic whose part after the first
    /// `@` is exactly its own valid id.
    #[test]
    fn reads_are_only_ones_own(id in prop::sample::select(IDS), topic in topic_text()) {
        if device(id, Read, &topic) == Allow {
            let rest = topic.strip_prefix(RESPONSE_PREFIX);
            prop_assert!(rest.is_some(), "{topic}");
            let owner = rest.and_then(|r| r.split_once('@')).map(|(_, o)| o);
            prop_assert_eq!(owner, Some(id));
            prop_assert!(is_valid_client_id(id));
        }
    }

    /// No subscription a device is granted matches a `dh/` topic it may not read.
    #[test]
    fn granted_subscriptions_cover_only_ones_own(
        id in prop::sample::select(IDS),
        filter in topic_text(),
        topic in topic_text(),
    ) {
        if device(id, Subscribe, &filter) == Allow
            && matches(&filter, &topic)
            && topic.split('/').next() == Some("dh")
        {
            prop_assert_eq!(device(id, Read, &topic), Allow, "{} covers {}", filter, topic);
        }
    }

    /// The same, with the topic made from the filter itself so that matches are common.
    #[test]
    fn granted_subscriptions_filled_in(
        id in prop::sample::select(IDS),
        filter in topic_text(),
        fill in prop::collection::vec(level(), 1..4),
    ) {
        let topic = concrete(&filter, &fill);
        if device(id, Subscribe, &filter) == Allow && matches(&filter, &topic) {
            prop_assert_eq!(device(id, Read, &topic), Allow, "{} covers {}", filter, topic);
        }
    }

    /// A device publishes in `dh/` only on `dh/request` and its own request topic.
    #[test]
    fn publishes_are_only_ones_own(id in prop::sample::select(IDS), topic in topic_text()) {
        match device(id, Publish, &topic) {
            Allow => {
                let own = format!("dh/request/{id}");
                prop_assert!(topic == "dh/request" || topic == own, "{}", topic);
            }
            Defer => prop_assert_ne!(topic.split('/').next(), Some("dh")),
            Deny => {}
        }
    }

    /// Arbitrary text never panics, and the service never reads answers.
    #[test]
    fn any_text_is_decided(id in "\\PC{0,8}", topic in "\\PC{0,40}") {
        for access in [Publish, Read, Subscribe, Unsubscribe] {
            let _ = device(&id, access, &topic);
        }
        if topic.starts_with(RESPONSE_PREFIX) {
            prop_assert_ne!(decide(Account::Service, &id, Read, &topic), Allow);
        }
    }
}
