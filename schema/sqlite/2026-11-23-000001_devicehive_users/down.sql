DROP TABLE user_network;
DROP TABLE network;
DROP TABLE dh_user;
