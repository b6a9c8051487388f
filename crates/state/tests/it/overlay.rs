//! Overlays: access enforcement, read/write sets, nesting and merge order.

use std::collections::BTreeSet;

use switchyard_router::{AccessSet, AddressSet, MemoryView, StateError, StateRead, StateWrite};
use switchyard_state::{ChangeSet, MemoryStore, Overlay, Store};

use crate::addr;

fn base() -> MemoryView {
    let mut view = MemoryView::default();
    for n in 0..5 {
        view.put(addr(n), vec![n as u8]).unwrap();
    }
    view
}

#[test]
fn out_of_set_reads_and_writes_are_refused_naming_the_address() {
    let base = base();
    let mut access = AccessSet::new();
    access.read(addr(0)).write(addr(1));
    let mut overlay = Overlay::with_access(&base, &access);

    // Declared: reading a read, reading and writing a write.
    assert_eq!(overlay.get(&addr(0)), Ok(Some(vec![0])));
    assert_eq!(overlay.get(&addr(1)), Ok(Some(vec![1])));
    overlay.put(addr(1), b"new".to_vec()).unwrap();
    overlay.delete(&addr(1)).unwrap();

    // Undeclared read.
    let error = overlay.get(&addr(2)).unwrap_err();
    assert_eq!(
        error,
        StateError::AccessViolation {
            address: addr(2),
            op: "read"
        }
    );
    assert!(error.to_string().contains(&addr(2).to_string()), "{error}");
    // Writing an address declared as read only, or not declared at all; deleting likewise.
    assert_eq!(
        overlay.put(addr(0), vec![9]),
        Err(StateError::AccessViolation {
            address: addr(0),
            op: "write"
        })
    );
    assert_eq!(
        overlay.put(addr(3), vec![9]),
        Err(StateError::AccessViolation {
            address: addr(3),
            op: "write"
        })
    );
    assert_eq!(
        overlay.delete(&addr(4)),
        Err(StateError::AccessViolation {
            address: addr(4),
            op: "write"
        })
    );

    // Refused operations leave no trace.
    assert_eq!(
        overlay.write_set().copied().collect::<BTreeSet<_>>(),
        BTreeSet::from([addr(1)])
    );
    assert_eq!(*overlay.read_set(), AddressSet::from([addr(0), addr(1)]));
    assert_eq!(overlay.changes().get(&addr(1)), Some(None));
    assert_eq!(overlay.changes().len(), 1);
}

#[test]
fn an_overlay_without_access_set_allows_everything_and_records_it() {
    let base = base();
    let mut overlay = Overlay::new(&base);
    assert_eq!(overlay.get(&addr(4)), Ok(Some(vec![4])));
    assert_eq!(overlay.get(&addr(99)), Ok(None));
    overlay.put(addr(99), vec![1, 2]).unwrap();
    overlay.delete(&addr(4)).unwrap();
    // Own writes first, then the base.
    assert_eq!(overlay.get(&addr(99)), Ok(Some(vec![1, 2])));
    assert_eq!(overlay.get(&addr(4)), Ok(None));
    assert_eq!(overlay.get(&addr(3)), Ok(Some(vec![3])));
    assert_eq!(
        *overlay.read_set(),
        AddressSet::from([addr(3), addr(4), addr(99)])
    );
    assert_eq!(
        overlay.write_set().copied().collect::<BTreeSet<_>>(),
        BTreeSet::from([addr(4), addr(99)])
    );
    // The base is untouched.
    assert_eq!(base.get(&addr(4)), Ok(Some(vec![4])));
    let changes = overlay.into_changes();
    assert_eq!(changes.get(&addr(4)), Some(None));
    assert_eq!(changes.get(&addr(99)), Some(Some(&[1u8, 2][..])));
}

