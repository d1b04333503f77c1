-- DeviceHive's device_type and user_device_type tables, as in schema/postgres.

CREATE TABLE device_type (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    name VARCHAR(128) NOT NULL,
    description VARCHAR(128),
    entity_version BIGINT NOT NULL DEFAULT 0,
    CONSTRAINT device_type_name_unique UNIQUE (name)
);

CREATE TABLE user_device_type (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    user_id BIGINT NOT NULL REFERENCES dh_user (id),
    device_type_id BIGINT NOT NULL REFERENCES device_type (id),
    entity_version BIGINT DEFAULT 0
);
CREATE INDEX user_device_type_user_id_device_type_id_idx
    ON user_device_type (user_id, device_type_id);
