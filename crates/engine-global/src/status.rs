//! The prover state machine: statuses, operations, and the one table from (status, operation)
//! to the next status or a named rejection.
//!
//! [`transition`] is the only place that says which move is legal; the engine, the access
//! sets ([`touched_indexes`]) and the tests all read it. The table in the crate docs is the
//! same table.

use switchyard_proto::v1::ProverStatus;

use crate::config::RegistryConfig;
pub use crate::error::Rejection;

/// A prover's status on one filter, as the state machine sees it (the *effective* status:
/// a stored status whose window closed reads as the status it lapsed into, see [`effective`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Status {
    /// The prover never joined the filter (or is not registered at all).
    None,
    /// Asked to join; may be confirmed or rejected within the confirm window.
    Joining,
    /// Serving the filter.
    Active,
    /// Paused; may resume within the resume window.
    Paused,
    /// Asked to leave; may confirm the leave within the confirm window.
    Leaving,
    /// Left the filter; may join again.
    Left,
    /// Withdrew its join; may join again.
    Rejected,
    /// Let its join lapse past the confirm window; may join again. Never stored.
    Expired,
    /// Removed for equivocation; can never join again (any filter).
    Kicked,
}

impl Status {
    /// Every status, in table order.
    pub const ALL: [Status; 9] = [
        Status::None,
        Status::Joining,
        Status::Active,
        Status::Paused,
        Status::Leaving,
        Status::Left,
        Status::Rejected,
        Status::Expired,
        Status::Kicked,
    ];

    /// The statuses kept in prover records and status indexes ([`Status::None`] and
    /// [`Status::Expired`] never are).
    pub const STORED: [Status; 7] = [
        Status::Joining,
        Status::Active,
        Status::Paused,
        Status::Leaving,
        Status::Left,
        Status::Rejected,
        Status::Kicked,
    ];

    /// Lowercase name, for errors.
    pub const fn name(self) -> &'static str {
        match self {
            Status::None => "none",
            Status::Joining => "joining",
            Status::Active => "active",
            Status::Paused => "paused",
            Status::Leaving => "leaving",
            Status::Left => "left",
            Status::Rejected => "rejected",
            Status::Expired => "expired",
            Status::Kicked => "kicked",
        }
    }

    /// Whether the status is kept in state.
    pub const fn is_stored(self) -> bool {
        !matches!(self, Status::None | Status::Expired)
    }

    /// Whether a prover in this stored status is listed in the filter's index (it has not
    /// left the filter for good or for now).
    pub const fn is_live(self) -> bool {
        matches!(
            self,
            Status::Joining | Status::Active | Status::Paused | Status::Leaving
        )
    }

    /// The wire status.
    pub const fn to_proto(self) -> ProverStatus {
        match self {
            Status::None => ProverStatus::Unspecified,
            Status::Joining => ProverStatus::Joining,
            Status::Active => ProverStatus::Active,
            Status::Paused => ProverStatus::Paused,
            Status::Leaving => ProverStatus::Leaving,
            Status::Left => ProverStatus::Left,
            Status::Rejected => ProverStatus::Rejected,
            Status::Expired => ProverStatus::Expired,
            Status::Kicked => ProverStatus::Kicked,
        }
    }

    /// The status of a wire status.
    pub const fn from_proto(status: ProverStatus) -> Self {
        match status {
            ProverStatus::Unspecified => Status::None,
            ProverStatus::Joining => Status::Joining,
            ProverStatus::Active => Status::Active,
            ProverStatus::Paused => Status::Paused,
            ProverStatus::Leaving => Status::Leaving,
            ProverStatus::Left => Status::Left,
            ProverStatus::Rejected => Status::Rejected,
            ProverStatus::Expired => Status::Expired,
            ProverStatus::Kicked => Status::Kicked,
        }
    }

    /// The stored statuses a filter can hold while it reads as `self` (the inverse of
    /// [`effective`]): a left filter may be stored as left, or as paused or leaving past its
    /// window; an expired one is stored as joining.
    pub const fn stored_forms(self) -> &'static [Status] {
        match self {
            Status::None => &[],
            Status::Joining | Status::Expired => &[Status::Joining],
            Status::Active => &[Status::Active],
            Status::Paused => &[Status::Paused],
            Status::Leaving => &[Status::Leaving],
            Status::Left => &[Status::Left, Status::Paused, Status::Leaving],
            Status::Rejected => &[Status::Rejected],
            Status::Kicked => &[Status::Kicked],
        }
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A prover operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Operation {
    /// `ProverJoin`: ask to serve filters.
    Join,
    /// `ProverConfirm`: confirm a join or a leave once its window opened.
    Confirm,
    /// `ProverReject`: withdraw a join once its window opened.
    Reject,
    /// `ProverLeave`: ask to leave filters.
    Leave,
    /// `ProverPause`: pause an active filter.
    Pause,
    /// `ProverResume`: resume a paused filter within the resume window.
    Resume,
    /// `ProverUpdate`: change the delegate address (no status changes).
    Update,
    /// `ProverKick`: remove an equivocating prover (signed by another registered prover).
    Kick,
}

