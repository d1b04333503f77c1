//! The broker glue: the only module with `unsafe`. Every entry point runs inside
//! [`guard`], because a panic unwinding into the broker's C code would abort it; a caught
//! panic fails closed (access denied, login refused) except for the message event, where an
//! error would drop the publisher's connection on Mosquitto 2.0.
#![allow(unsafe_code)]

use std::ffi::{c_char, c_int, c_void, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicPtr, Ordering};

use dh_mqtt_rules::{Access, Decision, CREDENTIALS_TOPIC};

use crate::{Login, Plugin, Rewrite, ServiceAccounts};

#[allow(
    non_camel_case_types,
    non_upper_case_globals,
    non_snake_case,
    dead_code
)]
#[allow(clippy::all, clippy::indexing_slicing, clippy::unwrap_used)]
mod sys {
    include!(concat!(env!("OUT_DIR"), "/mosquitto.rs"));
}

/// The identifier the broker gave this plugin, for unregistering at cleanup.
static PLUGIN_ID: AtomicPtr<sys::mosquitto_plugin_id_t> = AtomicPtr::new(std::ptr::null_mut());
/// Whether the broker frees a message's original topic when a plugin replaces it: Mosquitto
/// 2.1 does (`plugin__handle_message_in`), 2.0 does not (the plugin must, or it leaks).
static BROKER_FREES_TOPIC: AtomicBool = AtomicBool::new(false);

const SUCCESS: c_int = sys::MOSQ_ERR_SUCCESS as c_int;
const DENIED: c_int = sys::MOSQ_ERR_ACL_DENIED as c_int;
const AUTH: c_int = sys::MOSQ_ERR_AUTH as c_int;
const DEFER: c_int = sys::MOSQ_ERR_PLUGIN_DEFER as c_int;
const INVAL: c_int = sys::MOSQ_ERR_INVAL as c_int;

type Callback = unsafe extern "C" fn(c_int, *mut c_void, *mut c_void) -> c_int;
const CALLBACKS: [(u32, Callback); 3] = [
    (sys::MOSQ_EVT_BASIC_AUTH, on_basic_auth),
    (sys::MOSQ_EVT_ACL_CHECK, on_acl_check),
    (sys::MOSQ_EVT_MESSAGE, on_message),
];

extern "C" {
    fn dlsym(handle: *mut c_void, symbol: *const c_char) -> *mut c_void;
}

fn guard(on_panic: c_int, f: impl FnOnce() -> c_int) -> c_int {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or(on_panic)
}

fn log(level: u32, text: &str) {
    let Ok(text) = CString::new(format!("dh-mqtt-plugin: {text}")) else {
        return;
    };
    // SAFETY: a constant "%s" format with one NUL-terminated string argument.
    unsafe { sys::mosquitto_log_printf(level as c_int, c"%s".as_ptr(), text.as_ptr()) };
}

/// # Safety
/// `ptr` is null or a NUL-terminated string that outlives `'a`.
unsafe fn text<'a>(ptr: *const c_char) -> Option<&'a str> {
    if ptr.is_null() {
        return None;
    }
    // SAFETY: non-null and NUL-terminated per the caller's contract.
    unsafe { CStr::from_ptr(ptr) }.to_str().ok()
}

/// # Safety
/// `client` is a live client the broker passed to a callback.
unsafe fn identity<'a>(client: *mut sys::mosquitto) -> (Option<&'a str>, Option<&'a str>) {
    // SAFETY: the broker's accessors return the client's own strings (or null), valid for
    // the duration of the callback.
    unsafe {
        (
            text(sys::mosquitto_client_id(client)),
            text(sys::mosquitto_client_username(client)),
        )
    }
}

/// The event struct and the plugin of a callback.
///
/// # Safety
/// `data` is null or the broker's event struct of type `T` for the event being delivered, and
/// `userdata` the pointer `mosquitto_plugin_init` stored: a live, leaked `Box<Plugin>`.
unsafe fn event<'a, T>(
    data: *mut c_void,
    userdata: *mut c_void,
) -> Option<(&'a mut T, &'a Plugin)> {
    // SAFETY: see above; the plugin is freed only in cleanup, after the callbacks are
    // unregistered, and the event struct lives for the duration of the callback.
    unsafe {
        Some((
            (data as *mut T).as_mut()?,
            (userdata as *const Plugin).as_ref()?,
        ))
    }
}

#[no_mangle]
pub extern "C" fn mosquitto_plugin_version(count: c_int, versions: *const c_int) -> c_int {
    guard(-1, || {
        let offered = if versions.is_null() || count <= 0 {
            &[][..]
        } else {
            // SAFETY: the broker passes `count` ints at `versions`.
            unsafe { std::slice::from_raw_parts(versions, count as usize) }
        };
        if offered.contains(&5) {
            5
        } else {
            -1
        }
    })
}

