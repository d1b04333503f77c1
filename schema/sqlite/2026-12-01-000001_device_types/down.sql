DROP TABLE user_device_type;
DROP TABLE device_type;
