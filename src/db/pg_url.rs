//! What every PostgreSQL connection of the service (pool, keeper lock, migrations) adds to a
//! URL that does not say it itself: libpq's timeouts, and the TLS mode on a loopback host.
//!
//! libpq's default TLS mode, `sslmode=prefer`, encrypts a connection to 127.0.0.1 whenever the
//! server has TLS on (Debian's packages do), though nothing can be overheard there: every query
//! then pays encryption in the service and in the server (docs/PERFORMANCE.md, item 29). Where
//! the user chose no mode, a loopback URL gets `sslmode=allow`: plain first, TLS only if the
//! server insists (a `hostssl`-only `pg_hba.conf` still connects). Neither mode checks a
//! certificate, so nothing is weakened.

/// libpq settings added when the URL does not set them: connecting gives up after 2 s, and a
/// connection whose peer is gone (no ACKs, no keepalive answers) errors within about 5 s
/// instead of the kernel's 15 minutes.
const LIBPQ_DEFAULTS: [(&str, &str); 6] = [
    ("connect_timeout", "2"),
    ("keepalives", "1"),
    ("keepalives_idle", "2"),
    ("keepalives_interval", "1"),
    ("keepalives_count", "3"),
    ("tcp_user_timeout", "5000"),
];

/// Keys by which the URL chooses the TLS mode, or the host (a `host=` may be a socket).
const CHOOSES_TLS: [&str; 5] = ["sslmode", "requiressl", "service", "host", "hostaddr"];

/// `url` with the [`LIBPQ_DEFAULTS`] it does not set and, on a loopback host where neither the
/// URL nor the environment ([`env_chooses_tls`]) chooses a TLS mode, `sslmode=allow`.
fn with_libpq_defaults(url: &str, env_chooses: bool) -> String {
    let query = url.split_once('?').map_or("", |(_, q)| q);
    let set: Vec<&str> = query
        .split('&')
        .filter_map(|kv| kv.split('=').next())
        .collect();
    let plain = !env_chooses
        && is_loopback(host_of(url))
        && !CHOOSES_TLS.iter().any(|key| set.contains(key));
    let added = LIBPQ_DEFAULTS
        .into_iter()
        .filter(|(key, _)| !set.contains(key))
        .chain(plain.then_some(("sslmode", "allow")));
    let mut out = url.to_string();
    for (key, value) in added {
        if !out.ends_with('?') {
            out.push(if out.contains('?') { '&' } else { '?' });
        }
        out.push_str(&format!("{key}={value}"));
    }
    out
}

/// The URL every connection of the service is opened with: [`with_libpq_defaults`] in this
/// process's environment.
pub fn libpq_url(url: &str) -> String {
    with_libpq_defaults(url, env_chooses_tls())
}

/// Whether the environment chooses the TLS mode for libpq (`PGSSLMODE`, or a service file's
/// entry by `PGSERVICE`).
fn env_chooses_tls() -> bool {
    std::env::var_os("PGSSLMODE").is_some() || std::env::var_os("PGSERVICE").is_some()
}

/// The host part of `scheme://[user[:password]@]host[:port][/db][?query]`.
fn host_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or("", |(_, rest)| rest);
    let authority = rest.split(['/', '?']).next().unwrap_or("");
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, hp)| hp);
    match host_port.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => host_port.split(':').next().unwrap_or(""),
    }
}

/// One loopback host. An empty host is a Unix socket, where libpq never uses TLS; a list of
/// hosts is left as it is.
fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host == "::1"
        || host
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::with_libpq_defaults as with;

    const TIMEOUTS: &str = "connect_timeout=2&keepalives=1&keepalives_idle=2&\
                            keepalives_interval=1&keepalives_count=3&tcp_user_timeout=5000";

    #[test]
    fn adds_the_libpq_timeouts_a_url_does_not_set() {
        assert_eq!(
            with("postgres://u@h/db", false),
            format!("postgres://u@h/db?{TIMEOUTS}")
        );
        let own = with("postgres://u@h/db?sslmode=require&connect_timeout=9", false);
        assert!(
            own.starts_with("postgres://u@h/db?sslmode=require&connect_timeout=9&keepalives=1"),
            "{own}"
        );
        assert_eq!(own.matches("connect_timeout").count(), 1, "{own}");
    }

    #[test]
    fn loopback_urls_without_a_tls_mode_connect_plain_first() {
        for (url, then) in [
            ("postgres://u:pw@127.0.0.1:5432/db", "?"),
            ("postgresql://localhost/db?", ""),
            ("postgres://u@[::1]:5433/db?application_name=x", "&"),
            ("postgres://u:p@ss@127.0.0.2", "?"),
        ] {
            assert_eq!(
                with(url, false),
                format!("{url}{then}{TIMEOUTS}&sslmode=allow")
            );
        }
    }

    #[test]
    fn a_chosen_tls_mode_or_another_host_is_left_alone() {
        for url in [
            "postgres://u@127.0.0.1/db?sslmode=require",
            "postgres://u@127.0.0.1/db?a=1&sslmode=disable",
            "postgres://u@localhost/db?service=dh",
            "postgres://u@localhost/db?host=/var/run/postgresql",
            "postgres://u@db.example.com/db",
            "postgres://u@10.0.0.5:5432/db",
            "postgres://u@127.0.0.1,10.0.0.5/db",
            "postgres:///db",
        ] {
            assert!(!with(url, false).ends_with("sslmode=allow"), "{url}");
        }
        assert!(!with("postgres://u@127.0.0.1/db", true).contains("sslmode"));
    }
}
