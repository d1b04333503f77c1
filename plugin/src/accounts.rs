//! The service's own broker accounts, named by `plugin_opt_service_accounts`.

/// Account names: each `NAME` also covers `NAME-{anything}`, the accounts of named instances
/// and of further connections (`dhplugin-a`, `dhplugin-a-2`, ...).
#[derive(Debug, Clone, Default)]
pub struct ServiceAccounts(Vec<String>);

impl ServiceAccounts {
    /// From the option's comma-separated list; empty entries are ignored.
    pub fn parse(list: &str) -> ServiceAccounts {
        ServiceAccounts(
            list.split(',')
                .map(str::trim)
                .filter(|name| !name.is_empty())
                .map(str::to_string)
                .collect(),
        )
    }

    /// Whether `username` is one of the service's accounts.
    pub fn contains(&self, username: &str) -> bool {
        self.0.iter().any(|base| {
            username
                .strip_prefix(base.as_str())
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('-'))
        })
    }

    /// The names, for the start-up log line.
    pub fn names(&self) -> &[String] {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_cover_their_instances() {
        let accounts = ServiceAccounts::parse("dhplugin, other");
        for yes in ["dhplugin", "dhplugin-a", "dhplugin-a-2", "other"] {
            assert!(accounts.contains(yes), "{yes}");
        }
        for no in ["dhplugi", "dhpluginx", "xdhplugin", "", "other2"] {
            assert!(!accounts.contains(no), "{no}");
        }
        assert!(!ServiceAccounts::parse("").contains(""));
    }
}
