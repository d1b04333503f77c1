-- Only for a database this service owns (see the first migration). Never run by `migrate`.
DROP TABLE IF EXISTS user_device_type;
DROP TABLE IF EXISTS device_type;
