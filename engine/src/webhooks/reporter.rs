//! One app's arrivals and departures (channels occupied and vacated, members added and
//! removed), counted with the peers and reported one at a time, in the order they happened.
//!
//! A departure is reported only once it has lasted the webhook delay; one task per app
//! keeps the departures in a queue by the time they fall due (the delay is the same for
//! all, so that is the order they happened in) and handles each arrival as it comes. A
//! member that left before its channel emptied is reported before the channel, even when
//! its socket queued its departure a moment after the channel's last socket did; and a
//! channel that is vacated before it is occupied again is reported in that order too.

use super::occupancy::{Occupancy, Subject};
use super::{WebhookEvent, Webhooks};
use crate::peers::{Peers, Tally};
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;

/// What the reporting task is asked to do.
enum Job {
    /// Subjects new on this node, channels before members: count and report them now.
    Arrive(Vec<Subject>),
    /// Subjects that left this node, members before channels, with their holds: count and
    /// report those still gone when the delay has passed.
    Depart {
        /// When the delay has passed.
        due: Instant,
        /// Each subject and its hold.
        holds: Vec<(Subject, u64)>,
    },
}

/// The handle to an app's reporting task.
pub(crate) struct Reporter {
    jobs: mpsc::UnboundedSender<Job>,
    delay: Duration,
}

/// What the reporting task works with.
struct Work {
    app_id: String,
    occupancy: Arc<Occupancy>,
    peers: Arc<dyn Peers>,
    webhooks: Arc<Webhooks>,
}

impl Reporter {
    /// Starts the reporting task of an app (inside the server's runtime); it ends when the
    /// reporter is dropped.
    pub(crate) fn start(
        app_id: &str,
        occupancy: Arc<Occupancy>,
        peers: Arc<dyn Peers>,
        webhooks: Arc<Webhooks>,
        delay: Duration,
    ) -> Reporter {
        let (jobs, queue) = mpsc::unbounded_channel();
        let work = Work {
            app_id: app_id.to_string(),
            occupancy,
            peers,
            webhooks,
        };
        tokio::spawn(work.run(queue));
        Reporter { jobs, delay }
    }

    /// Subjects arrived on this node (and were not back within a hold).
    pub(crate) fn arrived(&self, subjects: Vec<Subject>) {
        let _ = self.jobs.send(Job::Arrive(subjects));
    }

    /// Subjects left this node, under these holds.
    pub(crate) fn departed(&self, holds: Vec<(Subject, u64)>) {
        let due = Instant::now() + self.delay;
        let _ = self.jobs.send(Job::Depart { due, holds });
    }
}

impl Work {
    /// Takes jobs until the reporter is gone: arrivals at once, departures when due.
    async fn run(self, mut jobs: mpsc::UnboundedReceiver<Job>) {
        let mut waiting: VecDeque<(Instant, Vec<(Subject, u64)>)> = VecDeque::new();
        loop {
            let due = waiting.front().map(|(due, _)| *due);
            tokio::select! {
                biased;
                _ = tokio::time::sleep_until(due.unwrap_or_else(Instant::now)), if due.is_some() => {
                    let mut arrivals = Vec::new();
                    while let Ok(job) = jobs.try_recv() {
                        match job {
                            Job::Arrive(subjects) => arrivals.push(subjects),
                            Job::Depart { due, holds } => waiting.push_back((due, holds)),
                        }
                    }
                    if let Some((_, holds)) = waiting.pop_front() {
                        let holds = members_first(holds, &mut waiting);
                        self.depart(holds).await;
                    }
                    for subjects in arrivals {
                        self.arrive(subjects).await;
                    }
                }
                job = jobs.recv() => match job {
                    None => return,
                    Some(Job::Arrive(subjects)) => self.arrive(subjects).await,
                    Some(Job::Depart { due, holds }) => waiting.push_back((due, holds)),
                },
            }
        }
    }

    /// Counts arrivals in with the peers; reports those new to the cluster.
    async fn arrive(&self, subjects: Vec<Subject>) {
        for subject in subjects {
            let tally = self.peers.occupy(&self.app_id, &subject.key()).await;
            if tally != Tally::Unchanged {
                self.webhooks.send(arrival(subject));
            }
        }
    }

    /// Counts out the departures that are still gone; reports those gone from the cluster.
    async fn depart(&self, holds: Vec<(Subject, u64)>) {
        for (subject, hold) in holds {
            if !self.occupancy.expire(&subject, hold) {
                continue;
            }
            let tally = self.peers.vacate(&self.app_id, &subject.key()).await;
            if tally != Tally::Unchanged {
                self.webhooks.send(departure(subject));
            }
        }
    }
}

/// The holds of a departure that fell due, preceded by the holds of the members of any
/// channel it vacates that are still waiting: sockets that leave together race to queue
/// their departures, and a member whose socket lost the race still left before the channel
/// emptied, so it is reported before it.
fn members_first(
    holds: Vec<(Subject, u64)>,
    waiting: &mut VecDeque<(Instant, Vec<(Subject, u64)>)>,
) -> Vec<(Subject, u64)> {
    let vacated: Vec<String> = holds
        .iter()
        .filter_map(|(subject, _)| match subject {
            Subject::Channel(channel) => Some(channel.clone()),
            Subject::Member { .. } => None,
        })
        .collect();
    if vacated.is_empty() {
        return holds;
    }
    let mut ordered = Vec::new();
    for (_, later) in waiting.iter_mut() {
        let (members, rest): (Vec<_>, Vec<_>) = later.drain(..).partition(|(subject, _)| {
            matches!(subject, Subject::Member { channel, .. } if vacated.contains(channel))
        });
        ordered.extend(members);
        *later = rest;
    }
    waiting.retain(|(_, later)| !later.is_empty());
    ordered.extend(holds);
    ordered
}

/// What webhooks say when a subject arrives.
fn arrival(subject: Subject) -> WebhookEvent {
    match subject {
        Subject::Channel(channel) => WebhookEvent::ChannelOccupied { channel },
        Subject::Member { channel, user_id } => WebhookEvent::MemberAdded { channel, user_id },
    }
}

/// What webhooks say when a subject is gone.
pub(crate) fn departure(subject: Subject) -> WebhookEvent {
    match subject {
        Subject::Channel(channel) => WebhookEvent::ChannelVacated { channel },
        Subject::Member { channel, user_id } => WebhookEvent::MemberRemoved { channel, user_id },
    }
}
