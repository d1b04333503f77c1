//! The user-management family over MQTT on both databases: every action's success, each
//! DeviceHive error row, the permission checks (client token, token without the action,
//! administrator), the safer rules (docs/PROTOCOL.md section 5), and that no error answer
//! changes the database.

use dh_mqtt_plugin::auth::password;
use dh_mqtt_plugin::db::user_repo;
use dh_mqtt_plugin::model::Role;
use serde_json::{json, Value};

use crate::both_backends;
use crate::support::{error_of, Stack, TestClient};

/// A stack with users, networks and device types to act on.
struct World {
    stack: Stack,
    client: TestClient,
    /// An administrator.
    root: i64,
    /// A client-role user whose token holds the management actions.
    carol: i64,
    /// Another client-role user.
    dave: i64,
    /// A second administrator.
    boss: i64,
    net_a: i64,
    net_b: i64,
    cameras: i64,
    sensors: i64,
    /// root's login token (every action).
    admin: String,
    /// carol with ManageUser, GetNetwork, ManageNetwork, GetDeviceType, ManageDeviceType.
    manager: String,
    /// carol's login token (the CLIENT action set).
    plain: String,
    /// carol with GetCurrentUser only.
    narrow: String,
}

impl World {
    fn new(backend: crate::support::Backend) -> World {
        let stack = Stack::start(backend);
        let root = stack.db.add_user("root", "secret1", Role::Admin);
        let carol = stack.db.add_user("carol", "secret1", Role::Client);
        let dave = stack.db.add_user("dave", "secret1", Role::Client);
        let boss = stack.db.add_user("boss", "secret1", Role::Admin);
        let mut conn = stack.db.conn();
        let net_a = user_repo::insert_network(&mut conn, "Plant A", Some("line 1")).unwrap();
        let net_b = user_repo::insert_network(&mut conn, "Plant B", None).unwrap();
        let cameras = user_repo::insert_device_type(&mut conn, "Cameras", Some("video")).unwrap();
        let sensors = user_repo::insert_device_type(&mut conn, "Sensors", None).unwrap();
        crate::support::db::assign_network(&mut conn, dave, net_a);
        drop(conn);
        let admin = stack.tokens.access(root, Role::Admin);
        let manager = stack.tokens.with_actions(carol, &[2, 12, 14, 17, 18]);
        let plain = stack.tokens.access(carol, Role::Client);
        let narrow = stack.tokens.with_actions(carol, &[10]);
        let client = stack.client("alice");
        World {
            stack,
            client,
            root,
            carol,
            dave,
            boss,
            net_a,
            net_b,
            cameras,
            sensors,
            admin,
            manager,
            plain,
            narrow,
        }
    }

    /// Sends `body` (an object) with `token`.
    fn call(&self, token: &str, mut body: Value) -> Value {
        body["token"] = json!(token);
        self.client.request(body)
    }

    /// Sends `body` with `token`, expects success, returns the answer.
    fn ok(&self, token: &str, body: Value) -> Value {
        let answer = self.call(token, body.clone());
        assert_eq!(answer["status"], "success", "{body} -> {answer}");
        answer
    }

    /// Sends `body` with `token` and checks the error answer and that nothing changed.
    fn refused(&self, token: &str, body: Value, code: i64, text: &str) {
        let before = self.stack.db.dump();
        let answer = self.call(token, body.clone());
        assert_eq!(
            error_of(&answer),
            (code, text.to_string()),
            "{body} -> {answer}"
        );
        assert_eq!(before, self.stack.db.dump(), "{body} changed the database");
    }
}

/// Keys of a JSON object, in order.
fn keys(v: &Value) -> Vec<&str> {
    v.as_object()
        .map(|m| m.keys().map(String::as_str).collect())
        .unwrap_or_default()
}

