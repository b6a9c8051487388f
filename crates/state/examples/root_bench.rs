//! Measures what the state root costs per changed key, for a frame that changes 100,000
//! existing keys (each update removes the old entry's vector and adds the new one's).
//!
//! ```text
//! cargo run -p switchyard-state --release --example root_bench
//! ```
//!
//! Prints, best of three runs each: `root_after` (the lattice update alone) on one thread and
//! on the whole rayon pool (one worker per core), and full commits of the same frame to the
//! memory store and to a durable redb store (writes, root, receipt, fsync). The values are 24
//! bytes long, as account records are.

use std::error::Error;
use std::time::{Duration, Instant};

use switchyard_router::{Address, Domain};
use switchyard_state::{ChangeSet, MemoryStore, RedbStore, Store};

const KEYS: u32 = 100_000;
const RUNS: usize = 3;

fn address(n: u32) -> Address {
    let hash = blake3::hash(&n.to_le_bytes());
    Address::new(Domain([0x42; 32]), *hash.as_bytes())
}

fn value(n: u32, version: u8) -> Vec<u8> {
    let mut value = n.to_le_bytes().to_vec();
    value.resize(24, version);
    value
}

/// The best of [`RUNS`] runs of `run`.
fn best(
    mut run: impl FnMut() -> Result<Duration, Box<dyn Error>>,
) -> Result<Duration, Box<dyn Error>> {
    let mut best = Duration::MAX;
    for _ in 0..RUNS {
        best = best.min(run()?);
    }
    Ok(best)
}

fn report(what: &str, elapsed: Duration) {
    let per_key = elapsed.as_nanos() / u128::from(KEYS);
    println!(
        "{what:<48} {:>9.1} ms  {per_key:>6} ns per changed key",
        elapsed.as_secs_f64() * 1e3
    );
}

fn main() -> Result<(), Box<dyn Error>> {
    let addresses: Vec<Address> = (0..KEYS).map(address).collect();
    let initial: ChangeSet = (0..KEYS)
        .zip(&addresses)
        .map(|(n, a)| (*a, Some(value(n, 1))))
        .collect();
    let update: ChangeSet = (0..KEYS)
        .zip(&addresses)
        .map(|(n, a)| (*a, Some(value(n, 2))))
        .collect();
    let threads = rayon::current_num_threads();
    println!(
        "state root update cost, {KEYS} changed keys of a {KEYS}-key state, 24-byte values (an account record)\n"
    );

    let memory = MemoryStore::new();
    memory.commit(1, &initial, &mut |_| Vec::new())?;
    let one_thread = rayon::ThreadPoolBuilder::new().num_threads(1).build()?;
    let root_after_1 = best(|| {
        let start = Instant::now();
        std::hint::black_box(one_thread.install(|| memory.root_after(&update))?);
        Ok(start.elapsed())
    })?;
    report("root_after (memory store), 1 thread", root_after_1);
    let root_after_n = best(|| {
        let start = Instant::now();
        std::hint::black_box(memory.root_after(&update)?);
        Ok(start.elapsed())
    })?;
    report(
        &format!("root_after (memory store), {threads} threads"),
        root_after_n,
    );

    let mut frame = 2;
    let memory_commit = best(|| {
        let changes = if frame % 2 == 0 { &update } else { &initial };
        let start = Instant::now();
        memory.commit(frame, changes, &mut |_| Vec::new())?;
        frame += 1;
        Ok(start.elapsed())
    })?;
    report(
        &format!("commit (memory store), {threads} threads"),
        memory_commit,
    );

    let dir = tempfile::tempdir()?;
    let redb = RedbStore::open(dir.path())?;
    redb.commit(1, &initial, &mut |_| Vec::new())?;
    let mut frame = 2;
    let redb_commit = best(|| {
        let changes = if frame % 2 == 0 { &update } else { &initial };
        let start = Instant::now();
        redb.commit(frame, changes, &mut |_| Vec::new())?;
        frame += 1;
        Ok(start.elapsed())
    })?;
    report(
        &format!("commit (redb, durable), {threads} threads"),
        redb_commit,
    );

    println!(
        "\nroot update: {} ns per changed key on {threads} threads ({} ns on 1 thread)",
        root_after_n.as_nanos() / u128::from(KEYS),
        root_after_1.as_nanos() / u128::from(KEYS)
    );
    Ok(())
}
