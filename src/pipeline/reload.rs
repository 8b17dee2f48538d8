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
pub async fn watch(config: Config, rules: Arc<ArcSwap<ActiveRules>>, stats: Arc<Stats>) {
    use notify::Watcher;
    let (tx, mut rx) = mpsc::unbounded_channel::<&'static str>();
    let file_tx = tx.clone();
    let mut watcher =
        match notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
            if event.is_ok_and(|e| !e.kind.is_access()) {
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
        if let Err(e) = w.watch(&config.rules.dir, notify::RecursiveMode::NonRecursive) {
            tracing::warn!(error = %e, dir = %config.rules.dir.display(), "cannot watch the rules directory; reload with SIGHUP");
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
