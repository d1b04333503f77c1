//! The access decision for one client, one kind of access and one topic (or filter).
//!
//! A device's client id is its identity: the plugin refuses a CONNECT whose client id is not
//! [`is_valid_client_id`] or differs from the login, so "its own" below is safe to trust.

use crate::{is_valid_client_id, CREDENTIALS_TOPIC, NAMESPACE, REQUEST_TOPIC, RESPONSE_PREFIX};

/// Who is asking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Account {
    /// Any client that is not the service: a device, an application, a person.
    Device,
    /// One of the service's own broker accounts.
    Service,
}

/// What is asked for, as Mosquitto's ACL check names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// PUBLISH on a topic.
    Publish,
    /// Delivery of a message on a topic to this client.
    Read,
    /// SUBSCRIBE to a filter (wildcards allowed, `$share/{group}/` too).
    Subscribe,
    /// UNSUBSCRIBE from a filter.
    Unsubscribe,
}

/// The answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow,
    Deny,
    /// Outside `dh/`: the broker's other rules decide.
    Defer,
}

/// Whether `client_id` (of kind `account`) may have `access` to `topic`.
pub fn decide(account: Account, client_id: &str, access: Access, topic: &str) -> Decision {
    let topic = match access {
        Access::Subscribe | Access::Unsubscribe => strip_share(topic),
        Access::Publish | Access::Read => topic,
    };
    let covered = match access {
        Access::Subscribe | Access::Unsubscribe => filter_covers_namespace(topic),
        Access::Publish | Access::Read => first_level(topic) == NAMESPACE,
    };
    if !covered {
        return Decision::Defer;
    }
    // Leaving a subscription never reveals anything.
    if access == Access::Unsubscribe {
        return Decision::Allow;
    }
    let allowed = match account {
        Account::Service => service_may(access, topic),
        Account::Device => is_valid_client_id(client_id) && device_may(client_id, access, topic),
    };
    if allowed {
        Decision::Allow
    } else {
        Decision::Deny
    }
}

fn service_may(access: Access, topic: &str) -> bool {
    match access {
        Access::Publish => topic.starts_with(RESPONSE_PREFIX) || topic == CREDENTIALS_TOPIC,
        Access::Read => is_request_topic(topic),
        Access::Subscribe => matches!(topic, "dh/request" | "dh/request/+" | "dh/request/#"),
        Access::Unsubscribe => true,
    }
}

fn device_may(client_id: &str, access: Access, topic: &str) -> bool {
    match access {
        Access::Publish => {
            topic == REQUEST_TOPIC || request_owner(topic).is_some_and(|id| id == client_id)
        }
        Access::Read => response_owner(topic).is_some_and(|id| id == client_id),
        // No wildcard at all: `#` or a leading `+` covers other clients' answers, and a `+`
        // in the action part can be filled with a level holding an `@`, which moves the
        // owner (everything after the first `@`) off the client's id.
        Access::Subscribe => {
            !topic.contains(['+', '#']) && response_owner(topic).is_some_and(|id| id == client_id)
        }
        Access::Unsubscribe => true,
    }
}

/// The client id of `dh/response/{action}@{id}`: everything after the **first** `@`, so an
/// id containing `@` can never be made to match another client's topic.
fn response_owner(topic: &str) -> Option<&str> {
    let rest = topic.strip_prefix(RESPONSE_PREFIX)?;
    rest.split_once('@').map(|(_, owner)| owner)
}

/// The client id of `dh/request/{id}`.
fn request_owner(topic: &str) -> Option<&str> {
    topic.strip_prefix(REQUEST_TOPIC)?.strip_prefix('/')
}

fn is_request_topic(topic: &str) -> bool {
    topic == REQUEST_TOPIC || request_owner(topic).is_some()
}

fn first_level(topic: &str) -> &str {
    topic.split('/').next().unwrap_or("")
}

/// A filter could match a `dh/` topic when its first level is `dh` or a wildcard.
fn filter_covers_namespace(filter: &str) -> bool {
    matches!(first_level(filter), "dh" | "+" | "#")
}

/// `$share/{group}/{filter}` → `{filter}`; anything else unchanged.
fn strip_share(filter: &str) -> &str {
    filter
        .strip_prefix("$share/")
        .and_then(|rest| rest.split_once('/'))
        .map_or(filter, |(_, inner)| inner)
}

#[cfg(test)]
mod tests;
