//! The DeviceHive tables, portable between PostgreSQL and SQLite. `last_login` is
//! `timestamptz` on PostgreSQL; it is declared `Timestamp` here and every PostgreSQL connection
//! runs `SET TIME ZONE 'UTC'` (see `db::pool`), so values are written and read as UTC.

diesel::table! {
    dh_user (id) {
        id -> BigInt,
        login -> Varchar,
        password_hash -> Nullable<Varchar>,
        password_salt -> Nullable<Varchar>,
        role -> Integer,
        status -> Integer,
        login_attempts -> Integer,
        last_login -> Nullable<Timestamp>,
        entity_version -> BigInt,
        data -> Nullable<Text>,
        intro_reviewed -> Nullable<Bool>,
        all_device_types_available -> Nullable<Bool>,
    }
}

diesel::table! {
    network (id) {
        id -> BigInt,
        name -> Varchar,
        description -> Nullable<Varchar>,
        entity_version -> BigInt,
    }
}

diesel::table! {
    user_network (id) {
        id -> BigInt,
        user_id -> BigInt,
        network_id -> BigInt,
        entity_version -> Nullable<BigInt>,
    }
}

diesel::table! {
    device_type (id) {
        id -> BigInt,
        name -> Varchar,
        description -> Nullable<Varchar>,
        entity_version -> BigInt,
    }
}

diesel::table! {
    user_device_type (id) {
        id -> BigInt,
        user_id -> BigInt,
        device_type_id -> BigInt,
        entity_version -> Nullable<BigInt>,
    }
}

diesel::joinable!(user_network -> dh_user (user_id));
diesel::joinable!(user_network -> network (network_id));
diesel::joinable!(user_device_type -> dh_user (user_id));
diesel::joinable!(user_device_type -> device_type (device_type_id));
diesel::allow_tables_to_appear_in_same_query!(
    dh_user,
    network,
    user_network,
    device_type,
    user_device_type
);

// The service's own table (not DeviceHive's): sessions bound by `authenticate`.
diesel::table! {
    dh_mqtt_session (client_id) {
        client_id -> Varchar,
        user_id -> BigInt,
        claims -> Text,
        expires_at -> BigInt,
        bound_at -> BigInt,
    }
}

// The service's own table (not DeviceHive's): device logins the broker plugin checks.
diesel::table! {
    dh_mqtt_broker_login (user_id) {
        user_id -> BigInt,
        login -> Varchar,
        salt -> Varchar,
        verifier -> Varchar,
    }
}

diesel::joinable!(dh_mqtt_broker_login -> dh_user (user_id));
diesel::allow_tables_to_appear_in_same_query!(dh_mqtt_broker_login, dh_user);