fn logins(answer: &Value) -> Vec<String> {
    answer["users"]
        .as_array()
        .map(|users| {
            users
                .iter()
                .map(|u| u["login"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

const LISTED: [&str; 8] = [
    "id",
    "login",
    "role",
    "status",
    "lastLogin",
    "data",
    "introReviewed",
    "allDeviceTypesAvailable",
];

both_backends! {
    fn list_and_count_filter_sort_and_page(backend) {
        let w = World::new(backend);
        let all = w.ok(&w.admin, json!({"action": "user/list"}));
        assert_eq!(logins(&all), ["root", "carol", "dave", "boss"], "by id without sortField");
        assert_eq!(keys(&all["users"][0]), LISTED);
        let sorted = w.ok(&w.manager, json!({"action": "user/list", "sortField": "LOGIN", "sortOrder": "desc"}));
        assert_eq!(logins(&sorted), ["root", "dave", "carol", "boss"]);
        let page = w.ok(&w.admin, json!({"action": "user/list", "sortField": "id", "take": 2, "skip": 1}));
        assert_eq!(logins(&page), ["carol", "dave"]);
        let none = w.ok(&w.admin, json!({"action": "user/list", "take": 0}));
        assert_eq!(none["users"], json!([]));
        let clients = w.ok(&w.admin, json!({"action": "user/list", "role": 1}));
        assert_eq!(logins(&clients), ["carol", "dave"]);
        let odd_role = w.ok(&w.admin, json!({"action": "user/list", "role": 99}));
        assert_eq!(odd_role["users"], json!([]));
        let exact = w.ok(&w.admin, json!({"action": "user/list", "login": "dave"}));
        assert_eq!(logins(&exact), ["dave"]);
        // A LIKE pattern, case-sensitive on both databases; it wins over `login`.
        let pattern = w.ok(&w.admin, json!({"action": "user/list", "loginPattern": "%o%", "login": "dave"}));
        assert_eq!(logins(&pattern), ["root", "carol", "boss"]);
        let upper = w.ok(&w.admin, json!({"action": "user/list", "loginPattern": "ROO%"}));
        assert_eq!(upper["users"], json!([]), "LIKE is case-sensitive");
        let one = w.ok(&w.admin, json!({"action": "user/list", "loginPattern": "ca_ol"}));
        assert_eq!(logins(&one), ["carol"]);
        w.stack.db.add_user("a_b", "secret1", Role::Client);
        w.stack.db.add_user("axb", "secret1", Role::Client);
        let escaped = w.ok(&w.admin, json!({"action": "user/list", "loginPattern": "a\\_b"}));
        assert_eq!(logins(&escaped), ["a_b"], "\\ escapes _");
        let locked = w.ok(&w.admin, json!({"action": "user/list", "status": 1}));
        assert_eq!(locked["users"], json!([]));

        let count = w.ok(&w.admin, json!({"action": "user/count"}));
        assert_eq!(count["count"], 6);
        let count = w.ok(&w.manager, json!({"action": "user/count", "login": "dave"}));
        assert_eq!(keys(&count), ["action", "requestId", "status", "count"]);
        assert_eq!(count["count"], 1);
        let count = w.ok(&w.admin, json!({"action": "user/count", "loginPattern": "a%", "role": 1}));
        assert_eq!(count["count"], 2);

        let list = || json!({"action": "user/list"});
        let with = |k: &str, v: Value| { let mut b = list(); b[k] = v; b };
        w.refused(&w.admin, with("sortField", json!("name")), 400,
                  "Invalid request parameters: sortField must be 'id' or 'login'");
        w.refused(&w.admin, with("sortOrder", json!("up")), 400,
                  "Unparseable sort order : up (expected ASC or DESC)");
        w.refused(&w.admin, with("take", json!(1001)), 400,
                  "Invalid value of field 'take': expected an integer from 0 to 1000");
        w.refused(&w.admin, with("skip", json!(-1)), 400,
                  "Invalid value of field 'skip': expected an integer of 0 or more");
        w.refused(&w.admin, with("role", json!("x")), 400,
                  "Invalid value of field 'role': expected an integer");
        w.refused(&w.admin, with("loginPattern", json!("ro\\")), 400,
                  "Invalid value of field 'loginPattern': expected a LIKE pattern (% and _ match, \\ escapes the next character) not ending in a lone \\");
        w.refused(&w.plain, list(), 403, "Access is denied");
        w.refused(&w.narrow, json!({"action": "user/count"}), 403, "Access is denied");
        let anonymous = w.client.request(json!({"action": "user/list"}));
        assert_eq!(error_of(&anonymous), (401, "Unauthorized".to_string()));
        Ok(())
    }

    fn get_reads_anyone_for_admins_and_only_oneself_for_others(backend) {
        let w = World::new(backend);
        let got = w.ok(&w.admin, json!({"action": "user/get", "userId": w.dave}));
        assert_eq!(keys(&got), ["action", "requestId", "status", "user"]);
        let mut published = vec!["networks"];
        published.extend(LISTED);
        assert_eq!(keys(&got["user"]), published);
        assert_eq!(got["user"]["login"], "dave");
        assert_eq!(got["user"]["networks"], json!([{"id": w.net_a, "name": "Plant A", "description": "line 1"}]));
        let itself = w.ok(&w.manager, json!({"action": "user/get", "userId": w.carol.to_string()}));
        assert_eq!(itself["user"]["login"], "carol", "a numeric string is an id");
        let other = format!("User with id = {} not found", w.dave);
        w.refused(&w.manager, json!({"action": "user/get", "userId": w.dave}), 404, &other);
        w.refused(&w.admin, json!({"action": "user/get", "userId": 999999}), 404,
                  "User with id = 999999 not found");
        w.refused(&w.admin, json!({"action": "user/get"}), 400, "User id is wrong or empty");
        w.refused(&w.admin, json!({"action": "user/get", "userId": 2.7}), 400,
                  "Invalid value of field 'userId': expected an integer");
        w.refused(&w.plain, json!({"action": "user/get", "userId": w.carol}), 403, "Access is denied");
        // A demoted administrator's old token no longer reads others: the row decides.
        w.stack.db.sql(&format!("UPDATE dh_user SET role = 1 WHERE id = {}", w.root));
        w.refused(&w.admin, json!({"action": "user/get", "userId": w.dave}), 404, &other);
        Ok(())
    }

    fn insert_creates_users_with_devicehive_rules(backend) {
        let w = World::new(backend);
        let made = w.ok(&w.admin, json!({"action": "user/insert", "user": {
            "login": " neo ", "role": 1, "password": "n3o-secret", "data": {"k": 1}, "oldPassword": "x"}}));
        assert_eq!(keys(&made["user"]), ["id", "lastLogin", "data", "introReviewed", "allDeviceTypesAvailable"]);
        let id = made["user"]["id"].as_i64().unwrap();
        assert_eq!((&made["user"]["data"], &made["user"]["introReviewed"], &made["user"]["allDeviceTypesAvailable"]),
                   (&json!({"k": 1}), &json!(false), &json!(true)));
        let row = w.stack.db.user(id);
        assert_eq!((row.login.as_str(), row.role, row.status, row.login_attempts), ("neo", 1, 0, 0));
        let hash = row.password_hash.unwrap_or_default();
        assert!(hash.starts_with("$argon2id$") && password::verify("n3o-secret", &hash, None));
        assert!(!w.stack.service.log().contains("n3o-secret"), "passwords never reach the log");
        // A client-role holder of ManageUser may create clients, not administrators.
        w.ok(&w.manager, json!({"action": "user/insert", "user": {"login": "trin", "role": 1, "password": "secret1", "status": 2}}));
        w.refused(&w.manager, json!({"action": "user/insert", "user": {"login": "smith", "role": 0, "password": "secret1"}}),
                  403, "Admin permissions required for this action");

        let insert = |user: Value| json!({"action": "user/insert", "user": user});
        w.refused(&w.admin, json!({"action": "user/insert"}), 400, "User is required");
        w.refused(&w.admin, insert(json!("neo")), 400, "Invalid value of field 'user': expected an object");
        w.refused(&w.admin, insert(json!({"role": 1, "password": "secret1"})), 400, "login field cannot be null.");
        w.refused(&w.admin, insert(json!({"login": "morph", "password": "secret1"})), 400, "User role is invalid or empty");
        w.refused(&w.admin, insert(json!({"login": "neo", "role": 1, "password": "secret1"})), 403,
                  "User with such login already exists. Please, select another one");
        w.refused(&w.admin, insert(json!({"login": "morph", "role": 1})), 400, "Password can contain only from 6 to 128 symbols!");
        w.refused(&w.admin, insert(json!({"login": "morph", "role": 1, "password": "strin"})), 400,
                  "Password can contain only from 6 to 128 symbols!");
        let long = "p".repeat(129);
        w.refused(&w.admin, insert(json!({"login": "morph", "role": 1, "password": long})), 400,
                  "Password can contain only from 6 to 128 symbols!");
        w.refused(&w.admin, insert(json!({"login": "a", "role": 1, "password": "secret1"})), 400,
                  "Field cannot be empty. The length of login should be from 3 to 64 symbols.");
        w.refused(&w.admin, insert(json!({"login": "a b c", "role": 1, "password": "secret1"})), 400,
                  "Login can contain only lowercase or uppercase letters, numbers, and some special symbols (_@.)");
        w.refused(&w.admin, insert(json!({"login": "l".repeat(65), "role": 1, "password": "secret1"})), 400,
                  "Field cannot be empty. The length of login should be from 3 to 64 symbols.");
        w.refused(&w.admin, insert(json!({"login": "morph", "role": 1, "password": "secret1", "status": 3})), 400,
                  "Invalid value of field 'user.status': expected 0 (active), 1 (locked out) or 2 (disabled)");
        w.refused(&w.admin, insert(json!({"login": "morph", "role": 2, "password": "secret1"})), 400,
                  "Invalid value of field 'user.role': expected 0 (administrator) or 1 (client)");
        w.refused(&w.plain, insert(json!({"login": "morph", "role": 1, "password": "secret1"})), 403, "Access is denied");
        Ok(())
    }

    fn update_changes_only_what_is_given_with_the_callers_role(backend) {
        let w = World::new(backend);
        let update = |id: i64, user: Value| json!({"action": "user/update", "userId": id, "user": user});
        w.ok(&w.admin, update(w.dave, json!({"data": {"a": 1}, "introReviewed": true})));
        let answer = w.ok(&w.admin, update(w.dave, json!({"status": 1})));
        assert_eq!(keys(&answer), ["action", "requestId", "status"]);
        let row = w.stack.db.user(w.dave);
        assert_eq!((row.status, row.data.as_deref(), row.intro_reviewed), (1, Some(r#"{"a":1}"#), Some(true)),
                   "leaving data out keeps it");
        w.ok(&w.admin, update(w.dave, json!({"login": "david", "status": 0, "password": "new-secret"})));
        let row = w.stack.db.user(w.dave);
        assert_eq!((row.login.as_str(), row.status), ("david", 0));
        assert!(password::verify("new-secret", &row.password_hash.unwrap_or_default(), None));
        // A client-role holder of ManageUser may change another client's password and data
        // (as DeviceHive), never login, role or status, and never an administrator.
        w.ok(&w.manager, update(w.dave, json!({"data": [2]})));
        assert_eq!(w.stack.db.user(w.dave).data.as_deref(), Some("[2]"));
        w.refused(&w.manager, update(w.dave, json!({"status": 2})), 403, "Admin permissions required for this action");
        w.refused(&w.manager, update(w.carol, json!({"role": 0})), 403, "Admin permissions required for this action");
        w.refused(&w.manager, update(w.boss, json!({"password": "taken-over"})), 403, "Admin permissions required for this action");

        w.refused(&w.admin, json!({"action": "user/update"}), 400, "User is required");
        w.refused(&w.admin, json!({"action": "user/update", "user": {}}), 400, "User id is wrong or empty");
        w.refused(&w.admin, update(999999, json!({"data": 1})), 404, "User with id = 999999 not found");
        w.refused(&w.admin, update(w.dave, json!({"login": "carol"})), 403,
                  "User with such login already exists. Please, select another one");
        w.refused(&w.admin, update(w.dave, json!({"password": "short"})), 400, "Password can contain only from 6 to 128 symbols!");
        w.refused(&w.admin, update(w.dave, json!({"role": 5})), 400,
                  "Invalid value of field 'user.role': expected 0 (administrator) or 1 (client)");
        w.refused(&w.plain, update(w.carol, json!({"data": 1})), 403, "Access is denied");
        Ok(())
    }

    fn delete_removes_the_user_and_its_links_in_one_transaction(backend) {
        let w = World::new(backend);
        w.ok(&w.admin, json!({"action": "user/disallowAllDeviceTypes", "userId": w.dave}));
        w.ok(&w.admin, json!({"action": "user/assignDeviceType", "userId": w.dave, "deviceTypeId": w.cameras}));
        // Something else that points at the user (DeviceHive has no ON DELETE CASCADE): the
        // delete fails as a whole, its links still there.
        w.stack.db.sql(&format!(
            "CREATE TABLE owner_note (user_id BIGINT NOT NULL REFERENCES dh_user (id)); \
             INSERT INTO owner_note VALUES ({})", w.dave));
        w.refused(&w.admin, json!({"action": "user/delete", "userId": w.dave}), 500, "Internal server error");
        w.stack.db.sql("DELETE FROM owner_note");
        let answer = w.ok(&w.admin, json!({"action": "user/delete", "userId": w.dave}));
        assert_eq!(keys(&answer), ["action", "requestId", "status"]);
        let dump = w.stack.db.dump();
        assert!(!dump.contains(" dave "), "{dump}");
        assert!(dump.contains("user_network []") && dump.contains("user_device_type []"), "{dump}");

        w.refused(&w.admin, json!({"action": "user/delete", "userId": w.root}), 403,
                  "You can not delete a user or access key that you use to authenticate this request");
        w.refused(&w.admin, json!({"action": "user/delete", "userId": w.dave}), 404,
                  &format!("User with id = {} not found", w.dave));
        w.refused(&w.admin, json!({"action": "user/delete"}), 400, "User id is wrong or empty");
        w.refused(&w.manager, json!({"action": "user/delete", "userId": w.boss}), 403,
                  "Admin permissions required for this action");
        w.refused(&w.plain, json!({"action": "user/delete", "userId": w.boss}), 403, "Access is denied");
        let client = w.stack.db.add_user("eve", "secret1", Role::Client);
        w.ok(&w.manager, json!({"action": "user/delete", "userId": client}));
        Ok(())
    }

    fn networks_of_a_user(backend) {
        let w = World::new(backend);
        let link = |action: &str, user: i64, net: i64| json!({"action": action, "userId": user, "networkId": net});
        let got = w.ok(&w.admin, link("user/getNetwork", w.dave, w.net_a));
        assert_eq!(got["network"], json!({"network": {"id": w.net_a, "name": "Plant A", "description": "line 1"}}));
        w.refused(&w.admin, link("user/getNetwork", w.dave, w.net_b), 404,
                  &format!("Network with id {} for user with id {} was not found", w.net_b, w.dave));
        w.refused(&w.admin, link("user/getNetwork", 999999, w.net_a), 404, "User with id = 999999 not found");
        w.refused(&w.admin, json!({"action": "user/getNetwork", "networkId": w.net_a}), 400, "User id is wrong or empty");
        w.refused(&w.admin, json!({"action": "user/getNetwork", "userId": w.dave}), 400, "Network id is wrong or empty");
        // GetNetwork is in every client's set: a client reads its own links, not others'.
        w.refused(&w.plain, link("user/getNetwork", w.dave, w.net_a), 404, &format!("User with id = {} not found", w.dave));
        w.refused(&w.plain, link("user/getNetwork", w.carol, w.net_a), 404,
                  &format!("Network with id {} for user with id {} was not found", w.net_a, w.carol));

        w.ok(&w.manager, link("user/assignNetwork", w.carol, w.net_b));
        w.ok(&w.admin, link("user/assignNetwork", w.carol, w.net_b));
        let mine = w.ok(&w.plain, link("user/getNetwork", w.carol, w.net_b));
        assert_eq!(mine["network"]["network"]["name"], "Plant B");
        let links = user_repo::networks_of(&mut w.stack.db.conn(), w.carol)?;
        assert_eq!(links.len(), 1, "assigned once");
        w.refused(&w.admin, link("user/assignNetwork", w.carol, 999999), 404, "Network with id = 999999 not found");
        w.refused(&w.admin, link("user/assignNetwork", 999999, w.net_a), 404, "User with id = 999999 not found");
        w.refused(&w.plain, link("user/assignNetwork", w.carol, w.net_a), 403, "Access is denied");

        w.ok(&w.admin, link("user/unassignNetwork", w.carol, w.net_b));
        let before = w.stack.db.dump();
        w.ok(&w.admin, link("user/unassignNetwork", w.carol, w.net_b));
        assert_eq!(before, w.stack.db.dump(), "unassigning what is not assigned changes nothing");
        w.refused(&w.admin, link("user/unassignNetwork", w.carol, 999999), 404, "Network with id = 999999 not found");
        w.refused(&w.admin, link("user/unassignNetwork", 999999, w.net_a), 404, "User with id = 999999 not found");
        w.refused(&w.narrow, link("user/unassignNetwork", w.dave, w.net_a), 403, "Access is denied");
        Ok(())
    }

    fn device_types_of_a_user(backend) {
        let w = World::new(backend);
        let link = |action: &str, user: i64, t: i64| json!({"action": action, "userId": user, "deviceTypeId": t});
        let user = |action: &str, user: i64| json!({"action": action, "userId": user});
        let all = w.ok(&w.admin, user("user/getDeviceTypes", w.dave));
        assert_eq!(all["deviceTypes"], json!([
            {"id": w.cameras, "name": "Cameras", "description": "video"},
            {"id": w.sensors, "name": "Sensors", "description": null}
        ]), "all device types while the flag is set");
        w.refused(&w.admin, link("user/assignDeviceType", w.dave, w.cameras), 403,
                  "Cannot assign device type to user with all device types allowed");
        w.refused(&w.admin, link("user/unassignDeviceType", w.dave, w.cameras), 403,
                  "Cannot assign device type to user with all device types allowed");
        w.refused(&w.admin, link("user/getDeviceType", w.dave, w.cameras), 404,
                  &format!("Device type with id {} for user with id {} not found", w.cameras, w.dave));

        w.ok(&w.manager, user("user/disallowAllDeviceTypes", w.dave));
        assert_eq!(w.stack.db.user(w.dave).all_device_types_available, Some(false));
        let none = w.ok(&w.admin, user("user/getDeviceTypes", w.dave));
        assert_eq!(none["deviceTypes"], json!([]));
        w.ok(&w.manager, link("user/assignDeviceType", w.dave, w.sensors));
        w.ok(&w.manager, link("user/assignDeviceType", w.dave, w.sensors));
        let got = w.ok(&w.admin, link("user/getDeviceType", w.dave, w.sensors));
        assert_eq!(got["deviceType"], json!({"deviceType": {"id": w.sensors, "name": "Sensors", "description": null}}));
        let listed = w.ok(&w.admin, user("user/getDeviceTypes", w.dave));
        assert_eq!(listed["deviceTypes"].as_array().map(Vec::len), Some(1), "assigned once");
        w.refused(&w.admin, link("user/assignDeviceType", w.dave, 999999), 404, "Device type with id = 999999 not found");
        w.refused(&w.admin, link("user/assignDeviceType", 999999, w.sensors), 404, "User with id = 999999 not found");
        w.refused(&w.admin, json!({"action": "user/getDeviceType", "userId": w.dave}), 400, "Device type id is wrong or empty");
        w.refused(&w.admin, user("user/getDeviceTypes", 999999), 404, "User with id = 999999 not found");
        w.refused(&w.admin, json!({"action": "user/getDeviceTypes"}), 400, "User id is wrong or empty");
        w.refused(&w.plain, user("user/getDeviceTypes", w.carol), 403, "Access is denied");
        w.refused(&w.plain, link("user/getDeviceType", w.dave, w.sensors), 404, &format!("User with id = {} not found", w.dave));

        w.ok(&w.admin, link("user/unassignDeviceType", w.dave, w.sensors));
        w.ok(&w.admin, link("user/unassignDeviceType", w.dave, w.sensors));
        w.refused(&w.admin, link("user/unassignDeviceType", w.dave, 999999), 404, "Device type with id = 999999 not found");
        w.ok(&w.admin, link("user/assignDeviceType", w.dave, w.cameras));
        // allowAll removes the explicit links, as DeviceHive does; disallowAll keeps none.
        w.ok(&w.admin, user("user/allowAllDeviceTypes", w.dave));
        w.ok(&w.admin, user("user/disallowAllDeviceTypes", w.dave));
        let after = w.ok(&w.admin, user("user/getDeviceTypes", w.dave));
        assert_eq!(after["deviceTypes"], json!([]));
        w.refused(&w.admin, user("user/allowAllDeviceTypes", 999999), 404, "User with id = 999999 not found");
        w.refused(&w.admin, json!({"action": "user/disallowAllDeviceTypes"}), 400, "User id is wrong or empty");
        w.refused(&w.narrow, user("user/allowAllDeviceTypes", w.dave), 403, "Access is denied");
        Ok(())
    }

    fn server_and_cluster_info_need_no_token(backend) {
        let w = World::new(backend);
        let info = w.client.request(json!({"action": "server/info", "requestId": 1}));
        assert_eq!(keys(&info), ["action", "requestId", "status", "info"]);
        assert_eq!(keys(&info["info"]), ["apiVersion", "serverTimestamp", "restServerUrl"]);
        assert_eq!((&info["info"]["apiVersion"], &info["info"]["restServerUrl"]), (&json!("4.1.0"), &Value::Null));
        let stamp = info["info"]["serverTimestamp"].as_str().unwrap_or_default();
        assert!(chrono::NaiveDateTime::parse_from_str(stamp, "%Y-%m-%dT%H:%M:%S%.3f").is_ok() && stamp.len() == 23, "{stamp}");
        let cluster = w.client.request(json!({"action": "cluster/info"}));
        assert_eq!(cluster["clusterInfo"], json!({"bootstrap.servers": null, "zookeeper.connect": null}));
        Ok(())
    }

    fn a_users_lifecycle_over_mqtt_alone(backend) {
        let w = World::new(backend);
        let t = &w.admin;
        let made = w.ok(t, json!({"action": "user/insert", "user": {"login": "sensor-7", "role": 1, "password": "s3nsor-pw"}}));
        let id = made["user"]["id"].as_i64().unwrap();
        w.ok(t, json!({"action": "user/assignNetwork", "userId": id, "networkId": w.net_b}));
        let got = w.ok(t, json!({"action": "user/get", "userId": id}));
        assert_eq!(got["user"]["networks"], json!([{"id": w.net_b, "name": "Plant B", "description": null}]));
        let page = w.ok(t, json!({"action": "user/list", "loginPattern": "sensor-%", "role": 1, "take": 10, "skip": 0}));
        assert_eq!(logins(&page), ["sensor-7"]);
        let count = w.ok(t, json!({"action": "user/count", "loginPattern": "sensor-%"}));
        assert_eq!(count["count"], 1);
        w.ok(t, json!({"action": "user/update", "userId": id, "user": {"data": {"room": 7}, "status": 0}}));
        let got = w.ok(t, json!({"action": "user/get", "userId": id}));
        assert_eq!(got["user"]["data"], json!({"room": 7}));
        w.ok(t, json!({"action": "user/unassignNetwork", "userId": id, "networkId": w.net_b}));
        w.ok(t, json!({"action": "user/delete", "userId": id}));
        let gone = w.call(t, json!({"action": "user/get", "userId": id}));
        assert_eq!(error_of(&gone), (404, format!("User with id = {id} not found")));
        Ok(())
    }
}
