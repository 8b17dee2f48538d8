//! The rule files logredact ships (the repository's `rules/` folder),
//! compiled in: `demo` runs on them anywhere, and the fuzz targets fuzz
//! them. The one list of them; a test checks it against the folder.

use crate::SourceFile;

const FILES: [(&str, &str); 4] = [
    (
        "00-settings.toml",
        include_str!("../../../rules/00-settings.toml"),
    ),
    ("10-mask.toml", include_str!("../../../rules/10-mask.toml")),
    ("20-tag.toml", include_str!("../../../rules/20-tag.toml")),
    (
        "30-route.toml",
        include_str!("../../../rules/30-route.toml"),
    ),
];

/// The shipped rule files, named `rules/NAME` as `check` names them.
pub fn files() -> Vec<SourceFile> {
    FILES
        .iter()
        .map(|(name, text)| SourceFile {
            name: format!("rules/{name}"),
            text: (*text).to_owned(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_file_of_the_rules_folder_is_compiled_in() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../rules");
        let mut on_disk: Vec<String> = std::fs::read_dir(dir)
            .expect("the rules folder exists")
            .map(|e| {
                e.expect("readable")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .filter(|n| n.ends_with(".toml"))
            .collect();
        on_disk.sort();
        let compiled: Vec<&str> = super::FILES.iter().map(|(n, _)| *n).collect();
        assert_eq!(on_disk, compiled, "add the new rule file to shipped.rs");
    }
}
