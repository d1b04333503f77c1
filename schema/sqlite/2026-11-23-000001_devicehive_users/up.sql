-- The same logical schema as schema/postgres for the embedded SQLite default. Column names,
-- types and defaults follow DeviceHive's dh_user, network and user_network.

CREATE TABLE dh_user (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    login VARCHAR(64) NOT NULL,
    password_hash VARCHAR(128),
    password_salt VARCHAR(64),
    role INTEGER NOT NULL,
    status INTEGER NOT NULL,
    login_attempts INTEGER NOT NULL DEFAULT 0,
    last_login TIMESTAMP,
    entity_version BIGINT NOT NULL DEFAULT 0,
    data TEXT,
    intro_reviewed BOOLEAN DEFAULT 0,
    all_device_types_available BOOLEAN DEFAULT 1,
    CONSTRAINT user_login_unique UNIQUE (login)
);

CREATE TABLE network (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    name VARCHAR(128) NOT NULL,
    description VARCHAR(128),
    entity_version BIGINT NOT NULL DEFAULT 0,
    CONSTRAINT network_name_unique UNIQUE (name)
);

CREATE TABLE user_network (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    user_id BIGINT NOT NULL REFERENCES dh_user (id),
    network_id BIGINT NOT NULL REFERENCES network (id),
    entity_version BIGINT DEFAULT 0
);
CREATE INDEX user_network_user_id_network_id_idx ON user_network (user_id, network_id);
CREATE INDEX user_network_network_id_user_id_idx ON user_network (network_id, user_id);
