-- Only for a database this service owns: on a database shared with a DeviceHive server this
-- would drop the server's users. `dh-mqtt-plugin migrate` never runs it.
DROP TABLE IF EXISTS user_network;
DROP TABLE IF EXISTS network;
DROP TABLE IF EXISTS dh_user;
