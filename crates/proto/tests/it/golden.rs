//! Golden vectors: the exact canonical bytes of a few messages, committed in `golden.txt`, are
//! compared both ways (value -> bytes and bytes -> value), so that any change to the wire format
//! (a field number, a type, a tag, the encoding itself) fails here.
//!
//! After an intended change to the wire format, regenerate the file with
//! `SWITCHYARD_BLESS_GOLDEN=1 cargo test -p switchyard-proto --test it golden` and review the
//! diff.

use std::collections::BTreeMap;
use std::path::PathBuf;

use switchyard_proto::{AnyMessage, CanonicalMessage, decode_any, v1};

/// An auth block sent to `target` (a 32-byte domain filled with that byte).
fn auth(seed: u8, nonce: u64, target: u8) -> Option<v1::Auth> {
    Some(v1::Auth {
        public_key: vec![seed; 32],
        nonce,
        signature: vec![seed ^ 0xff; 64],
        target: vec![target; 32],
    })
}

fn transaction() -> v1::Transaction {
    v1::Transaction {
        to: vec![0x11; 32],
        amount: Some(v1::U128 {
            high: 0,
            low: 1_000_000,
        }),
        memo: b"rent".to_vec(),
        auth: auth(0x22, 7, 0x5e),
    }
}

fn message_bundle() -> v1::MessageBundle {
    v1::MessageBundle {
        requests: vec![
            transaction().into(),
            v1::MintTransaction {
                to: vec![0x33; 32],
                amount: Some(v1::U128 { high: 1, low: 2 }),
                auth: auth(0x44, 1, 0x5e),
            }
            .into(),
        ],
        timestamp: 1_700_000_000_000,
    }
}

fn token_deploy() -> v1::TokenDeploy {
    v1::TokenDeploy {
        config: Some(v1::TokenConfig {
            name: "Switchyard Token".into(),
            symbol: "SWY".into(),
            decimals: 8,
            max_supply: Some(v1::U128::from(21_000_000_u128 * 100_000_000)),
            mint_authority: vec![0x55; 32],
            mintable: true,
            transferable: true,
            initial_supply: Some(v1::U128::from(1_u128 << 64)),
            initial_holder: Vec::new(),
        }),
        auth: auth(0x66, 1, 0xee),
    }
}

fn header(seed: u8) -> v1::FrameHeader {
    v1::FrameHeader {
        network_id: 1,
        frame_number: 4_242,
        parent_hash: vec![0x01; 32],
        state_root: vec![seed; 32],
        messages_root: vec![0x03; 32],
        prover: vec![0x77; 32],
        signature: vec![seed; 64],
    }
}

fn prover_kick() -> v1::ProverKick {
    v1::ProverKick {
        kicked_prover: vec![0x77; 32],
        conflicting_a: Some(header(0x0a)),
        conflicting_b: Some(header(0x0b)),
        auth: auth(0x88, 12, 0xff),
    }
}

fn frame_receipt() -> v1::FrameReceipt {
    v1::FrameReceipt {
        frame_number: 4_242,
        state_root: vec![0x0a; 32],
        parent_state_root: vec![0x09; 32],
        fee_multiplier: 3,
        fee_recipient: vec![0x77; 32],
        total_fees: Some(v1::U128 { high: 0, low: 300 }),
        outcomes: vec![
            v1::MessageOutcome {
                index: 0,
                status: v1::MessageStatus::Applied.into(),
                cost: 100,
                fee: Some(v1::U128 { high: 0, low: 300 }),
                reason: String::new(),
                message_hash: vec![0xe1; 32],
                results: Vec::new(),
            },
            v1::MessageOutcome {
                index: 1,
                status: v1::MessageStatus::Rejected.into(),
                cost: 0,
                fee: None,
                reason: "nonce 3 does not follow stored nonce 5".into(),
                message_hash: vec![0xe2; 32],
                results: Vec::new(),
            },
            v1::MessageOutcome {
                index: 2,
                status: v1::MessageStatus::Applied.into(),
                cost: 10_000,
                fee: Some(v1::U128 {
                    high: 0,
                    low: 30_000,
                }),
                reason: String::new(),
                message_hash: vec![0xe3; 32],
                results: vec![vec![0xd0; 32], Vec::new()],
            },
        ],
    }
}

