//! A tiny chain for tests: the registry's genesis, then the manager's pipeline for each signed
//! operation (authenticate, validate, access, cost, nonce settlement, apply on a view that
//! refuses addresses outside the access set, rollback of a failed apply but not of its nonce).

use std::collections::BTreeSet;

use switchyard_global::{
    Filter, GenesisProver, GlobalEngine, GlobalError, GlobalGenesis, ProverClient, ProverRecord,
    RegistryConfig, SignedRequest, Status, filter_index, prover, status_index, write_genesis,
};
use switchyard_proto::v1::FrameHeader;
use switchyard_router::auth::SigningKey;
use switchyard_router::domains::native_account;
use switchyard_router::fees::{self, AccountRecord};
use switchyard_router::{EngineError, ExecutionContext, Key, MemoryView};
use switchyard_testkit::Pipeline;

pub const NET: u32 = 7;

/// The signers registered at genesis (prover `n` active on [`filter`]`(n)`), able to kick.
pub const GENESIS_PROVERS: [u8; 2] = [100, 101];

/// A client for test prover `n` (key bytes `[n; 32]`), next nonce 1.
pub fn client(n: u8) -> ProverClient {
    ProverClient::new(SigningKey::from_bytes(&[n; 32]), NET, 1)
}

/// The public key of test prover `n`.
pub fn key(n: u8) -> Key {
    client(n).public_key()
}

/// Test filter `n`.
pub fn filter(n: u8) -> Filter {
    [n; 32]
}

/// Two different headers for `frame` signed by `prover`.
pub fn equivocation(prover: &ProverClient, frame: u64) -> (FrameHeader, FrameHeader) {
    (
        prover.frame_header(frame, [1; 32], [2; 32], [3; 32]),
        prover.frame_header(frame, [1; 32], [4; 32], [3; 32]),
    )
}

/// Where the pipeline stopped.
pub use switchyard_testkit::Failure;

pub struct Chain {
    pub state: MemoryView,
    pub engine: GlobalEngine,
    pub frame: u64,
}

impl Chain {
    /// A chain with the default configuration and the genesis provers, at frame 1.
    pub fn new() -> Self {
        Self::with_config(RegistryConfig::default())
    }

    pub fn with_config(config: RegistryConfig) -> Self {
        let mut state = MemoryView::default();
        let genesis = GlobalGenesis {
            config,
            provers: GENESIS_PROVERS
                .iter()
                .map(|n| GenesisProver {
                    key: key(*n),
                    filters: vec![filter(*n)],
                    delegate: None,
                })
                .collect(),
            frame: 0,
        };
        write_genesis(&mut state, &genesis).unwrap();
        Self {
            state,
            engine: GlobalEngine::new(),
            frame: 1,
        }
    }

    pub fn ctx(&self) -> ExecutionContext {
        ExecutionContext::new(self.frame, NET)
    }

    /// Syncs `client`'s nonce with the chain, builds an operation with it and runs it.
    pub fn send(
        &mut self,
        client: &mut ProverClient,
        build: impl FnOnce(&mut ProverClient) -> SignedRequest,
    ) -> Result<(), Failure> {
        client.set_next_nonce(self.nonce(client.public_key()) + 1);
        let op = build(client);
        self.submit(&op)
    }

    /// Runs `op` through the whole pipeline: prover operations are free, and a refused apply
    /// is the engine's refusal, never a state error.
    pub fn submit(&mut self, op: &SignedRequest) -> Result<(), Failure> {
        let ctx = self.ctx();
        let outcome = Pipeline::new(&self.engine)
            .exact_access(false)
            .free(true)
            .submit(&ctx, &op.request, None, &mut self.state);
        if let Err(Failure::Apply(error)) = &outcome.result {
            assert!(
                !matches!(error, EngineError::State(_)),
                "apply failed on state: {error}"
            );
        }
        outcome.result.map(|_| ())
    }

    /// Moves to frame `frame`.
    pub fn at(&mut self, frame: u64) -> &mut Self {
        assert!(frame >= self.frame);
        self.frame = frame;
        self
    }

    pub fn nonce(&self, account: Key) -> u64 {
        AccountRecord::load(&self.state, &native_account(account))
            .unwrap()
            .nonce
    }

    pub fn record(&self, prover_key: Key) -> Option<ProverRecord> {
        prover(&self.state, &prover_key).unwrap()
    }

    /// The stored status of `prover_key` on `f` (`None` when it never joined it).
    pub fn stored(&self, prover_key: Key, f: Filter) -> Option<Status> {
        self.record(prover_key)
            .and_then(|r| r.filters.get(&f).map(|s| s.status))
    }

    /// `before` with only `signer`'s nonce bumped: what a refused apply leaves.
    pub fn assert_only_nonce(&self, before: &MemoryView, signer: Key) {
        let mut expected = before.clone();
        fees::settle(&mut expected, &signer, self.nonce(signer), 0).unwrap();
        assert_eq!(
            self.state, expected,
            "a refused apply leaves only its nonce"
        );
    }

    /// Checks that the indexes and the records of `provers` agree: every (prover, filter) is
    /// in the index of its stored status and no other, and in its filter's index exactly
    /// while live; and the indexes list nothing else.
    pub fn check_indexes(&self, provers: &[Key], filters: &[Filter]) {
        let mut expected_status: BTreeSet<(Status, Key, Filter, u64)> = BTreeSet::new();
        let mut expected_filter: BTreeSet<(Filter, Key, Status, u64)> = BTreeSet::new();
        for p in provers {
            let Some(record) = self.record(*p) else {
                continue;
            };
            for (f, state) in &record.filters {
                if record.kicked {
                    assert_eq!(state.status, Status::Kicked);
                }
                expected_status.insert((state.status, *p, *f, state.since_frame));
                if state.status.is_live() {
                    expected_filter.insert((*f, *p, state.status, state.since_frame));
                }
            }
        }
        let mut found_status = BTreeSet::new();
        for status in Status::STORED {
            for entry in status_index(&self.state, status).unwrap() {
                if provers.contains(&entry.prover) {
                    found_status.insert((status, entry.prover, entry.filter, entry.since_frame));
                }
            }
        }
        assert_eq!(found_status, expected_status, "status indexes");
        let mut found_filter = BTreeSet::new();
        for f in filters {
            for entry in filter_index(&self.state, f).unwrap() {
                if provers.contains(&entry.prover) {
                    found_filter.insert((*f, entry.prover, entry.status, entry.since_frame));
                }
            }
        }
        assert_eq!(found_filter, expected_filter, "filter indexes");
    }
}

/// The global error of a rejection at `validate`.
#[track_caller]
pub fn at_validate(result: Result<(), Failure>) -> GlobalError {
    match result {
        Err(Failure::Validate(error)) => error
            .downcast_ref::<GlobalError>()
            .cloned()
            .unwrap_or_else(|| panic!("validate failed with a non-global error: {error}")),
        other => panic!("expected a validate rejection, got {other:?}"),
    }
}

/// The global error of a rejection at `apply`.
#[track_caller]
pub fn at_apply(result: Result<(), Failure>) -> GlobalError {
    match result {
        Err(Failure::Apply(error)) => error
            .downcast_ref::<GlobalError>()
            .cloned()
            .unwrap_or_else(|| panic!("apply failed with a non-global error: {error}")),
        other => panic!("expected an apply rejection, got {other:?}"),
    }
}
