//! The fixed world every manager target runs against, and the managers over it.

use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use switchyard_manager::{Frame, Manager};
use switchyard_router::Engine;
use switchyard_router::domains::{GLOBAL, NATIVE_TOKEN};
use switchyard_state::{ChangeSet, Head, MemoryStore, Store};
use switchyard_testkit::workload::{
    self, ComputeParams, HypergraphParams, MixedParams, NETWORK_ID, Workload,
};

use crate::store::LayerStore;

/// Who collects every fuzzed frame's fees.
pub(crate) const FEE_RECIPIENT: [u8; 32] = [0xFE; 32];

/// The state the manager targets start from: genesis and two frames of the testkit's mixed,
/// compute and hypergraph workloads (tokens, escrows, provers, apps with code, hypergraphs
/// with vertices), plus what the seeds are made of.
pub(crate) struct World {
    /// Genesis and the warm-up frames, committed; never written after.
    pub(crate) store: Arc<MemoryStore>,
    /// The head after the warm-up frames; fuzzed frames are its successor.
    pub(crate) head: Head,
    /// Every target the workloads send to, then the native token and the global domain:
    /// what a target byte of an input indexes.
    pub(crate) targets: Vec<Vec<u8>>,
    /// Each workload's last frame, held back: valid messages at the world's head.
    pub(crate) next: Vec<Vec<(Vec<u8>, Vec<u8>)>>,
    /// The messages of the warm-up frames (replays, at the world's head).
    pub(crate) executed: Vec<(Vec<u8>, Vec<u8>)>,
}

/// Every engine the node registers.
pub(crate) fn engines() -> Vec<Arc<dyn Engine>> {
    vec![
        Arc::new(switchyard_token::TokenEngine::new()),
        Arc::new(switchyard_hypergraph::HypergraphEngine::new()),
        Arc::new(switchyard_global::GlobalEngine::new()),
        Arc::new(switchyard_compute::ComputeEngine::new()),
    ]
}

/// A manager with every engine over `store`, on `threads` workers.
pub(crate) fn manager(store: Arc<dyn Store>, threads: usize) -> Manager {
    Manager::builder()
        .engines(engines())
        .network_id(NETWORK_ID)
        .threads(threads)
        .store(store)
        .build()
        .expect("the fuzz manager builds")
}

fn workloads() -> Vec<Workload> {
    vec![
        workload::mixed(MixedParams {
            seed: 0x5EED_0001,
            accounts: 6,
            messages: 36,
            frame_size: 12,
            adversarial: true,
        }),
        workload::compute(ComputeParams {
            seed: 0x5EED_0002,
            apps: 2,
            messages: 4,
            frame_size: 2,
        }),
        workload::hypergraph(HypergraphParams {
            seed: 0x5EED_0003,
            writers: 2,
            messages: 4,
            frame_size: 2,
        }),
    ]
}

impl World {
    fn build() -> World {
        let workloads = workloads();
        let mut genesis = workloads
            .first()
            .map(|w| w.genesis.clone())
            .unwrap_or_default();
        for w in &workloads {
            genesis.balances.extend(w.genesis.balances.iter().copied());
        }
        genesis.balances.sort();
        genesis.balances.dedup_by(|a, b| a.0 == b.0);
        let changes: ChangeSet = switchyard_token::genesis(&genesis)
            .expect("the merged genesis is valid")
            .into_iter()
            .collect();
        let store = Arc::new(MemoryStore::new());
        // One worker thread, dropped with the manager before any fork server starts.
        let builder = manager(store.clone(), 1);
        builder.genesis(0, &changes).expect("genesis commits");

        // World frame i holds frame i of every workload; each workload's last frame is held back.
        let warm_up = workloads
            .iter()
            .map(|w| w.frames.len().saturating_sub(1))
            .max()
            .unwrap_or(0);
        let mut executed = Vec::new();
        let mut targets: Vec<Vec<u8>> = Vec::new();
        let mut remember = |target: &Vec<u8>| {
            if !targets.contains(target) {
                targets.push(target.clone());
            }
        };
        for w in &workloads {
            for frame in &w.frames {
                for (target, _) in &frame.messages {
                    remember(target);
                }
            }
        }
        remember(&NATIVE_TOKEN.0.to_vec());
        remember(&GLOBAL.0.to_vec());
        for index in 0..warm_up {
            let multiplier = workloads
                .first()
                .and_then(|w| w.frames.get(index))
                .map_or(1, |f| f.fee_multiplier);
            let mut frame = Frame::new(index as u64 + 1)
                .fee_recipient(FEE_RECIPIENT)
                .fee_multiplier(multiplier);
            for w in &workloads {
                if let Some(part) = w.frames.get(index).filter(|_| index + 1 < w.frames.len()) {
                    frame.messages.extend(part.messages.iter().cloned());
                }
            }
            executed.extend(frame.messages.iter().cloned());
            builder
                .execute_frame_serial(&frame)
                .expect("a warm-up frame commits");
        }
        let next = workloads
            .iter()
            .filter_map(|w| w.frames.last().map(|f| f.messages.clone()))
            .collect();
        drop(builder);
        let head = store.head().expect("the world has a head");
        World {
            store,
            head,
            targets,
            next,
            executed,
        }
    }

