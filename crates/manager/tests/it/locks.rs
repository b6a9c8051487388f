//! The lock table behind `Manager::lock` / `unlock` (DESIGN §7): global across engines and
//! domains, writes exclusive, reads shared, all or nothing.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Barrier, Mutex, RwLock};

use switchyard_manager::{LockLease, Manager, ManagerError};
use switchyard_proto::v1::MessageRequest;
use switchyard_router::domains::{
    COMPUTE, HYPERGRAPH, NATIVE_TOKEN, metadata_address, native_account,
};
use switchyard_router::{Address, Domain};

use crate::common::*;

fn locking_manager() -> (TestEngines, Manager) {
    let engines = TestEngines::new();
    let manager = full_manager(&engines, 1);
    manager.genesis(0, &rich_genesis(3)).unwrap();
    (engines, manager)
}

/// A compute message by `signer` declaring `reads` and `writes`.
fn execute(signer: u8, reads: &[Address], writes: &[Address]) -> Vec<u8> {
    bytes(&signed(
        code_execute(reads, writes, b"x"),
        signer,
        COMPUTE,
        1,
    ))
}

fn conflict_on(result: Result<LockLease, ManagerError>) -> Address {
    match result {
        Err(ManagerError::LockConflict { address }) => address,
        other => panic!("expected a lock conflict, got {other:?}"),
    }
}

fn set(addresses: &[Address]) -> BTreeSet<Address> {
    addresses.iter().copied().collect()
}

fn held(lease: &LockLease) -> BTreeSet<Address> {
    lease.addresses().copied().collect()
}

#[test]
fn conflicts_are_detected_across_engines_and_domains() {
    let (_engines, manager) = locking_manager();
    let vertex = addr(HYPERGRAPH, 1);

    // The hypergraph engine writes `vertex`; the lock returns exactly its access set.
    let add = bytes(&signed(vertex_add([1; 32], b"v"), 1, HYPERGRAPH, 1));
    let locked = manager.lock(1, &HYPERGRAPH.0, &add).unwrap();
    assert_eq!(held(&locked), set(&[vertex, native_account(account(1))]));

    // The compute engine writing or reading the same address conflicts, whatever the engine.
    let writer = execute(2, &[], &[vertex]);
    assert_eq!(conflict_on(manager.lock(1, &COMPUTE.0, &writer)), vertex);
    let reader = execute(3, &[vertex], &[]);
    assert_eq!(conflict_on(manager.lock(1, &COMPUTE.0, &reader)), vertex);

    // A native transfer (token engine) writes both native accounts and reads the metadata
    // record: reading the recipient conflicts, reading the metadata record is shared.
    let transfer = client(4, 1).transfer(NATIVE_TOKEN, account(5), 10);
    let locked = manager
        .lock(1, &NATIVE_TOKEN.0, &transfer.to_bytes())
        .unwrap();
    assert_eq!(
        held(&locked),
        set(&[
            native_account(account(4)),
            native_account(account(5)),
            metadata_address(NATIVE_TOKEN)
        ])
    );
    let recipient = native_account(account(5));
    assert_eq!(
        conflict_on(manager.lock(1, &COMPUTE.0, &execute(6, &[recipient], &[]))),
        recipient
    );
    manager
        .lock(
            1,
            &COMPUTE.0,
            &execute(7, &[metadata_address(NATIVE_TOKEN)], &[]),
        )
        .unwrap();

    // Read first, then write: a write over a held read conflicts; another read shares it.
    let shared = addr(COMPUTE, 3);
    manager
        .lock(1, &COMPUTE.0, &execute(8, &[shared], &[]))
        .unwrap();
    manager
        .lock(1, &COMPUTE.0, &execute(9, &[shared], &[]))
        .unwrap();
    assert_eq!(
        conflict_on(manager.lock(1, &COMPUTE.0, &execute(10, &[], &[shared]))),
        shared
    );

    // The same message twice conflicts with itself (its signer's account is written).
    let again = execute(11, &[], &[addr(COMPUTE, 4)]);
    manager.lock(1, &COMPUTE.0, &again).unwrap();
    assert!(matches!(
        manager.lock(1, &COMPUTE.0, &again),
        Err(ManagerError::LockConflict { .. })
    ));
}

