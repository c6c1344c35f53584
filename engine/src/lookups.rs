//! Apps looked up from the host on demand: when a client names a key (or the HTTP API an id)
//! the server does not have, the host is asked through the event queue, and the handshake or
//! call waits for the answer a bounded time. The engine never calls into the host itself.
//!
//! Several clients naming the same unknown app wait on one question. A found app is kept
//! (see [`Apps::insert_looked_up`]); a key or id the host does not know is remembered for
//! `negative_ttl`, so unknown keys cannot make the host hammer its database.

use crate::app::App;
use crate::apps::Apps;
use crate::config::{AppConfig, LookupConfig};
use crate::events::{EngineEvent, EventQueue};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::watch;

/// The most questions that may wait for the host at once; clients beyond them are refused
/// at once, as for an unknown app.
const MAX_PENDING: usize = 10_000;

/// The most unknown keys and ids remembered; when full, the expired ones are forgotten, and
/// if none has expired, all of them.
const MAX_UNKNOWN: usize = 100_000;

/// What a client named the app by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum By {
    /// The public key of `/app/{key}` or `auth_key`.
    Key,
    /// The id of `/apps/{id}`.
    Id,
}

impl By {
    /// How the host event names it.
    pub fn as_str(self) -> &'static str {
        match self {
            By::Key => "key",
            By::Id => "id",
        }
    }
}

/// Questions to the host and what it answered.
pub struct Lookups {
    config: LookupConfig,
    events: Arc<EventQueue>,
    next: AtomicU64,
    /// Questions waiting for an answer: what they ask, and the signal their waiters watch.
    pending: Mutex<HashMap<u64, Question>>,
    /// Which question asks for a key or id, so clients naming it wait on the same one.
    asking: Mutex<HashMap<(By, String), u64>>,
    /// Keys and ids the host did not know, until when.
    unknown: Mutex<HashMap<(By, String), Instant>>,
}

struct Question {
    subject: (By, String),
    answered: watch::Sender<bool>,
}

/// Why the host's answer to a lookup was not taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnswerError {
    /// The app entry does not name the key or id that was asked for.
    #[error("the app answered for lookup {lookup} has {by} \"{found}\", not \"{asked}\"")]
    Mismatch {
        /// The question's number.
        lookup: u64,
        /// `key` or `id`.
        by: &'static str,
        /// What was asked.
        asked: String,
        /// What the entry has.
        found: String,
    },
}

impl Lookups {
    /// Asks through `events`, as `config` says.
    pub fn new(config: LookupConfig, events: Arc<EventQueue>) -> Lookups {
        Lookups {
            config,
            events,
            next: AtomicU64::new(1),
            pending: Mutex::new(HashMap::new()),
            asking: Mutex::new(HashMap::new()),
            unknown: Mutex::new(HashMap::new()),
        }
    }

    /// The app named `value`, asking the host when `apps` does not have it; `None` when the
    /// host does not know it, did not answer in time, or too many questions wait.
    pub async fn find(&self, apps: &Apps, by: By, value: &str) -> Option<Arc<App>> {
        let subject = (by, value.to_string());
        if self.is_known_unknown(&subject) {
            return None;
        }
        let (lookup, mut answered) = self.ask(subject)?;
        let waited = tokio::time::timeout(self.config.timeout, answered.wait_for(|done| *done));
        if waited.await.is_err() {
            self.abandon(lookup);
        }
        match by {
            By::Key => apps.by_key(value),
            By::Id => apps.by_id(value),
        }
    }

    /// Takes the host's answer to question `lookup`: the app entry, or `None` for unknown. An
    /// answer that comes after its clients gave up is still taken, so the next one finds it.
    pub fn answer(
        &self,
        apps: &Apps,
        lookup: u64,
        app: Option<AppConfig>,
    ) -> Result<(), AnswerError> {
        let Some(question) = self.pending.lock().remove(&lookup) else {
            // Its clients gave up, but the host did the work: the next client finds the app.
            if let Some(app) = app {
                apps.insert_looked_up(app, Instant::now() + self.config.cache_ttl);
            }
            return Ok(());
        };
        self.asking.lock().remove(&question.subject);
        let (by, asked) = &question.subject;
        let result = match app {
            Some(app) => {
                let found = match by {
                    By::Key => &app.key,
                    By::Id => &app.app_id,
                };
                if found == asked {
                    apps.insert_looked_up(app, Instant::now() + self.config.cache_ttl);
                    Ok(())
                } else {
                    Err(AnswerError::Mismatch {
                        lookup,
                        by: by.as_str(),
                        asked: asked.clone(),
                        found: found.clone(),
                    })
                }
            }
            None => {
                self.remember_unknown(question.subject.clone());
                Ok(())
            }
        };
        let _ = question.answered.send(true);
        result
    }

    /// Forgets every unknown key and id: after the host's apps changed, they may exist now.
    pub fn forget_unknown(&self) {
        self.unknown.lock().clear();
    }

    /// The question for `subject` and a signal of its answer, asked now unless one already
    /// waits; `None` when too many questions wait.
    fn ask(&self, subject: (By, String)) -> Option<(u64, watch::Receiver<bool>)> {
        let mut asking = self.asking.lock();
        let mut pending = self.pending.lock();
        if let Some((id, question)) = asking
            .get(&subject)
            .and_then(|id| pending.get(id).map(|question| (*id, question)))
        {
            return Some((id, question.answered.subscribe()));
        }
        if pending.len() >= MAX_PENDING {
            return None;
        }
        let lookup = self.next.fetch_add(1, Ordering::Relaxed);
        let (answered, receiver) = watch::channel(false);
        self.events.push(EngineEvent::AppLookup {
            lookup,
            by: subject.0.as_str(),
            value: subject.1.clone(),
        });
        asking.insert(subject.clone(), lookup);
        pending.insert(lookup, Question { subject, answered });
        Some((lookup, receiver))
    }

    /// Takes question `lookup` back once a waiter gave up on it, so a host that never answers
    /// cannot fill the table; the other waiters stop waiting too.
    fn abandon(&self, lookup: u64) {
        let mut asking = self.asking.lock();
        if let Some(question) = self.pending.lock().remove(&lookup) {
            asking.remove(&question.subject);
        }
    }

    fn is_known_unknown(&self, subject: &(By, String)) -> bool {
        let mut unknown = self.unknown.lock();
        match unknown.get(subject) {
            Some(until) if *until > Instant::now() => true,
            Some(_) => {
                unknown.remove(subject);
                false
            }
            None => false,
        }
    }

    fn remember_unknown(&self, subject: (By, String)) {
        let mut unknown = self.unknown.lock();
        let now = Instant::now();
        if unknown.len() >= MAX_UNKNOWN {
            unknown.retain(|_, until| *until > now);
            if unknown.len() >= MAX_UNKNOWN {
                unknown.clear();
            }
        }
        unknown.insert(subject, now + self.config.negative_ttl);
    }
}