#[no_mangle]
pub extern "C" fn mosquitto_plugin_init(
    identifier: *mut sys::mosquitto_plugin_id_t,
    userdata: *mut *mut c_void,
    options: *mut sys::mosquitto_opt,
    option_count: c_int,
) -> c_int {
    guard(INVAL, || {
        if userdata.is_null() {
            return INVAL;
        }
        let mut accounts = None;
        if !options.is_null() && option_count > 0 {
            // SAFETY: the broker passes `option_count` options at `options`.
            let options = unsafe { std::slice::from_raw_parts(options, option_count as usize) };
            for option in options {
                // SAFETY: keys and values are the broker's NUL-terminated strings.
                let (key, value) = unsafe { (text(option.key), text(option.value)) };
                match key {
                    Some("service_accounts") => accounts = value.map(ServiceAccounts::parse),
                    Some(other) => {
                        log(
                            sys::MOSQ_LOG_ERR,
                            &format!("unknown option plugin_opt_{other}"),
                        );
                        return INVAL;
                    }
                    None => return INVAL,
                }
            }
        }
        let accounts = accounts.unwrap_or_else(|| ServiceAccounts::parse("dhplugin"));
        // SAFETY: looking a symbol up in the already loaded broker; RTLD_DEFAULT is null.
        let is_2_1 = !unsafe { dlsym(std::ptr::null_mut(), c"mosquitto_plugin_set_info".as_ptr()) }
            .is_null();
        BROKER_FREES_TOPIC.store(is_2_1, Ordering::Relaxed);
        log(
            sys::MOSQ_LOG_INFO,
            &format!(
                "rules for dh/ loaded; service accounts {:?}; broker {}",
                accounts.names(),
                if is_2_1 { "2.1 or later" } else { "2.0" }
            ),
        );
        let state = Box::into_raw(Box::new(Plugin::new(accounts))) as *mut c_void;
        // SAFETY: `userdata` is non-null (checked above) and ours to fill.
        unsafe { *userdata = state };
        PLUGIN_ID.store(identifier, Ordering::Relaxed);
        for (event, callback) in CALLBACKS {
            // SAFETY: registering our own callback with the identifier the broker gave us.
            let rc = unsafe {
                sys::mosquitto_callback_register(
                    identifier,
                    event as c_int,
                    Some(callback),
                    std::ptr::null(),
                    state,
                )
            };
            if rc != SUCCESS {
                return rc;
            }
        }
        SUCCESS
    })
}

#[no_mangle]
pub extern "C" fn mosquitto_plugin_cleanup(
    userdata: *mut c_void,
    _options: *mut sys::mosquitto_opt,
    _option_count: c_int,
) -> c_int {
    guard(SUCCESS, || {
        let identifier = PLUGIN_ID.swap(std::ptr::null_mut(), Ordering::Relaxed);
        for (event, callback) in CALLBACKS {
            // SAFETY: unregistering what init registered; nothing calls it afterwards.
            unsafe {
                sys::mosquitto_callback_unregister(
                    identifier,
                    event as c_int,
                    Some(callback),
                    std::ptr::null(),
                )
            };
        }
        if !userdata.is_null() {
            // SAFETY: the Box leaked in init; no callback can run any more.
            drop(unsafe { Box::from_raw(userdata as *mut Plugin) });
        }
        SUCCESS
    })
}

unsafe extern "C" fn on_basic_auth(
    _event: c_int,
    data: *mut c_void,
    userdata: *mut c_void,
) -> c_int {
    guard(AUTH, || {
        // SAFETY: for MOSQ_EVT_BASIC_AUTH the broker passes its event struct and our userdata.
        let Some((ed, plugin)) =
            (unsafe { event::<sys::mosquitto_evt_basic_auth>(data, userdata) })
        else {
            return AUTH;
        };
        // SAFETY: the client and its strings are live during the callback.
        let (client_id, _) = unsafe { identity(ed.client) };
        // SAFETY: the event's username and password are the CONNECT's NUL-terminated strings.
        let (username, password) = unsafe {
            (
                text(ed.username),
                (!ed.password.is_null()).then(|| CStr::from_ptr(ed.password).to_bytes()),
            )
        };
        match plugin.login(client_id, username, password) {
            Login::Allow => SUCCESS,
            Login::Defer => DEFER,
            Login::Deny(reason) => {
                log(
                    sys::MOSQ_LOG_NOTICE,
                    &format!(
                        "refusing client {:?} (user {:?}): {reason}",
                        client_id.unwrap_or(""),
                        username.unwrap_or("")
                    ),
                );
                AUTH
            }
        }
    })
}

