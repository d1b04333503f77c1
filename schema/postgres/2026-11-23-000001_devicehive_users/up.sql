-- The DeviceHive server's user tables as its Flyway migrations leave them,
-- so this service can share a database with a DeviceHive installation.
-- Every statement tolerates what is already there: against an existing DeviceHive database
-- this migration changes nothing. No seed user: operators create accounts with `user add`.

CREATE SEQUENCE IF NOT EXISTS user_id_seq;
CREATE TABLE IF NOT EXISTS dh_user (
    id bigint NOT NULL DEFAULT nextval('user_id_seq'::regclass),
    login varchar(64) NOT NULL,
    password_hash varchar(128),
    password_salt varchar(64),
    role integer NOT NULL,
    status integer NOT NULL,
    login_attempts integer NOT NULL,
    last_login timestamp with time zone,
    entity_version bigint NOT NULL DEFAULT 0,
    data text,
    intro_reviewed boolean DEFAULT false,
    all_device_types_available boolean DEFAULT true,
    CONSTRAINT user_pk PRIMARY KEY (id),
    CONSTRAINT user_login_unique UNIQUE (login)
);
ALTER SEQUENCE user_id_seq OWNED BY dh_user.id;
CREATE UNIQUE INDEX IF NOT EXISTS user_login_idx ON dh_user (login);

CREATE SEQUENCE IF NOT EXISTS network_id_seq;
CREATE TABLE IF NOT EXISTS network (
    id bigint NOT NULL DEFAULT nextval('network_id_seq'::regclass),
    name varchar(128) NOT NULL,
    description varchar(128),
    entity_version bigint NOT NULL DEFAULT 0,
    CONSTRAINT network_pk PRIMARY KEY (id),
    CONSTRAINT network_name_unique UNIQUE (name)
);
ALTER SEQUENCE network_id_seq OWNED BY network.id;
CREATE UNIQUE INDEX IF NOT EXISTS network_name_idx ON network (name);

CREATE SEQUENCE IF NOT EXISTS user_network_id_seq;
CREATE TABLE IF NOT EXISTS user_network (
    id bigint NOT NULL DEFAULT nextval('user_network_id_seq'::regclass),
    user_id bigint NOT NULL,
    network_id bigint NOT NULL,
    entity_version bigint DEFAULT 0,
    CONSTRAINT user_network_pk PRIMARY KEY (id),
    CONSTRAINT user_network_user_pk FOREIGN KEY (user_id) REFERENCES dh_user (id),
    CONSTRAINT user_network_network_pk FOREIGN KEY (network_id) REFERENCES network (id)
);
ALTER SEQUENCE user_network_id_seq OWNED BY user_network.id;
CREATE INDEX IF NOT EXISTS user_network_user_id_network_id_idx ON user_network (user_id, network_id);
CREATE INDEX IF NOT EXISTS user_network_network_id_user_id_idx ON user_network (network_id, user_id);