    /// The frame number of every fuzzed frame.
    pub(crate) fn next_frame(&self) -> u64 {
        self.head.frame_number + 1
    }
}

static WORLD: OnceLock<World> = OnceLock::new();

/// The world, built on first use.
pub(crate) fn world() -> &'static World {
    WORLD.get_or_init(World::build)
}

/// Two managers over the world, each on its own [`LayerStore`]: one with a single worker (the
/// entry points, and the reference executor), one with two (the parallel executor).
pub(crate) struct Managers {
    pub(crate) serial: Manager,
    pub(crate) serial_store: Arc<LayerStore>,
    pub(crate) parallel: Manager,
    pub(crate) parallel_store: Arc<LayerStore>,
    /// Held by every target while it runs: inputs share the lock table and the layers.
    one_at_a_time: Mutex<()>,
}

impl Managers {
    /// Exclusive use of the managers, with both stores back at the world.
    pub(crate) fn enter(&self) -> MutexGuard<'_, ()> {
        let guard = self.one_at_a_time.lock().unwrap_or_else(|e| e.into_inner());
        self.reset();
        guard
    }

    /// Both stores back at the world; every lock released.
    pub(crate) fn reset(&self) {
        self.serial_store.reset();
        self.parallel_store.reset();
        self.serial.unlock_all();
        self.parallel.unlock_all();
    }
}

static MANAGERS: OnceLock<Managers> = OnceLock::new();

/// The managers, built on first use (after a fork server started: their worker threads would
/// not survive a fork).
pub(crate) fn managers() -> &'static Managers {
    MANAGERS.get_or_init(|| {
        let world = world();
        let serial_store = Arc::new(LayerStore::new(world.store.clone()));
        let parallel_store = Arc::new(LayerStore::new(world.store.clone()));
        Managers {
            serial: manager(serial_store.clone(), 1),
            serial_store,
            parallel: manager(parallel_store.clone(), 2),
            parallel_store,
            one_at_a_time: Mutex::new(()),
        }
    })
}

#[cfg(test)]
mod tests {
    use switchyard_proto::v1::MessageStatus;
    use switchyard_state::Store;

    use super::*;

    /// Statuses of the outcomes of a receipt.
    fn statuses(receipt: &switchyard_proto::v1::FrameReceipt) -> Vec<MessageStatus> {
        receipt.outcomes.iter().map(|o| o.status()).collect()
    }

    #[test]
    fn the_world_is_busy_and_its_next_frames_apply() {
        let world = world();
        assert!(world.head.frame_number >= 2);
        let mut applied = 0;
        for number in 1..=world.head.frame_number {
            let bytes = world.store.receipt(number).unwrap().unwrap();
            let receipt =
                <switchyard_proto::v1::FrameReceipt as switchyard_proto::CanonicalMessage>::from_canonical_bytes(&bytes)
                    .unwrap();
            eprintln!("warm-up frame {number}: {:?}", statuses(&receipt));
            applied += statuses(&receipt)
                .iter()
                .filter(|s| **s == MessageStatus::Applied)
                .count();
        }
        assert!(applied >= 10, "only {applied} warm-up messages applied");
        let managers = managers();
        for messages in &world.next {
            let _one = managers.enter();
            let mut frame = Frame::new(world.next_frame()).fee_recipient(FEE_RECIPIENT);
            frame.messages = messages.clone();
            let result = managers.serial.execute_frame_serial(&frame).unwrap();
            eprintln!("held-back frame: {:?}", statuses(&result.receipt));
            assert!(statuses(&result.receipt).contains(&MessageStatus::Applied));
        }
    }
}