impl Operation {
    /// Every operation, in table order.
    pub const ALL: [Operation; 8] = [
        Operation::Join,
        Operation::Confirm,
        Operation::Reject,
        Operation::Leave,
        Operation::Pause,
        Operation::Resume,
        Operation::Update,
        Operation::Kick,
    ];

    /// The operation's message name, as in `global.proto`.
    pub const fn name(self) -> &'static str {
        match self {
            Operation::Join => "ProverJoin",
            Operation::Confirm => "ProverConfirm",
            Operation::Reject => "ProverReject",
            Operation::Leave => "ProverLeave",
            Operation::Pause => "ProverPause",
            Operation::Resume => "ProverResume",
            Operation::Update => "ProverUpdate",
            Operation::Kick => "ProverKick",
        }
    }
}

impl std::fmt::Display for Operation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One cell of the table: what an operation does to a filter in a status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Moves to the status at once.
    To(Status),
    /// Moves to the status, but only once the confirm window opened:
    /// `frame >= since + confirm_min_delay` (its end is enforced by [`effective`]).
    AfterDelay(Status),
    /// Legal, and leaves the status as it is (update).
    Stay,
    /// Refused.
    Refuse(Rejection),
}

impl Next {
    /// The status moved to, if the cell moves.
    pub const fn target(self) -> Option<Status> {
        match self {
            Next::To(status) | Next::AfterDelay(status) => Some(status),
            Next::Stay | Next::Refuse(_) => None,
        }
    }
}

/// One row of the table: the cell of every operation for one status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Row {
    join: Next,
    confirm: Next,
    reject: Next,
    leave: Next,
    pause: Next,
    resume: Next,
    update: Next,
    kick: Next,
}

impl Row {
    const fn cell(&self, operation: Operation) -> Next {
        match operation {
            Operation::Join => self.join,
            Operation::Confirm => self.confirm,
            Operation::Reject => self.reject,
            Operation::Leave => self.leave,
            Operation::Pause => self.pause,
            Operation::Resume => self.resume,
            Operation::Update => self.update,
            Operation::Kick => self.kick,
        }
    }
}

/// Builds a row from its cells in [`Operation::ALL`] order.
#[allow(clippy::too_many_arguments)]
const fn row(
    join: Next,
    confirm: Next,
    reject: Next,
    leave: Next,
    pause: Next,
    resume: Next,
    update: Next,
    kick: Next,
) -> Row {
    Row {
        join,
        confirm,
        reject,
        leave,
        pause,
        resume,
        update,
        kick,
    }
}