#[test]
fn a_refused_lock_leaves_nothing_locked_and_unlock_frees_everything() {
    let (_engines, manager) = locking_manager();
    // `free` sorts before `held`, so a table that locked as it went would keep `free`.
    let free = addr(Domain([0x01; 32]), 0);
    let held = addr(Domain([0x02; 32]), 0);
    assert!(free < held);
    manager
        .lock(1, &COMPUTE.0, &execute(1, &[], &[held]))
        .unwrap();

    let both = execute(2, &[free], &[held]);
    assert_eq!(conflict_on(manager.lock(1, &COMPUTE.0, &both)), held);
    let both_written = execute(2, &[], &[free, held]);
    assert_eq!(
        conflict_on(manager.lock(1, &COMPUTE.0, &both_written)),
        held
    );

    // Neither `free` nor the refused signer's account stayed locked.
    manager
        .lock(1, &COMPUTE.0, &execute(3, &[], &[free]))
        .unwrap();
    manager
        .lock(1, &COMPUTE.0, &execute(2, &[], &[addr(COMPUTE, 9)]))
        .unwrap();

    // Unlock releases everything: the refused message now locks, and again after unlocking.
    manager.unlock_all();
    manager.lock(1, &COMPUTE.0, &both_written).unwrap();
    assert!(manager.lock(1, &COMPUTE.0, &both_written).is_err());
    manager.unlock_all();
    manager.lock(1, &COMPUTE.0, &both_written).unwrap();
}

/// One access set of the concurrent test: its signer, reads and writes, and its message.
struct Spec {
    reads: Vec<Address>,
    writes: Vec<Address>,
    message: Vec<u8>,
}