#[test]
fn nested_overlays_roll_back_a_failed_request_and_merge_successful_ones_in_order() {
    let base = base();
    let mut access = AccessSet::new();
    access
        .write(addr(0))
        .write(addr(1))
        .write(addr(2))
        .read(addr(3));
    let mut bundle = Overlay::with_access(&base, &access);

    // Request 1 succeeds: writes 0 and deletes 1.
    let mut request = Overlay::with_access(&bundle, &access);
    request.put(addr(0), b"r1".to_vec()).unwrap();
    request.delete(&addr(1)).unwrap();
    let changes = request.into_changes();
    bundle.merge(changes).unwrap();

    // Request 2 fails after writing: its overlay is dropped, nothing remains.
    let mut request = Overlay::with_access(&bundle, &access);
    assert_eq!(
        request.get(&addr(0)),
        Ok(Some(b"r1".to_vec())),
        "sees request 1 through the bundle"
    );
    request.put(addr(0), b"r2".to_vec()).unwrap();
    request.put(addr(2), b"r2".to_vec()).unwrap();
    assert!(request.get(&addr(4)).is_err());
    drop(request);
    assert_eq!(bundle.get(&addr(0)), Ok(Some(b"r1".to_vec())));
    assert_eq!(bundle.get(&addr(2)), Ok(Some(vec![2])));

    // Request 3 overwrites request 1's value and recreates the deleted address: later wins.
    let mut request = Overlay::with_access(&bundle, &access);
    assert_eq!(request.get(&addr(1)), Ok(None), "sees request 1's delete");
    request.put(addr(0), b"r3".to_vec()).unwrap();
    request.put(addr(1), b"r3".to_vec()).unwrap();
    let changes = request.into_changes();
    bundle.merge(changes).unwrap();

    // The inner overlays' reads reached the bundle's read set.
    assert!(bundle.read_set().contains(&addr(0)) && bundle.read_set().contains(&addr(1)));
    assert_eq!(
        bundle.write_set().copied().collect::<BTreeSet<_>>(),
        BTreeSet::from([addr(0), addr(1)])
    );
    let mut expected = ChangeSet::new();
    expected.put(addr(0), b"r3".to_vec());
    expected.put(addr(1), b"r3".to_vec());
    assert_eq!(bundle.changes(), &expected);
}

#[test]
fn a_nested_overlay_is_refused_by_its_parents_access_set() {
    let base = base();
    let mut access = AccessSet::new();
    access.write(addr(0));
    let mut bundle = Overlay::with_access(&base, &access);

    // An unchecked inner overlay still reads through the bundle, which refuses.
    let mut inner = Overlay::new(&bundle);
    assert_eq!(
        inner.get(&addr(1)),
        Err(StateError::AccessViolation {
            address: addr(1),
            op: "read"
        })
    );
    inner.put(addr(0), vec![7]).unwrap();
    inner.put(addr(1), vec![7]).unwrap();
    let changes = inner.into_changes();

    // Merging is all or nothing and names the undeclared address.
    assert_eq!(
        bundle.merge(changes),
        Err(StateError::AccessViolation {
            address: addr(1),
            op: "write"
        })
    );
    assert!(bundle.changes().is_empty());
    assert!(bundle.write_set().next().is_none());
}

#[test]
fn bundles_merge_into_the_frame_in_frame_order_and_commit() {
    let store = MemoryStore::new();
    let mut genesis = ChangeSet::new();
    genesis.put(addr(0), b"genesis".to_vec());
    genesis.put(addr(1), b"genesis".to_vec());
    store.commit(0, &genesis, &mut |_| Vec::new()).unwrap();
    let snapshot = store.snapshot().unwrap();

    // Two bundles that touch different addresses run on their own overlays over the snapshot;
    // the frame's pending changes merge them in frame order.
    let mut first = Overlay::new(&*snapshot);
    first.put(addr(0), b"first".to_vec()).unwrap();
    first.put(addr(2), b"first".to_vec()).unwrap();
    let mut second = Overlay::new(&*snapshot);
    second.delete(&addr(1)).unwrap();
    second.put(addr(2), b"second".to_vec()).unwrap();
    let mut frame = ChangeSet::new();
    frame.merge(first.into_changes());
    frame.merge(second.into_changes());

    let root = store.root_after(&frame).unwrap();
    let head = store.commit(1, &frame, &mut |_| Vec::new()).unwrap();
    assert_eq!(head.state_root, root);
    let after = store.snapshot().unwrap();
    assert_eq!(after.get(&addr(0)), Ok(Some(b"first".to_vec())));
    assert_eq!(after.get(&addr(1)), Ok(None));
    assert_eq!(after.get(&addr(2)), Ok(Some(b"second".to_vec())));
    assert_eq!(store.recompute_root().unwrap(), head.state_root);
}

#[test]
fn reading_while_holding_the_read_set_is_an_error_not_a_panic() {
    let base = base();
    let overlay = Overlay::new(&base);
    let reads = overlay.read_set();
    assert!(matches!(
        overlay.get(&addr(0)),
        Err(StateError::Backend { .. })
    ));
    drop(reads);
    assert_eq!(overlay.get(&addr(0)), Ok(Some(vec![0])));
}
