DROP TABLE dh_mqtt_broker_login;
