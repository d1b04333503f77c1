-- The service's own table (DeviceHive has none like it and none of its tables is touched):
-- the session `authenticate` bound to a verified MQTT client id, shared by every instance.
-- It holds the token's claims, never the token itself: a dump of it signs in nobody.
CREATE TABLE IF NOT EXISTS dh_mqtt_session (
    client_id varchar(256) NOT NULL,
    user_id bigint NOT NULL,
    claims text NOT NULL,
    expires_at bigint NOT NULL,
    bound_at bigint NOT NULL,
    CONSTRAINT dh_mqtt_session_pk PRIMARY KEY (client_id)
);
CREATE INDEX IF NOT EXISTS dh_mqtt_session_expires_at_idx ON dh_mqtt_session (expires_at);
