-- The service's own session table, as in schema/postgres.
CREATE TABLE dh_mqtt_session (
    client_id VARCHAR(256) PRIMARY KEY NOT NULL,
    user_id BIGINT NOT NULL,
    claims TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    bound_at BIGINT NOT NULL
);
CREATE INDEX dh_mqtt_session_expires_at_idx ON dh_mqtt_session (expires_at);