unsafe extern "C" fn on_acl_check(
    _event: c_int,
    data: *mut c_void,
    userdata: *mut c_void,
) -> c_int {
    guard(DENIED, || {
        // SAFETY: for MOSQ_EVT_ACL_CHECK the broker passes its event struct and our userdata.
        let Some((ed, plugin)) = (unsafe { event::<sys::mosquitto_evt_acl_check>(data, userdata) })
        else {
            return DENIED;
        };
        let access = match ed.access as u32 {
            sys::MOSQ_ACL_READ => Access::Read,
            sys::MOSQ_ACL_WRITE => Access::Publish,
            sys::MOSQ_ACL_SUBSCRIBE => Access::Subscribe,
            sys::MOSQ_ACL_UNSUBSCRIBE => Access::Unsubscribe,
            _ => return DEFER,
        };
        // SAFETY: the topic and the client are live during the callback.
        let (Some(topic), (client_id, username)) =
            (unsafe { text(ed.topic) }, unsafe { identity(ed.client) })
        else {
            return DENIED;
        };
        match plugin.acl(client_id, username, access, topic) {
            Decision::Allow => SUCCESS,
            Decision::Deny => DENIED,
            Decision::Defer => DEFER,
        }
    })
}

unsafe extern "C" fn on_message(_event: c_int, data: *mut c_void, userdata: *mut c_void) -> c_int {
    guard(SUCCESS, || {
        // SAFETY: for MOSQ_EVT_MESSAGE the broker passes its event struct (ours to modify)
        // and our userdata.
        let Some((ed, plugin)) = (unsafe { event::<sys::mosquitto_evt_message>(data, userdata) })
        else {
            return SUCCESS;
        };
        // SAFETY: the topic and the client are live during the callback.
        let (Some(topic), (client_id, username)) =
            (unsafe { text(ed.topic) }, unsafe { identity(ed.client) })
        else {
            return SUCCESS;
        };
        if topic == CREDENTIALS_TOPIC {
            if username.is_some_and(|name| plugin.accounts().contains(name)) {
                // SAFETY: the payload is `payloadlen` bytes (null only when empty).
                let payload = if ed.payload.is_null() {
                    &[][..]
                } else {
                    unsafe {
                        std::slice::from_raw_parts(ed.payload as *const u8, ed.payloadlen as usize)
                    }
                };
                apply(plugin, payload);
            }
            return SUCCESS;
        }
        if let Rewrite::Topic(new) = plugin.rewrite(client_id, topic, unsafe {
            has_response_topic(ed.properties)
        }) {
            // SAFETY: replacing the topic with one from the broker's allocator, as the event
            // allows; the original is freed here only where the broker would not (2.0).
            unsafe { replace_topic(ed, &new) };
        }
        SUCCESS
    })
}

fn apply(plugin: &Plugin, payload: &[u8]) {
    match plugin.apply(payload) {
        Ok(kick) => {
            for login in &kick {
                if let Ok(name) = CString::new(login.as_str()) {
                    // SAFETY: a NUL-terminated user name; the broker disconnects its clients.
                    unsafe { sys::mosquitto_kick_client_by_username(name.as_ptr(), false) };
                }
            }
            log(
                sys::MOSQ_LOG_INFO,
                &format!(
                    "credentials updated: {} device logins, {} disconnected",
                    plugin.granted(),
                    kick.len()
                ),
            );
        }
        Err(e) => log(sys::MOSQ_LOG_WARNING, &format!("{e}; nothing applied")),
    }
}

/// # Safety
/// `properties` is null or the message's live property list.
unsafe fn has_response_topic(mut properties: *const sys::mosquitto_property) -> bool {
    while !properties.is_null() {
        // SAFETY: walking the broker's list with its own accessors.
        unsafe {
            if sys::mosquitto_property_identifier(properties)
                == sys::MQTT_PROP_RESPONSE_TOPIC as c_int
            {
                return true;
            }
            properties = sys::mosquitto_property_next(properties);
        }
    }
    false
}

/// # Safety
/// `ed` is the broker's message event, inside the message callback.
unsafe fn replace_topic(ed: &mut sys::mosquitto_evt_message, new: &str) {
    let Ok(new) = CString::new(new) else {
        return;
    };
    let bytes = new.as_bytes_with_nul();
    // SAFETY: the broker's allocator, so the broker can free the topic later.
    let copy = unsafe { sys::mosquitto_malloc(bytes.len()) } as *mut c_char;
    if copy.is_null() {
        return;
    }
    // SAFETY: `copy` has room for `bytes.len()` bytes and does not overlap `bytes`.
    unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr() as *const c_char, copy, bytes.len()) };
    let original = std::mem::replace(&mut ed.topic, copy);
    if !BROKER_FREES_TOPIC.load(Ordering::Relaxed) {
        // SAFETY: 2.0 overwrites its pointer with ours and never frees the original.
        unsafe { sys::mosquitto_free(original as *mut c_void) };
    }
}
