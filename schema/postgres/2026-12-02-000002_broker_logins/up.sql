-- The service's own table: how the broker plugin checks a device's MQTT login without the
-- database or Argon2 (docs/OPERATIONS.md, "Device logins"). One row per user whose password
-- this service set: verifier = HMAC-SHA256(key, salt || password), the key derived from the
-- JWT secret and never stored. Status and the current login are read from dh_user itself;
-- `login` is the login when the password was set, so a deleted user can still be refused.
CREATE TABLE IF NOT EXISTS dh_mqtt_broker_login (
    user_id bigint NOT NULL,
    login varchar(128) NOT NULL,
    salt varchar(64) NOT NULL,
    verifier varchar(64) NOT NULL,
    CONSTRAINT dh_mqtt_broker_login_pk PRIMARY KEY (user_id)
);
