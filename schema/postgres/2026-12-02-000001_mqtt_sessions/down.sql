DROP TABLE IF EXISTS dh_mqtt_session;
