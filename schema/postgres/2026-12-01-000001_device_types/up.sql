-- DeviceHive's device_type and user_device_type tables (its V3_4_4 migration), created only
-- where missing: against a DeviceHive database this changes nothing. DeviceHive seeds a
-- "Default Device Type"; this service seeds nothing (operators and admins create rows).

CREATE SEQUENCE IF NOT EXISTS device_type_id_seq;
CREATE TABLE IF NOT EXISTS device_type (
    id bigint NOT NULL DEFAULT nextval('device_type_id_seq'::regclass),
    name varchar(128) NOT NULL,
    description varchar(128),
    entity_version bigint NOT NULL DEFAULT 0,
    CONSTRAINT device_type_pk PRIMARY KEY (id),
    CONSTRAINT device_type_name_unique UNIQUE (name)
);
ALTER SEQUENCE device_type_id_seq OWNED BY device_type.id;

CREATE SEQUENCE IF NOT EXISTS user_device_type_id_seq;
CREATE TABLE IF NOT EXISTS user_device_type (
    id bigint NOT NULL DEFAULT nextval('user_device_type_id_seq'::regclass),
    user_id bigint NOT NULL,
    device_type_id bigint NOT NULL,
    entity_version bigint DEFAULT 0,
    CONSTRAINT user_device_type_pk PRIMARY KEY (id),
    CONSTRAINT user_device_type_user_pk FOREIGN KEY (user_id) REFERENCES dh_user (id),
    CONSTRAINT user_device_type_device_type_pk FOREIGN KEY (device_type_id) REFERENCES device_type (id)
);
ALTER SEQUENCE user_device_type_id_seq OWNED BY user_device_type.id;
-- DeviceHive has no index here; the per-user lookups and the cascade of user/delete need one.
CREATE INDEX IF NOT EXISTS user_device_type_user_id_device_type_id_idx
    ON user_device_type (user_id, device_type_id);
