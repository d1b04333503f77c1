//! The service's PostgreSQL connections to a loopback host are plain unless the URL chooses a
//! TLS mode: libpq's default would encrypt them whenever the server has TLS on, as Debian's
//! has.

use std::time::{Duration, Instant};

use dh_mqtt_plugin::db::{DbConn, DbPool, DbUrl};
use diesel::prelude::*;

use crate::support::{Backend, Stack};

#[derive(QueryableByName)]
struct Backends {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    tls: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    plain: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    plain_lock_holders: i64,
}

/// The other connections to this database, by TLS, and the plain ones holding an advisory
/// lock (the keeper lock's).
const OTHERS: &str = "SELECT count(*) FILTER (WHERE s.ssl) AS tls,
        count(*) FILTER (WHERE NOT s.ssl) AS plain,
        count(*) FILTER (WHERE NOT s.ssl AND EXISTS (SELECT 1 FROM pg_locks l
            WHERE l.pid = a.pid AND l.locktype = 'advisory' AND l.granted))
            AS plain_lock_holders
    FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid)
    WHERE a.datname = current_database() AND a.pid <> pg_backend_pid()";

#[derive(QueryableByName)]
struct Flag {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    on: bool,
}

/// A pool of one connection to `url`.
fn pg(url: &str) -> DbConn {
    let url = DbUrl::parse(url).unwrap_or_else(|e| panic!("{e}"));
    let pool = DbPool::open(&url, 1, Duration::from_secs(5)).unwrap_or_else(|e| panic!("{e}"));
    pool.get().unwrap_or_else(|e| panic!("{e}"))
}

fn flag(url: &str, sql: &str) -> bool {
    let DbConn::Postgres(mut c) = pg(url) else {
        panic!("a PostgreSQL connection")
    };
    diesel::sql_query(sql)
        .get_result::<Flag>(&mut *c)
        .unwrap_or_else(|e| panic!("{e}"))
        .on
}

#[test]
fn the_services_loopback_connections_are_plain_unless_the_url_chooses_tls() {
    let stack = Stack::start(Backend::Postgres);
    let url = stack.db.url.clone();
    assert!(
        url.contains("@127.0.0.1") || url.contains("@localhost"),
        "DH_TEST_POSTGRES_URL must name a loopback host for this test: {url}"
    );
    let DbConn::Postgres(mut c) = pg(&url) else {
        panic!("a PostgreSQL connection")
    };
    let started = Instant::now();
    let seen = loop {
        let seen = diesel::sql_query(OTHERS)
            .get_result::<Backends>(&mut *c)
            .unwrap_or_else(|e| panic!("{e}"));
        if seen.tls > 0
            || seen.plain_lock_holders > 0
            || started.elapsed() > Duration::from_secs(10)
        {
            break seen;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(
        seen.tls, 0,
        "no connection of the service uses TLS ({} plain)",
        seen.plain
    );
    assert_eq!(
        seen.plain_lock_holders, 1,
        "the keeper lock's connection is plain too"
    );
    assert!(
        seen.plain >= 2,
        "the pool's and the keeper's connections: {}",
        seen.plain
    );

    let server_tls = flag(&url, "SELECT current_setting('ssl') = 'on' AS on");
    let mine = "SELECT ssl AS on FROM pg_stat_ssl WHERE pid = pg_backend_pid()";
    assert_eq!(
        flag(&format!("{url}?sslmode=prefer"), mine),
        server_tls,
        "sslmode=prefer, chosen in the URL, uses TLS exactly when the server has it"
    );
}
