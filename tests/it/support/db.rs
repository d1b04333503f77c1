//! A database per test: a SQLite file in a temporary directory, or a PostgreSQL database
//! created on the local server and dropped (with its connections) when the test ends.

use std::time::Duration;

use dh_mqtt_plugin::auth::jwt::{now_ms, Claims, JwtKeys, TokenType};
use dh_mqtt_plugin::auth::password::{hash, HashScheme};
use dh_mqtt_plugin::db::model::{NewUser, UserRow};
use dh_mqtt_plugin::db::{migrate, user_repo, DbConn, DbPool, DbUrl};
use dh_mqtt_plugin::model::{Role, UserStatus};
use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};
use tempfile::TempDir;

use super::{unique, TEST_JWT_SECRET};

/// Where the tests find PostgreSQL's maintenance database.
fn admin_url() -> String {
    std::env::var("DH_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://dh_test:dh_test@127.0.0.1:5432/postgres".to_string())
}

/// Which backend a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A SQLite file.
    Sqlite,
    /// A PostgreSQL database.
    Postgres,
}

/// A migrated, empty database owned by one test.
pub struct TestDb {
    /// `DATABASE_URL` for the service.
    pub url: String,
    pool: DbPool,
    pg_name: Option<String>,
    _dir: Option<TempDir>,
}

impl TestDb {
    /// Creates and migrates a database.
    pub fn new(backend: Backend) -> TestDb {
        let db = Self::empty(backend);
        migrate::run(&db.db_url()).unwrap_or_else(|e| panic!("migrations failed: {e:#}"));
        db
    }

    /// Creates a database without running the migrations.
    pub fn empty(backend: Backend) -> TestDb {
        let (url, pg_name, dir) = match backend {
            Backend::Sqlite => {
                let dir = TempDir::new().unwrap_or_else(|e| panic!("temp dir: {e}"));
                let url = format!("sqlite://{}/dh.sqlite", dir.path().display());
                (url, None, Some(dir))
            }
            Backend::Postgres => {
                let name = unique("dh_test");
                admin_sql(&format!("CREATE DATABASE {name}"));
                let base = admin_url();
                let url = match base.rsplit_once('/') {
                    Some((server, _)) => format!("{server}/{name}"),
                    None => panic!("DH_TEST_POSTGRES_URL must end in /DATABASE"),
                };
                (url, Some(name), None)
            }
        };
        let parsed = DbUrl::parse(&url).unwrap_or_else(|e| panic!("{e}"));
        let pool = match DbPool::open(&parsed, 2, Duration::from_secs(5)) {
            Ok(pool) => pool,
            Err(e) => panic!("cannot open {url}: {e}"),
        };
        TestDb {
            url,
            pool,
            pg_name,
            _dir: dir,
        }
    }

    /// The parsed URL.
    pub fn db_url(&self) -> DbUrl {
        DbUrl::parse(&self.url).unwrap_or_else(|e| panic!("{e}"))
    }

    /// The PostgreSQL database's name, for staging faults on it (panics on SQLite).
    pub fn pg_name(&self) -> &str {
        self.pg_name.as_deref().expect("a PostgreSQL test database")
    }

    /// A connection for setting up and checking data.
    pub fn conn(&self) -> DbConn {
        self.pool
            .get()
            .unwrap_or_else(|e| panic!("no connection: {e}"))
    }