impl Spec {
    fn new(signer: u8, reads: &[Address], writes: &[Address]) -> Self {
        let request: MessageRequest = signed(code_execute(reads, writes, b"x"), signer, COMPUTE, 1);
        let mut all_writes = writes.to_vec();
        all_writes.push(native_account(account(signer)));
        Self {
            reads: reads.to_vec(),
            writes: all_writes,
            message: bytes(&request),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hold {
    Readers(usize),
    Writer,
}

/// What the lockers of the current epoch (between two unlocks) hold and were refused.
#[derive(Default)]
struct Epoch {
    holders: HashMap<Address, Hold>,
    refusals: Vec<(Address, bool)>,
}

#[derive(Default)]
struct Totals {
    granted: usize,
    refused: usize,
    shared_reads: usize,
    epochs: usize,
}

#[test]
fn concurrent_lockers_never_hold_conflicting_addresses() {
    const THREADS: usize = 8;
    const ATTEMPTS: usize = 200;
    const EPOCH: usize = 8;

    let (_engines, manager) = locking_manager();
    let p = addr(COMPUTE, 1);
    let q = addr(HYPERGRAPH, 2);
    let r = addr(NATIVE_TOKEN, 3);
    let s = addr(Domain([0x77; 32]), 4);
    let specs = [
        Spec::new(11, &[p], &[q]),
        Spec::new(12, &[p, r], &[]),
        Spec::new(13, &[], &[p]),
        Spec::new(14, &[q], &[r]),
        Spec::new(15, &[r], &[s]),
        Spec::new(16, &[s, p], &[]),
    ];
    // Lockers hold the gate shared while they lock and record; an unlock takes it exclusively,
    // so every lock granted in an epoch is still held, and recorded, when the epoch is checked.
    let gate = RwLock::new(());
    let epoch = Mutex::new(Epoch::default());
    let totals = Mutex::new(Totals::default());
    let start = Barrier::new(THREADS);

    std::thread::scope(|scope| {
        for thread in 0..THREADS {
            let (manager, specs, gate, epoch, totals, start) =
                (&manager, &specs, &gate, &epoch, &totals, &start);
            scope.spawn(move || {
                start.wait();
                let mut pick = thread * 7 + 1;
                for attempt in 1..=ATTEMPTS {
                    pick = (pick * 5 + 3) % 64;
                    let spec = &specs[pick % specs.len()];
                    {
                        let _locking = gate.read().unwrap();
                        let result = manager.lock(1, &COMPUTE.0, &spec.message);
                        let mut epoch = epoch.lock().unwrap();
                        let mut totals = totals.lock().unwrap();
                        match result {
                            Ok(locked) => {
                                totals.granted += 1;
                                let expected: BTreeSet<Address> =
                                    spec.reads.iter().chain(&spec.writes).copied().collect();
                                assert_eq!(
                                    locked.addresses().copied().collect::<BTreeSet<_>>(),
                                    expected
                                );
                                for write in &spec.writes {
                                    let before = epoch.holders.insert(*write, Hold::Writer);
                                    assert_eq!(
                                        before, None,
                                        "{write} granted to a writer while held"
                                    );
                                }
                                for read in &spec.reads {
                                    let hold =
                                        epoch.holders.entry(*read).or_insert(Hold::Readers(0));
                                    match hold {
                                        Hold::Writer => {
                                            panic!("{read} granted to a reader while written")
                                        }
                                        Hold::Readers(n) => {
                                            *n += 1;
                                            if *n > 1 {
                                                totals.shared_reads += 1;
                                            }
                                        }
                                    }
                                }
                            }
                            Err(ManagerError::LockConflict { address }) => {
                                totals.refused += 1;
                                let wants_write = spec.writes.contains(&address);
                                assert!(wants_write || spec.reads.contains(&address));
                                epoch.refusals.push((address, wants_write));
                            }
                            Err(other) => panic!("unexpected {other:?}"),
                        }
                    }
                    if attempt % EPOCH == 0 {
                        let _unlocking = gate.write().unwrap();
                        let mut epoch = epoch.lock().unwrap();
                        // Every refusal was caused by a conflicting lock granted in this epoch.
                        for (address, wants_write) in &epoch.refusals {
                            match epoch.holders.get(address) {
                                Some(Hold::Writer) => {}
                                Some(Hold::Readers(n)) if *wants_write && *n > 0 => {}
                                other => panic!("{address} refused while held as {other:?}"),
                            }
                        }
                        *epoch = Epoch::default();
                        manager.unlock_all();
                        totals.lock().unwrap().epochs += 1;
                    }
                }
            });
        }
    });

    let totals = totals.into_inner().unwrap();
    assert_eq!(totals.granted + totals.refused, THREADS * ATTEMPTS);
    assert!(totals.granted > 0 && totals.refused > 0 && totals.shared_reads > 0);
    assert_eq!(totals.epochs, THREADS * ATTEMPTS / EPOCH);
}

#[test]
fn unlock_releases_exactly_what_its_lease_acquired() {
    let (_engines, manager) = locking_manager();
    let mine = addr(COMPUTE, 1);
    let theirs = addr(COMPUTE, 2);
    let shared = addr(COMPUTE, 3);
    let my_lease = manager
        .lock(1, &COMPUTE.0, &execute(1, &[shared], &[mine]))
        .unwrap();
    let their_lease = manager
        .lock(1, &COMPUTE.0, &execute(2, &[shared], &[theirs]))
        .unwrap();

    manager.unlock(my_lease);
    // Mine is free again; theirs and their read of the shared address are still held.
    let again = manager
        .lock(1, &COMPUTE.0, &execute(3, &[], &[mine]))
        .unwrap();
    assert_eq!(
        conflict_on(manager.lock(1, &COMPUTE.0, &execute(4, &[], &[theirs]))),
        theirs
    );
    assert_eq!(
        conflict_on(manager.lock(1, &COMPUTE.0, &execute(5, &[], &[shared]))),
        shared
    );
    manager.unlock(their_lease);
    manager.unlock(again);
    let everything = manager
        .lock(1, &COMPUTE.0, &execute(6, &[], &[mine, theirs, shared]))
        .unwrap();
    assert_eq!(
        held(&everything).len(),
        4,
        "three writes and the signer's account"
    );
}
