//! The `[settings]` table of a rule file.

use toml::de::DeTable;

use super::cx::Cx;
use crate::Settings;

const SETTINGS_KEYS: &[&str] = &["record", "record_field", "residual_scan"];

impl Cx<'_> {
    pub(super) fn settings(&mut self, t: &DeTable<'_>) -> Settings {
        self.check_keys(t, SETTINGS_KEYS, "[settings]");
        let mut s = Settings::default();
        if let Some((field, span)) = self.string(t, "record_field") {
            if field.is_empty() || field.contains('.') {
                self.err(
                    span,
                    "\"record_field\" must be a plain field name without dots".to_owned(),
                );
            }
            s.record_field = Some(field);
        }
        if self.boolean(t, "record") == Some(false) {
            s.record_field = None;
        }
        if let Some(r) = self.boolean(t, "residual_scan") {
            s.residual_scan = r;
        }
        s
    }
}
