//! Label values (the public enums) and the label sets of each metric family.

use std::fmt;

use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder};

/// Implements `as_str`, `ALL`, `Display` and `EncodeLabelValue` for a fieldless enum whose
/// variants map one to one onto fixed label values.
macro_rules! label_enum {
    ($ty:ident { $($variant:ident => $value:literal),+ $(,)? }) => {
        impl $ty {
            /// Every variant, in declaration order.
            pub const ALL: &'static [$ty] = &[$($ty::$variant),+];

            /// The label value written to the exposition.
            #[must_use]
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($ty::$variant => $value),+
                }
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl EncodeLabelValue for $ty {
            fn encode(&self, encoder: &mut LabelValueEncoder<'_>) -> Result<(), fmt::Error> {
                fmt::Write::write_str(encoder, self.as_str())
            }
        }
    };
}

/// An engine entry point, the `op` label of the request families.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Op {
    /// `cost`: fee estimation of a message.
    Cost,
    /// `validate`: stateless and stateful checks before scheduling.
    Validate,
    /// `lock`: declaring and locking the access set.
    Lock,
    /// `apply`: executing the message against state.
    Apply,
    /// `query`: a read-only question to an engine over committed state.
    Query,
}

label_enum!(Op {
    Cost => "cost",
    Validate => "validate",
    Lock => "lock",
    Apply => "apply",
    Query => "query",
});

/// The outcome of a request, the `status` label of `switchyard_requests_total`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Status {
    /// `ok`: the engine accepted the request.
    Ok,
    /// `rejected`: the message's fault; recorded, processing goes on.
    Rejected,
    /// `temporary`: a passing failure that is retried.
    Temporary,
    /// `critical`: the node cannot go on safely.
    Critical,
    /// `no_engine`: no engine is registered for the message's domain.
    NoEngine,
    /// `malformed`: the message could not be decoded.
    Malformed,
}

label_enum!(Status {
    Ok => "ok",
    Rejected => "rejected",
    Temporary => "temporary",
    Critical => "critical",
    NoEngine => "no_engine",
    Malformed => "malformed",
});

/// A phase of frame production, the `phase` label of `switchyard_frame_duration_seconds`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Phase {
    /// `prepare`: decoding, routing and pricing the frame's messages, and their access sets.
    Prepare,
    /// `validate`: validating them.
    Validate,
    /// `schedule`: building the conflict-free schedule from access sets.
    Schedule,
    /// `execute`: applying the messages.
    Execute,
    /// `commit`: writing the frame durably.
    Commit,
}

label_enum!(Phase {
    Prepare => "prepare",
    Validate => "validate",
    Schedule => "schedule",
    Execute => "execute",
    Commit => "commit",
});

/// Labels of `switchyard_requests_total`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, EncodeLabelSet)]
pub(crate) struct RequestLabels {
    pub(crate) engine: String,
    pub(crate) op: Op,
    pub(crate) status: Status,
}

/// Labels of `switchyard_request_duration_seconds`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, EncodeLabelSet)]
pub(crate) struct EngineOpLabels {
    pub(crate) engine: String,
    pub(crate) op: Op,
}

/// Labels of `switchyard_frame_duration_seconds`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, EncodeLabelSet)]
pub(crate) struct PhaseLabels {
    pub(crate) phase: Phase,
}

/// Labels of `switchyard_queue_depth`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, EncodeLabelSet)]
pub(crate) struct QueueLabels {
    pub(crate) queue: String,
}

/// Labels of `switchyard_engine_up`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, EncodeLabelSet)]
pub(crate) struct EngineLabels {
    pub(crate) engine: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_snake_case_and_distinct() {
        let op: Vec<_> = Op::ALL.iter().map(|v| v.as_str()).collect();
        assert_eq!(op, ["cost", "validate", "lock", "apply", "query"]);
        let status: Vec<_> = Status::ALL.iter().map(|v| v.to_string()).collect();
        assert_eq!(
            status,
            [
                "ok",
                "rejected",
                "temporary",
                "critical",
                "no_engine",
                "malformed"
            ]
        );
        let phase: Vec<_> = Phase::ALL.iter().map(|v| v.as_str()).collect();
        assert_eq!(
            phase,
            ["prepare", "validate", "schedule", "execute", "commit"]
        );
    }
}
