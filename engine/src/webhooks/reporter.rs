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
use std::collections::{HashMap, VecDeque};
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
        let mut waiting = Departures::default();
        loop {
            let due = waiting.next_due();
            tokio::select! {
                biased;
                _ = tokio::time::sleep_until(due.unwrap_or_else(Instant::now)), if due.is_some() => {
                    let mut arrivals = Vec::new();
                    while let Ok(job) = jobs.try_recv() {
                        match job {
                            Job::Arrive(subjects) => arrivals.push(subjects),
                            Job::Depart { due, holds } => waiting.push(due, holds),
                        }
                    }
                    if let Some(holds) = waiting.pop_due() {
                        self.depart(holds).await;
                    }
                    for subjects in arrivals {
                        self.arrive(subjects).await;
                    }
                }
                job = jobs.recv() => match job {
                    None => return,
                    Some(Job::Arrive(subjects)) => self.arrive(subjects).await,
                    Some(Job::Depart { due, holds }) => waiting.push(due, holds),
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

/// Departures waiting for their delay, in the order they fall due, with how many member
/// holds wait per channel so that a channel's members can be found without a search when
/// none wait.
#[derive(Default)]
struct Departures {
    queue: VecDeque<(Instant, Vec<(Subject, u64)>)>,
    members: HashMap<String, usize>,
}

impl Departures {
    /// When the first departure falls due.
    fn next_due(&self) -> Option<Instant> {
        self.queue.front().map(|(due, _)| *due)
    }

    /// Queues a departure.
    fn push(&mut self, due: Instant, holds: Vec<(Subject, u64)>) {
        for channel in holds
            .iter()
            .filter_map(|(subject, _)| member_channel(subject))
        {
            *self.members.entry(channel.to_string()).or_default() += 1;
        }
        self.queue.push_back((due, holds));
    }

    /// The first departure, preceded by the holds of the members of any channel it vacates
    /// that are still waiting: sockets that leave together race to queue their departures,
    /// and a member whose socket lost the race still left before the channel emptied, so
    /// it is reported before it.
    fn pop_due(&mut self) -> Option<Vec<(Subject, u64)>> {
        let (_, holds) = self.queue.pop_front()?;
        self.uncount(&holds);
        let mut ordered = Vec::new();
        for (subject, _) in &holds {
            if let Subject::Channel(channel) = subject {
                ordered.extend(self.take_members_of(channel));
            }
        }
        ordered.extend(holds);
        Some(ordered)
    }

    /// Takes the waiting member holds of `channel` out of the queue.
    fn take_members_of(&mut self, channel: &str) -> Vec<(Subject, u64)> {
        if !self.members.contains_key(channel) {
            return Vec::new();
        }
        let of_channel = |subject: &Subject| member_channel(subject) == Some(channel);
        let mut taken = Vec::new();
        for (_, later) in self.queue.iter_mut() {
            if later.iter().any(|(subject, _)| of_channel(subject)) {
                let (members, rest): (Vec<_>, Vec<_>) = later
                    .drain(..)
                    .partition(|(subject, _)| of_channel(subject));
                taken.extend(members);
                *later = rest;
            }
        }
        self.queue.retain(|(_, later)| !later.is_empty());
        self.members.remove(channel);
        taken
    }

    /// Forgets the member holds of a departure leaving the queue.
    fn uncount(&mut self, holds: &[(Subject, u64)]) {
        for channel in holds
            .iter()
            .filter_map(|(subject, _)| member_channel(subject))
        {
            if let Some(count) = self.members.get_mut(channel) {
                *count -= 1;
                if *count == 0 {
                    self.members.remove(channel);
                }
            }
        }
    }
}

/// The channel of a member subject.
fn member_channel(subject: &Subject) -> Option<&str> {
    match subject {
        Subject::Member { channel, .. } => Some(channel),
        Subject::Channel(_) => None,
    }
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
