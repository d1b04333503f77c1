//! `user/getCurrent`: every field of the answer, networks, nulls.

use dh_mqtt_plugin::db::user_repo;
use dh_mqtt_plugin::model::Role;
use serde_json::json;

use crate::both_backends;
use crate::support::Stack;

both_backends! {
    fn answers_every_field_with_nulls(backend) {
        let stack = Stack::start(backend);
        let id = stack.db.add_user("alice", "secret1", Role::Client);
        let alice = stack.client("alice");
        let answer = alice.request(json!({
            "action": "user/getCurrent", "requestId": {"n": 1},
            "token": stack.tokens.access(id, Role::Client)
        }));
        assert_eq!(answer, json!({
            "action": "user/getCurrent", "requestId": {"n": 1}, "status": "success",
            "current": {
                "id": id, "login": "alice", "role": 1, "status": 0, "lastLogin": null,
                "data": null, "introReviewed": false, "allDeviceTypesAvailable": true,
                "networks": []
            }
        }));
        Ok(())
    }

    fn lists_the_users_networks_and_data(backend) {
        let stack = Stack::start(backend);
        let id = stack.db.add_user("bob", "secret1", Role::Admin);
        let mut conn = stack.db.conn();
        let n1 = user_repo::insert_network(&mut conn, "Plant A", Some("Line 1"))?;
        let n2 = user_repo::insert_network(&mut conn, "Plant B", None)?;
        user_repo::insert_network(&mut conn, "Not mine", None)?;
        user_repo::assign_network(&mut conn, id, n2)?;
        user_repo::assign_network(&mut conn, id, n1)?;
        stack.db.sql(&format!(
            "UPDATE dh_user SET data = '{{\"k\":[1,2]}}', intro_reviewed = true WHERE id = {id}"
        ));
        let bob = stack.client("bob");
        let answer = bob.request(json!({
            "action": "user/getCurrent", "token": stack.tokens.access(id, Role::Admin)
        }));
        let current = &answer["current"];
        assert_eq!(current["role"], json!(0));
        assert_eq!(current["data"], json!({"k": [1, 2]}));
        assert_eq!(current["introReviewed"], json!(true));
        assert_eq!(current["networks"], json!([
            {"id": n1, "name": "Plant A", "description": "Line 1"},
            {"id": n2, "name": "Plant B", "description": null}
        ]));
        Ok(())
    }
}
