//! FFI declarations for the broker's plugin API, generated from the installed headers
//! (Debian: `apt-get install mosquitto-dev libmosquitto-dev libclang-dev`).

use std::env;
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=wrapper.h");
    let bindings = bindgen::Builder::default()
        .header("wrapper.h")
        .allowlist_function("mosquitto_(callback_register|callback_unregister|client_id|client_username|client_protocol_version|kick_client_by_username|log_printf|malloc|free|property_identifier|property_next)")
        .allowlist_type("mosquitto_evt_(acl_check|basic_auth|message)|mosquitto_opt|mosq_err_t|mosquitto_plugin_event|mqtt5_property")
        .allowlist_var("MOSQ_(ERR|ACL|EVT|LOG)_.*|MQTT_PROP_RESPONSE_TOPIC")
        .prepend_enum_name(false)
        .layout_tests(true)
        .generate();
    let bindings = match bindings {
        Ok(b) => b,
        Err(e) => {
            eprintln!(
                "cannot read the Mosquitto plugin headers ({e}); install them with \
                 `apt-get install mosquitto-dev libmosquitto-dev libclang-dev` (deploy/test.sh does)"
            );
            std::process::exit(1);
        }
    };
    let out = PathBuf::from(env::var("OUT_DIR").unwrap_or_default()).join("mosquitto.rs");
    if let Err(e) = bindings.write_to_file(&out) {
        eprintln!("cannot write {}: {e}", out.display());
        std::process::exit(1);
    }
}
