DROP TABLE IF EXISTS dh_mqtt_broker_login;
