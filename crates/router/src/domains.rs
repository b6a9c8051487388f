//! The base domains of DESIGN §3 and the derivation of instance domains.

use crate::{Address, Domain, Key};

/// The global engine's domain: `0xff` x 32.
pub const GLOBAL: Domain = Domain([0xff; 32]);

/// The compute engine's base domain: `0xcc` x 32.
pub const COMPUTE: Domain = Domain([0xcc; 32]);

/// The hypergraph engine's base domain: BLAKE3 of `"switchyard/hypergraph"`.
pub const HYPERGRAPH: Domain = Domain([
    0x3b, 0xfe, 0xe6, 0x8d, 0x89, 0xe3, 0x82, 0x50, 0x15, 0xf1, 0xd7, 0xd1, 0x03, 0xa6, 0xec, 0xad,
    0xb3, 0x78, 0x9d, 0x4f, 0x94, 0x23, 0x41, 0x4d, 0xaf, 0xa7, 0xd1, 0x57, 0x4d, 0x4c, 0xed, 0x63,
]);

/// The token engine's base domain: BLAKE3 of `"switchyard/token"`.
pub const TOKEN: Domain = Domain([
    0x12, 0x55, 0x66, 0xe6, 0xd9, 0xd9, 0x4e, 0xa4, 0x56, 0x92, 0xec, 0xf4, 0xd9, 0xf1, 0x03, 0xd9,
    0x8f, 0xdf, 0xff, 0x60, 0xc6, 0x1c, 0xd9, 0x18, 0x11, 0xe6, 0x21, 0x6d, 0xdf, 0x9a, 0x1e, 0x7f,
]);

/// The native token's domain: BLAKE3 of `"switchyard/native-token"`. It is a token instance
/// created at genesis; its account records hold every signer's balance and nonce.
pub const NATIVE_TOKEN: Domain = Domain([
    0xd8, 0xfa, 0x5f, 0xf0, 0x05, 0x18, 0xb2, 0x36, 0x9c, 0xd9, 0x0b, 0x1e, 0x2d, 0xfb, 0x5c, 0x90,
    0xe8, 0x11, 0xfa, 0x88, 0x05, 0xdf, 0x4d, 0x11, 0xaa, 0x39, 0x8e, 0xb8, 0x17, 0xdf, 0xed, 0xa8,
]);

/// The key of an instance's metadata record inside its domain: `0xff` x 32.
pub const METADATA_KEY: Key = [0xff; 32];

/// The domain of an instance deployed on `base` by `deployer` with `nonce`:
/// BLAKE3(base domain || deployer key || nonce as 8 big-endian bytes).
pub fn instance_domain(base: &Domain, deployer: &Key, nonce: u64) -> Domain {
    let mut hasher = blake3::Hasher::new();
    hasher
        .update(&base.0)
        .update(deployer)
        .update(&nonce.to_be_bytes());
    Domain(*hasher.finalize().as_bytes())
}

/// The address of `domain`'s metadata record.
pub const fn metadata_address(domain: Domain) -> Address {
    Address::new(domain, METADATA_KEY)
}

/// The address of `account`'s record in the native token (balance and nonce).
pub const fn native_account(account: Key) -> Address {
    Address::new(NATIVE_TOKEN, account)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_domains_are_the_hashes_the_design_names() {
        assert_eq!(
            HYPERGRAPH.0,
            *blake3::hash(b"switchyard/hypergraph").as_bytes()
        );
        assert_eq!(TOKEN.0, *blake3::hash(b"switchyard/token").as_bytes());
        assert_eq!(
            NATIVE_TOKEN.0,
            *blake3::hash(b"switchyard/native-token").as_bytes()
        );
    }

    #[test]
    fn instance_domains_depend_on_every_input() {
        let a = instance_domain(&TOKEN, &[1; 32], 1);
        assert_ne!(a, instance_domain(&TOKEN, &[1; 32], 2));
        assert_ne!(a, instance_domain(&TOKEN, &[2; 32], 1));
        assert_ne!(a, instance_domain(&HYPERGRAPH, &[1; 32], 1));
        assert_eq!(a, instance_domain(&TOKEN, &[1; 32], 1));
    }
}
