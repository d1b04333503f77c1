-- The service's own broker-login table, as in schema/postgres.
CREATE TABLE dh_mqtt_broker_login (
    user_id BIGINT PRIMARY KEY NOT NULL,
    login VARCHAR(128) NOT NULL,
    salt VARCHAR(64) NOT NULL,
    verifier VARCHAR(64) NOT NULL
);
