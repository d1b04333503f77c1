DROP TABLE dh_mqtt_session;
