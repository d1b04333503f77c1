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
        crate::support::db::assign_network(&mut conn, id, n2);
        crate::support::db::assign_network(&mut conn, id, n1);
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

    fn a_batch_of_users_gets_each_its_own_networks(backend) {
        let stack = Stack::start(backend);
        let a = stack.db.add_user("batch-a", "secret1", Role::Client);
        let b = stack.db.add_user("batch-b", "secret1", Role::Client);
        let c = stack.db.add_user("batch-c", "secret1", Role::Client);
        let mut conn = stack.db.conn();
        let n1 = user_repo::insert_network(&mut conn, "N1", None)?;
        let n2 = user_repo::insert_network(&mut conn, "N2", None)?;
        crate::support::db::assign_network(&mut conn, a, n2);
        crate::support::db::assign_network(&mut conn, a, n1);
        // DeviceHive's link table allows the same link twice; it is listed once.
        stack.db.sql(&format!("INSERT INTO user_network (user_id, network_id) VALUES ({b}, {n2}), ({b}, {n2})"));
        let found = user_repo::load_current_many(&mut conn, &[c, a, 999_999, b, a])?;
        let ids = |id: i64| found.get(&id).map(|u| u.networks.iter().map(|n| n.id).collect::<Vec<_>>());
        assert_eq!(ids(a), Some(vec![n1, n2]));
        assert_eq!(ids(b), Some(vec![n2]));
        assert_eq!(ids(c), Some(vec![]));
        assert_eq!(ids(999_999), None, "an unknown id is absent");
        assert_eq!(found.get(&b).map(|u| u.user.login.as_str()), Some("batch-b"));
        Ok(())
    }

    fn concurrent_requests_of_different_users_get_their_own_answers(backend) {
        let stack = Stack::start(backend);
        let users: Vec<(i64, &str)> = ["carol", "dave", "erin"]
            .into_iter()
            .map(|login| (stack.db.add_user(login, "secret1", Role::Client), login))
            .collect();
        let clients: Vec<_> = users.iter().map(|(_, login)| stack.client(login)).collect();
        // Sent without waiting, so that requests of all three wait in the same read batches.
        let mut sent = Vec::new();
        for round in 0..30 {
            for ((id, login), client) in users.iter().zip(&clients) {
                let token = stack.tokens.access(*id, Role::Client);
                let request_id = json!(format!("{login}-{round}"));
                client.send_request(json!({"action": "user/getCurrent", "requestId": request_id, "token": token}));
                sent.push((client, request_id, *login));
            }
        }
        for (client, request_id, login) in sent {
            let answer = client.answer_to(&request_id);
            assert_eq!(answer["current"]["login"], json!(login), "{answer}");
        }
        Ok(())
    }
}