/// The vectors, by the name they have in `golden.txt`.
fn vectors() -> Vec<(&'static str, AnyMessage)> {
    vec![
        (
            "transaction_with_auth",
            AnyMessage::Transaction(transaction()),
        ),
        (
            "bundle_of_two_requests",
            AnyMessage::MessageBundle(message_bundle()),
        ),
        ("token_deploy", AnyMessage::TokenDeploy(token_deploy())),
        (
            "prover_kick_two_headers",
            AnyMessage::ProverKick(prover_kick()),
        ),
        ("frame_receipt", AnyMessage::FrameReceipt(frame_receipt())),
    ]
}

fn golden_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/it/golden.txt")
}

/// Parses `name = hex` lines; `#` starts a comment line.
fn read_golden() -> BTreeMap<String, Vec<u8>> {
    let text = std::fs::read_to_string(golden_path()).unwrap();
    let mut vectors = BTreeMap::new();
    for line in text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let (name, hex) = line
            .split_once('=')
            .unwrap_or_else(|| panic!("bad golden line {line:?}"));
        let bytes = hex::decode(hex.trim()).unwrap_or_else(|e| panic!("bad hex for {name}: {e}"));
        assert!(
            vectors.insert(name.trim().to_owned(), bytes).is_none(),
            "{name} twice"
        );
    }
    vectors
}

#[test]
fn golden_vectors() {
    if std::env::var_os("SWITCHYARD_BLESS_GOLDEN").is_some() {
        let mut text = String::from(
            "# Canonical bytes (4-byte big-endian type tag + protobuf) of the messages built in\n\
             # golden.rs. A change here is a change of the wire format: review it as one.\n",
        );
        for (name, value) in vectors() {
            text.push_str(&format!(
                "{name} = {}\n",
                hex::encode(value.to_canonical_bytes())
            ));
        }
        std::fs::write(golden_path(), text).unwrap();
    }
    let golden = read_golden();
    let built = vectors();
    assert_eq!(
        golden.keys().map(String::as_str).collect::<Vec<_>>(),
        {
            let mut names = built.iter().map(|(name, _)| *name).collect::<Vec<_>>();
            names.sort_unstable();
            names
        },
        "golden.txt and golden.rs list different vectors"
    );
    for (name, value) in built {
        let bytes = &golden[name];
        // value -> bytes
        assert_eq!(
            hex::encode(value.to_canonical_bytes()),
            hex::encode(bytes),
            "{name}: encoding changed"
        );
        // bytes -> value
        assert_eq!(
            decode_any(bytes).as_ref(),
            Ok(&value),
            "{name}: decoding changed"
        );
    }
}

/// A hand-checked prefix, independent of the file: the Transaction starts with its tag, then
/// `to` (field 1, 32 bytes) and `amount` (field 2, U128 { low: 1_000_000 }).
#[test]
fn transaction_bytes_by_hand() {
    let bytes = transaction().to_canonical_bytes();
    let mut expected = vec![0x00, 0x00, 0x05, 0x09, 0x0a, 0x20];
    expected.extend_from_slice(&[0x11; 32]);
    expected.extend_from_slice(&[0x12, 0x04, 0x10, 0xc0, 0x84, 0x3d]);
    expected.extend_from_slice(&[
        0x1a, 0x04, b'r', b'e', b'n', b't', 0x7a, 0x88, 0x01, 0x0a, 0x20,
    ]);
    assert_eq!(&bytes[..expected.len()], &expected[..]);
    assert_eq!(bytes.len(), expected.len() + 32 + 2 + 2 + 64 + 2 + 32);
    assert_eq!(<v1::Transaction as CanonicalMessage>::TAG.0, 0x0509);
}