    /// Runs raw SQL (setup only).
    pub fn sql(&self, sql: &str) {
        let mut conn = self.conn();
        let result = dh_mqtt_plugin::with_conn!(&mut conn, |c| c.batch_execute(sql));
        result.unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    /// Creates an active user with an Argon2id password and returns its id.
    pub fn add_user(&self, login: &str, password: &str, role: Role) -> i64 {
        let stored = hash(password, HashScheme::Argon2id).unwrap_or_else(|e| panic!("{e}"));
        user_repo::insert_user(&mut self.conn(), &NewUser::active(login, stored, role))
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// Reads a user row.
    pub fn user(&self, id: i64) -> UserRow {
        user_repo::find_by_id(&mut self.conn(), id)
            .unwrap_or_else(|e| panic!("{e}"))
            .unwrap_or_else(|| panic!("no user {id}"))
    }

    /// Every column of every row of the user, network and device-type tables and their
    /// links, for comparing the database before and after a request.
    pub fn dump(&self) -> String {
        use dh_mqtt_plugin::db::schema::{device_type, network, user_device_type, user_network};
        use diesel::prelude::*;
        let mut conn = self.conn();
        let users = user_repo::list_users(&mut conn).unwrap_or_else(|e| panic!("{e}"));
        let mut out: String = users
            .iter()
            .map(|u| {
                format!(
                    "user {} {} {:?} {:?} {} {} {} {:?} {:?} {:?} {:?}\n",
                    u.id,
                    u.login,
                    u.password_hash,
                    u.password_salt,
                    u.role,
                    u.status,
                    u.login_attempts,
                    u.last_login,
                    u.data,
                    u.intro_reviewed,
                    u.all_device_types_available
                )
            })
            .collect();
        let dumped = dh_mqtt_plugin::with_conn!(&mut conn, |c| (|| -> QueryResult<String> {
            let networks: Vec<(i64, String, Option<String>, i64)> = network::table
                .select((
                    network::id,
                    network::name,
                    network::description,
                    network::entity_version,
                ))
                .order(network::id)
                .load(c)?;
            let types: Vec<(i64, String, Option<String>, i64)> = device_type::table
                .select((
                    device_type::id,
                    device_type::name,
                    device_type::description,
                    device_type::entity_version,
                ))
                .order(device_type::id)
                .load(c)?;
            let network_links: Vec<(i64, i64, i64)> = user_network::table
                .select((
                    user_network::id,
                    user_network::user_id,
                    user_network::network_id,
                ))
                .order(user_network::id)
                .load(c)?;
            let type_links: Vec<(i64, i64, i64)> = user_device_type::table
                .select((
                    user_device_type::id,
                    user_device_type::user_id,
                    user_device_type::device_type_id,
                ))
                .order(user_device_type::id)
                .load(c)?;
            Ok(format!(
                "networks {networks:?}\ndevice types {types:?}\nuser_network {network_links:?}\nuser_device_type {type_links:?}\n"
            ))
        })());
        out.push_str(&dumped.unwrap_or_else(|e| panic!("dump: {e}")));
        out
    }

    /// Links a user to a network.
    pub fn assign_network(&self, user_id: i64, network_id: i64) {
        assign_network(&mut self.conn(), user_id, network_id);
    }

    /// Sets a user's status.
    pub fn set_status(&self, id: i64, status: UserStatus) {
        user_repo::set_status(&mut self.conn(), id, status).unwrap_or_else(|e| panic!("{e}"));
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(name) = &self.pg_name {
            admin_sql(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        }
    }
}

/// Links a user to a network with `user/assignNetwork`'s own operation.
pub fn assign_network(conn: &mut DbConn, user_id: i64, network_id: i64) {
    use dh_mqtt_plugin::db::directory::DirectoryOp;
    use dh_mqtt_plugin::db::user_links::{AssignNetwork, Link};
    let link = Link {
        user_id,
        other_id: network_id,
    };
    AssignNetwork(link)
        .run(conn)
        .unwrap_or_else(|e| panic!("assign network: {e:?}"));
}

/// Runs SQL on PostgreSQL's maintenance database.
pub fn admin_sql(sql: &str) {
    let url = admin_url();
    let mut conn = PgConnection::establish(&url).unwrap_or_else(|e| {
        panic!(
            "PostgreSQL is not reachable at {url} ({e}): run `deploy/test.sh` (it installs and starts PostgreSQL and creates the dh_test role), \
             or point DH_TEST_POSTGRES_URL at a server where this user may create databases"
        )
    });
    conn.batch_execute(sql)
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// Test tokens, signed with [`TEST_JWT_SECRET`].
pub struct Tokens(JwtKeys);

impl Tokens {
    /// The tests' signing keys.
    pub fn new() -> Tokens {
        Tokens(JwtKeys::new(TEST_JWT_SECRET.as_bytes()))
    }

    /// A token with exactly these claims.
    pub fn mint(&self, claims: &Claims) -> String {
        self.0.mint(claims).unwrap_or_else(|e| panic!("{e}"))
    }

    /// A login-style access token for `user_id`, valid for 30 minutes.
    pub fn access(&self, user_id: i64, role: Role) -> String {
        self.mint(&Self::claims(
            user_id,
            role,
            TokenType::Access,
            now_ms() + 1_800_000,
        ))
    }

    /// Login-style claims.
    pub fn claims(user_id: i64, role: Role, t: TokenType, expires_ms: i64) -> Claims {
        Claims::for_login(user_id, role, &[], true, t, expires_ms)
    }

    /// An access token granting only `actions`.
    pub fn with_actions(&self, user_id: i64, actions: &[i64]) -> String {
        let mut claims = Self::claims(
            user_id,
            Role::Client,
            TokenType::Access,
            now_ms() + 1_800_000,
        );
        claims.a = Some(actions.to_vec());
        self.mint(&claims)
    }
}