/// The state machine: what `operation` does to a filter whose effective status is `status`.
/// Every (status, operation) pair has a cell; anything but a move or `Stay` is a named
/// rejection.
pub const fn transition(status: Status, operation: Operation) -> Next {
    use Next::{AfterDelay, Refuse as No, Stay, To};
    use Rejection::*;
    use Status as S;
    #[rustfmt::skip]
    let row = match status {
        //                 Join              Confirm                 Reject              Leave               Pause              Resume            Update        Kick
        S::None     => row(To(S::Joining),   No(NotJoined),          No(NotJoined),      No(NotJoined),      No(NotJoined),     No(NotJoined),    No(NotRegistered), No(NotRegistered)),
        S::Joining  => row(No(AlreadyJoining), AfterDelay(S::Active), AfterDelay(S::Rejected), No(NotServing), No(NotActive),   No(NotPaused),    Stay,         To(S::Kicked)),
        S::Active   => row(No(AlreadyServing), No(NothingToConfirm), No(NotJoining),    To(S::Leaving),     To(S::Paused),     No(NotPaused),    Stay,         To(S::Kicked)),
        S::Paused   => row(No(AlreadyServing), No(NothingToConfirm), No(NotJoining),    To(S::Leaving),     No(AlreadyPaused), To(S::Active),    Stay,         To(S::Kicked)),
        S::Leaving  => row(No(AlreadyServing), AfterDelay(S::Left), No(NotJoining),     No(AlreadyLeaving), No(NotActive),     No(NotPaused),    Stay,         To(S::Kicked)),
        S::Left     => row(To(S::Joining),   No(NothingToConfirm),   No(NotJoining),     No(NotServing),     No(NotActive),     No(NotPaused),    Stay,         To(S::Kicked)),
        S::Rejected => row(To(S::Joining),   No(NothingToConfirm),   No(NotJoining),     No(NotServing),     No(NotActive),     No(NotPaused),    Stay,         To(S::Kicked)),
        S::Expired  => row(To(S::Joining),   No(JoinExpired),        No(JoinExpired),    No(NotServing),     No(NotActive),     No(NotPaused),    Stay,         To(S::Kicked)),
        S::Kicked   => row(No(Kicked),       No(Kicked),             No(Kicked),         No(Kicked),         No(Kicked),        No(Kicked),       No(Kicked),   No(AlreadyKicked)),
    };
    row.cell(operation)
}

/// The status a filter stored as `stored` since frame `since` reads as at `frame`: a join
/// not confirmed or rejected by `since + confirm_max_delay` is expired, a leave not confirmed
/// by then has left, and a pause not resumed by `since + resume_window` has left. Any other
/// status reads as stored.
pub fn effective(stored: Status, since: u64, frame: u64, config: &RegistryConfig) -> Status {
    let past = |window: u64| frame > since.saturating_add(window);
    match stored {
        Status::Joining if past(config.confirm_max_delay) => Status::Expired,
        Status::Leaving if past(config.confirm_max_delay) => Status::Left,
        Status::Paused if past(config.resume_window) => Status::Left,
        other => other,
    }
}

/// The last frame at which a filter stored as `stored` since `since` still reads as stored,
/// for the statuses that lapse (joining, leaving, paused).
pub fn window_end(stored: Status, since: u64, config: &RegistryConfig) -> Option<u64> {
    match stored {
        Status::Joining | Status::Leaving => Some(since.saturating_add(config.confirm_max_delay)),
        Status::Paused => Some(since.saturating_add(config.resume_window)),
        _ => None,
    }
}

/// The stored statuses whose indexes `operation` may write: for every cell that moves, the
/// stored forms of the status it moves from, and the status it moves to. This is what the
/// operation's access set declares, read off the table.
pub fn touched_indexes(operation: Operation) -> Vec<Status> {
    let mut statuses: Vec<Status> = Vec::new();
    for from in Status::ALL {
        if let Some(to) = transition(from, operation).target() {
            statuses.extend_from_slice(from.stored_forms());
            statuses.push(to);
        }
    }
    statuses.sort_unstable();
    statuses.dedup();
    statuses
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proto_statuses_round_trip() {
        for status in Status::ALL {
            assert_eq!(Status::from_proto(status.to_proto()), status);
        }
    }

    #[test]
    fn moves_only_reach_stored_statuses() {
        for from in Status::ALL {
            for operation in Operation::ALL {
                if let Some(to) = transition(from, operation).target() {
                    assert!(to.is_stored(), "{from} x {operation} -> {to}");
                }
            }
        }
    }

    #[test]
    fn effective_statuses_have_their_stored_form() {
        let config = RegistryConfig::default();
        for stored in Status::STORED {
            for frame in [0, 10, 360, 720, 721, 1440, 1441, 5000] {
                let read = effective(stored, 0, frame, &config);
                assert!(
                    read.stored_forms().contains(&stored),
                    "{stored} reads as {read} at {frame}"
                );
            }
        }
    }

    #[test]
    fn indexes_touched_follow_the_table() {
        use Status::*;
        assert_eq!(
            touched_indexes(Operation::Confirm),
            [Joining, Active, Leaving, Left]
        );
        assert_eq!(touched_indexes(Operation::Update), []);
        assert_eq!(touched_indexes(Operation::Kick), Status::STORED);
    }
}
