//! Hot rule reload: on SIGHUP, and when files in the rules directory change
//! (debounced), the rules are compiled through the same path as start-up
//! (`active::load_rules`), and the hash keys and the seal signing key read
//! again. A valid set replaces the active one atomically:
//! the consumer takes the current set once per event, so an event is
//! processed by one set, whole. An invalid set leaves the old one running;
//! its errors are logged with file:line:column and counted.

use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use tokio::sync::mpsc;

use super::active::{self, note_active, ActiveRules};
use crate::config::Config;
use crate::events::{RuleReloadRefused, RulesReloaded, SealKeyRotated};
use crate::stats::Stats;

/// Changes closer together than this are taken as one.
pub const DEBOUNCE: Duration = Duration::from_millis(500);

/// Compiles the rules again and swaps them in if they are valid. Returns
/// whether the new set is active.
pub fn reload(config: &Config, rules: &ArcSwap<ActiveRules>, stats: &Stats) -> bool {
    let result = active::key_ring(config)
        .map_err(|e| active::LoadError::Other(format!("{e:#}")))
        .and_then(|keys| active::load_rules(config, &keys));
    match result {
        Ok(new) => {
            let current = rules.load();
            let old = current.set.fingerprint().to_owned();
            let to = new.set.fingerprint().to_owned();
            let key_id = |r: &ActiveRules| r.seal_key.as_ref().map(|k| k.id().to_owned());
            let (old_key, new_key) = (key_id(&current), key_id(&new));
            drop(current);
            note_active(stats, &new);
            rules.store(Arc::new(new));
            // Reported once the new set is the one in use.
            RulesReloaded {
                from: &old,
                to: &to,
            }
            .emit(stats);
            if let (Some(from), Some(to)) = (old_key, new_key) {
                if from != to {
                    SealKeyRotated {
                        from: &from,
                        to: &to,
                    }
                    .emit();
                }
            }
            true
        }
        Err(errors) => {
            RuleReloadRefused {
                problems: &errors.log_lines(),
            }
            .emit(stats);
            false
        }
    }
}

/// Runs until dropped: reloads on SIGHUP and on changes in the rules
/// directory.
///
/// The directory is watched, and its parent too: a deployment that
/// replaces the whole directory (`mv rules rules.old; cp -r new rules`,
/// rsync's or a package's swap) leaves a watch on the old one, so the
/// directory is watched again, by its path, before every reload.
pub async fn watch(config: Config, rules: Arc<ArcSwap<ActiveRules>>, stats: Arc<Stats>) {
    use notify::Watcher;
    let (tx, mut rx) = mpsc::unbounded_channel::<&'static str>();
    let file_tx = tx.clone();
    let dir = config.rules.dir.clone();
    let ours = dir.clone();
    let mut watcher =
        match notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
            // (From the parent, only what happens to the directory itself
            // or in it; not the config file or anything else beside it.)
            if event
                .is_ok_and(|e| !e.kind.is_access() && e.paths.iter().any(|p| p.starts_with(&ours)))
            {
                let _ = file_tx.send("file change");
            }
        }) {
            Ok(w) => Some(w),
            Err(e) => {
                tracing::warn!(error = %e, "cannot watch the rules directory; reload with SIGHUP");
                None
            }
        };
    if let Some(w) = &mut watcher {
        if let Err(e) = w.watch(&dir, notify::RecursiveMode::NonRecursive) {
            tracing::warn!(error = %e, dir = %dir.display(), "cannot watch the rules directory; reload with SIGHUP");
        }
        if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
            if let Err(e) = w.watch(parent, notify::RecursiveMode::NonRecursive) {
                tracing::warn!(error = %e, dir = %parent.display(), "cannot watch the rules directory's parent; a directory replaced whole is seen at the next SIGHUP");
            }
        }
    }
    tokio::spawn(async move {
        use tokio::signal::unix::{signal, SignalKind};
        let Ok(mut hup) = signal(SignalKind::hangup()) else {
            return;
        };
        while hup.recv().await.is_some() {
            if tx.send("SIGHUP").is_err() {
                return;
            }
        }
    });
    while let Some(cause) = rx.recv().await {
        // Editors write files in several steps: wait for quiet.
        tokio::time::sleep(DEBOUNCE).await;
        while rx.try_recv().is_ok() {}
        if let Some(w) = &mut watcher {
            // The directory at this path now, if it was replaced.
            let _ = w.unwatch(&dir);
            if let Err(e) = w.watch(&dir, notify::RecursiveMode::NonRecursive) {
                tracing::warn!(error = %e, dir = %dir.display(), "cannot watch the rules directory; reload with SIGHUP");
            }
        }
        tracing::info!(cause, "reloading rules");
        let config = config.clone();
        let (rules, task_stats) = (rules.clone(), stats.clone());
        let done = tokio::task::spawn_blocking(move || reload(&config, &rules, &task_stats)).await;
        if done.is_err() {
            // A panic while compiling: the old set stays, and that is said
            // like any other refusal.
            RuleReloadRefused {
                problems: &["an internal error stopped the reload (a bug; please report it); the rules in use stay".to_owned()],
            }
            .emit(&stats);
        }
    }
    drop(watcher);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A rules directory replaced whole (moved away, a new one copied in
    /// its place) is watched again: an edit in the new one is loaded.
    #[tokio::test]
    async fn a_directory_replaced_whole_is_watched_again() {
        let root = std::env::temp_dir().join(format!("logredact-reload-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let dir = root.join("rules");
        std::fs::create_dir_all(&dir).unwrap();
        let rule = |keep: u32| {
            format!("version = 1\n[[mask]]\nid = \"m\"\ndetector = \"cn_mobile\"\naction = \"partial\"\nkeep_first = {keep}\n")
        };
        std::fs::write(dir.join("10-mask.toml"), rule(3)).unwrap();
        let text = "version = 1\n[kafka]\nbootstrap_servers = \"localhost:9092\"\ntopics = [\"a\"]\ngroup_id = \"g\"\n[rules]\ndir = \"rules\"\n[outputs.all]\ntype = \"file\"\ndir = \"out\"\nindex = \"x\"\n[dead_letter]\ndir = \"dead\"\n";
        let config = Config::parse(&root.join("c.toml"), text).unwrap();
        let keys = active::key_ring(&config).unwrap();
        let first = active::load_rules(&config, &keys).unwrap();
        let fingerprint = |r: &ArcSwap<ActiveRules>| r.load().set.fingerprint().to_owned();
        let rules = Arc::new(ArcSwap::from_pointee(first));
        let before = fingerprint(&rules);
        let stats = Arc::new(Stats::default());
        let task = tokio::spawn(watch(config, rules.clone(), stats));
        tokio::time::sleep(Duration::from_millis(200)).await;

        std::fs::rename(&dir, root.join("rules.old")).unwrap();
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("10-mask.toml"), rule(3)).unwrap();
        // Let the swap be seen and the directory watched again.
        tokio::time::sleep(DEBOUNCE * 3).await;
        std::fs::write(dir.join("10-mask.toml"), rule(4)).unwrap();
        let mut changed = false;
        for _ in 0..50 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            if fingerprint(&rules) != before {
                changed = true;
                break;
            }
        }
        task.abort();
        let _ = std::fs::remove_dir_all(&root);
        assert!(changed, "the edit in the new directory was not loaded");
    }
}
