//! Builders for signed token operations, so that nobody assembles bytes by hand.
//!
//! A [`TokenClient`] holds a signing key, the network id and the signer's **next nonce**: each
//! operation it builds is signed with that nonce, which then goes up by one. Start it at the
//! signer's stored nonce + 1 (1 for a fresh account); [`TokenClient::set_next_nonce`] resets it
//! (after a failed settlement, say). Every builder returns a [`SignedRequest`]: the target
//! domain and the signed `MessageRequest`, whose [`SignedRequest::to_bytes`] are the canonical
//! bytes to submit.

use switchyard_proto::Signed;
use switchyard_proto::v1::pending_transaction::{Accept, Action, Create, Refund};
use switchyard_proto::v1::{
    MessageRequest, MintTransaction, PendingTransaction, TokenConfig, TokenDeploy, TokenUpdate,
    Transaction,
};
use switchyard_router::auth::SigningKey;
use switchyard_router::domains::TOKEN;
use switchyard_router::{BundleProposal, BundleSignature, Domain, Key, SignedRequest, Signer};

use crate::record::{escrow_id, token_domain};

/// The configuration of a token to deploy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenSpec {
    config: TokenConfig,
}

impl TokenSpec {
    /// A token named `name` with ticker `symbol`: 0 decimals, uncapped, not mintable, no mint
    /// authority, transferable, no initial supply.
    pub fn new(name: impl Into<String>, symbol: impl Into<String>) -> Self {
        Self {
            config: TokenConfig {
                name: name.into(),
                symbol: symbol.into(),
                transferable: true,
                ..Default::default()
            },
        }
    }

    /// Decimal places shown to users (at most 38). Default 0.
    ///
    /// ```
    /// let spec = switchyard_token::TokenSpec::new("Gold", "GLD").decimals(6);
    /// assert_eq!(spec.into_config().decimals, 6);
    /// ```
    #[must_use]
    pub fn decimals(mut self, decimals: u32) -> Self {
        self.config.decimals = decimals;
        self
    }

    /// Caps the supply. Default: uncapped.
    ///
    /// ```
    /// let spec = switchyard_token::TokenSpec::new("Gold", "GLD").max_supply(1_000);
    /// assert_eq!(spec.into_config().max_supply.map(u128::from), Some(1_000));
    /// ```
    #[must_use]
    pub fn max_supply(mut self, max: u128) -> Self {
        self.config.max_supply = Some(max.into());
        self
    }

    /// The key allowed to mint. Default: nobody.
    ///
    /// ```
    /// let spec = switchyard_token::TokenSpec::new("Gold", "GLD").mint_authority([7; 32]);
    /// assert_eq!(spec.into_config().mint_authority, vec![7; 32]);
    /// ```
    #[must_use]
    pub fn mint_authority(mut self, authority: Key) -> Self {
        self.config.mint_authority = authority.to_vec();
        self
    }

    /// Whether units may be minted after deploy. Default false.
    ///
    /// ```
    /// let spec = switchyard_token::TokenSpec::new("Gold", "GLD").mintable(true);
    /// assert!(spec.into_config().mintable);
    /// ```
    #[must_use]
    pub fn mintable(mut self, mintable: bool) -> Self {
        self.config.mintable = mintable;
        self
    }

    /// Whether holders may transfer units. Default true.
    ///
    /// ```
    /// let spec = switchyard_token::TokenSpec::new("Badge", "BDG").transferable(false);
    /// assert!(!spec.into_config().transferable);
    /// ```
    #[must_use]
    pub fn transferable(mut self, transferable: bool) -> Self {
        self.config.transferable = transferable;
        self
    }

    /// Units credited at deploy to the initial holder (counted in the supply). Default 0.
    ///
    /// ```
    /// let spec = switchyard_token::TokenSpec::new("Gold", "GLD").initial_supply(500);
    /// assert_eq!(spec.into_config().initial_supply.map(u128::from), Some(500));
    /// ```
    #[must_use]
    pub fn initial_supply(mut self, supply: u128) -> Self {
        self.config.initial_supply = Some(supply.into());
        self
    }

    /// The account receiving the initial supply. Default: the deployer.
    ///
    /// ```
    /// let spec = switchyard_token::TokenSpec::new("Gold", "GLD").initial_holder([3; 32]);
    /// assert_eq!(spec.into_config().initial_holder, vec![3; 32]);
    /// ```
    #[must_use]
    pub fn initial_holder(mut self, holder: Key) -> Self {
        self.config.initial_holder = holder.to_vec();
        self
    }

    /// The wire configuration.
    pub fn into_config(self) -> TokenConfig {
        self.config
    }
}

/// The changes of a token update (owner only). At least one must be set.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UpdateSpec {
    update: TokenUpdate,
}

impl UpdateSpec {
    /// An update that changes nothing yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Hands the mint authority to `authority`. Default: unchanged.
    ///
    /// ```
    /// let spec = switchyard_token::UpdateSpec::new().new_mint_authority([5; 32]);
    /// assert_eq!(spec.into_update().new_mint_authority, vec![5; 32]);
    /// ```
    #[must_use]
    pub fn new_mint_authority(mut self, authority: Key) -> Self {
        self.update.new_mint_authority = authority.to_vec();
        self
    }

    /// Revokes the mint authority for good. Default: not revoked.
    ///
    /// ```
    /// let spec = switchyard_token::UpdateSpec::new().revoke_mint_authority();
    /// assert!(spec.into_update().revoke_mint_authority);
    /// ```
    #[must_use]
    pub fn revoke_mint_authority(mut self) -> Self {
        self.update.revoke_mint_authority = true;
        self
    }

    /// Lowers (or first sets) the max supply; never below the current supply. Default: unchanged.
    ///
    /// ```
    /// let spec = switchyard_token::UpdateSpec::new().new_max_supply(900);
    /// assert_eq!(spec.into_update().new_max_supply.map(u128::from), Some(900));
    /// ```
    #[must_use]
    pub fn new_max_supply(mut self, max: u128) -> Self {
        self.update.new_max_supply = Some(max.into());
        self
    }

    /// Hands ownership to `owner`. Default: unchanged.
    ///
    /// ```
    /// let spec = switchyard_token::UpdateSpec::new().new_owner([6; 32]);
    /// assert_eq!(spec.into_update().new_owner, vec![6; 32]);
    /// ```
    #[must_use]
    pub fn new_owner(mut self, owner: Key) -> Self {
        self.update.new_owner = owner.to_vec();
        self
    }

    /// The (unsigned) wire update.
    pub fn into_update(self) -> TokenUpdate {
        self.update
    }
}

/// Builds and signs token operations for one signer on one network, tracking the signer's
/// next nonce (see the module docs). `Debug` shows the public key, never the signing key.
///
/// ```
/// use switchyard_router::auth::SigningKey;
/// use switchyard_router::domains::NATIVE_TOKEN;
/// use switchyard_token::TokenClient;
///
/// let mut alice = TokenClient::new(SigningKey::from_bytes(&[1; 32]), 7, 1);
/// let transfer = alice.transfer(NATIVE_TOKEN, [2; 32], 10);
/// assert_eq!((transfer.target, transfer.nonce, alice.next_nonce()), (NATIVE_TOKEN, 1, 2));
/// assert_eq!(&transfer.to_bytes()[..4], &[0, 0, 0x03, 0x11]);
/// assert!(!format!("{alice:?}").contains("SigningKey"));
/// ```
#[derive(Debug, Clone)]
pub struct TokenClient {
    signer: Signer,
}

impl TokenClient {
    /// A client signing with `key` on `network_id`, whose next operation uses `next_nonce`
    /// (the signer's stored nonce + 1).
    pub fn new(key: SigningKey, network_id: u32, next_nonce: u64) -> Self {
        Self {
            signer: Signer::new(key, network_id, next_nonce),
        }
    }

    /// The signer's public key, which is also its account key.
    pub fn public_key(&self) -> Key {
        self.signer.public_key()
    }

    /// The network id signed into every operation.
    pub fn network_id(&self) -> u32 {
        self.signer.network_id()
    }

    /// The nonce the next operation will carry.
    pub fn next_nonce(&self) -> u64 {
        self.signer.next_nonce()
    }

    /// Sets the nonce the next operation will carry.
    pub fn set_next_nonce(&mut self, nonce: u64) {
        self.signer.set_next_nonce(nonce);
    }

    /// The signer underneath, shared by every engine's client.
    pub fn signer(&mut self) -> &mut Signer {
        &mut self.signer
    }

    /// Signs this client's requests of a bundle `proposal`, each bound to the whole bundle
    /// (see [`Signer::sign_proposal`]). The parts of a bundle come from the typed builders
    /// below: `UnsignedRequest::from(client.transfer(..))` drops the signature made alone.
    pub fn sign_proposal(&self, proposal: &BundleProposal) -> Vec<BundleSignature> {
        self.signer.sign_proposal(proposal)
    }

    /// The signer underneath, to sign for another engine with the same key and nonces.
    pub fn into_signer(self) -> Signer {
        self.signer
    }

    /// Signs any operation for `target` (which is written into, and signed with, its auth
    /// block) with the next nonce. The typed builders below go through this; it is public for
    /// operations built from wire types directly.
    pub fn sign<T: Signed + Into<MessageRequest>>(
        &mut self,
        target: Domain,
        operation: T,
    ) -> SignedRequest {
        self.signer.sign(target, operation)
    }

    /// Deploys a token; returns the new token's domain with the request (sent to `TOKEN`).
    pub fn deploy(&mut self, spec: TokenSpec) -> (Domain, SignedRequest) {
        let domain = token_domain(&self.public_key(), self.next_nonce());
        let request = self.sign(
            TOKEN,
            TokenDeploy {
                config: Some(spec.into_config()),
                auth: None,
            },
        );
        (domain, request)
    }

    /// Updates `token` (owner only).
    pub fn update(&mut self, token: Domain, changes: UpdateSpec) -> SignedRequest {
        self.sign(token, changes.into_update())
    }

    /// Transfers `amount` of `token` to `to`.
    pub fn transfer(&mut self, token: Domain, to: Key, amount: u128) -> SignedRequest {
        self.transfer_with_memo(token, to, amount, Vec::new())
    }

    /// Transfers `amount` of `token` to `to` with a memo (at most 256 bytes).
    pub fn transfer_with_memo(
        &mut self,
        token: Domain,
        to: Key,
        amount: u128,
        memo: Vec<u8>,
    ) -> SignedRequest {
        self.sign(
            token,
            Transaction {
                to: to.to_vec(),
                amount: Some(amount.into()),
                memo,
                auth: None,
            },
        )
    }

    /// Mints `amount` of `token` to `to` (mint authority only).
    pub fn mint(&mut self, token: Domain, to: Key, amount: u128) -> SignedRequest {
        self.sign(
            token,
            MintTransaction {
                to: to.to_vec(),
                amount: Some(amount.into()),
                auth: None,
            },
        )
    }

    /// Moves `amount` of `token` into an escrow for `to`, acceptable up to `expiry_frame`;
    /// returns the escrow id with the request.
    pub fn pending_create(
        &mut self,
        token: Domain,
        to: Key,
        amount: u128,
        expiry_frame: u64,
    ) -> (Key, SignedRequest) {
        let id = escrow_id(&token, &self.public_key(), self.next_nonce());
        let create = Create {
            to: to.to_vec(),
            amount: Some(amount.into()),
            expiry_frame,
        };
        let request = self.sign(
            token,
            PendingTransaction {
                action: Some(Action::Create(create)),
                auth: None,
            },
        );
        (id, request)
    }

    /// Accepts escrow `id` of `token` (its recipient, at or before its expiry frame).
    pub fn pending_accept(&mut self, token: Domain, id: Key) -> SignedRequest {
        let accept = Accept {
            escrow_id: id.to_vec(),
        };
        self.sign(
            token,
            PendingTransaction {
                action: Some(Action::Accept(accept)),
                auth: None,
            },
        )
    }

    /// Takes escrow `id` of `token` back (its sender, after its expiry frame).
    pub fn pending_refund(&mut self, token: Domain, id: Key) -> SignedRequest {
        let refund = Refund {
            escrow_id: id.to_vec(),
        };
        self.sign(
            token,
            PendingTransaction {
                action: Some(Action::Refund(refund)),
                auth: None,
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_proto::CanonicalMessage;
    use switchyard_router::auth::verify_request;

    #[test]
    fn built_requests_verify_and_decode_back() {
        let mut client = TokenClient::new(SigningKey::from_bytes(&[4; 32]), 9, 3);
        let (domain, deploy) = client.deploy(TokenSpec::new("Gold", "GLD"));
        assert_eq!(domain, token_domain(&client.public_key(), 3));
        assert_eq!(deploy.target, TOKEN);
        let (id, create) = client.pending_create(domain, [1; 32], 5, 10);
        assert_eq!(id, escrow_id(&domain, &client.public_key(), 4));
        for request in [deploy, create] {
            assert_eq!(verify_request(&request.request, 9), Ok(()));
            assert_eq!(
                MessageRequest::from_canonical_bytes(&request.to_bytes()).unwrap(),
                request.request
            );
        }
        assert_eq!(client.next_nonce(), 5);
    }

    #[test]
    fn debug_hides_the_signing_key() {
        let client = TokenClient::new(SigningKey::from_bytes(&[4; 32]), 9, 1);
        let shown = format!("{client:?}");
        assert!(shown.contains(&hex::encode(client.public_key())));
        assert!(!shown.contains(&hex::encode([4u8; 32])));
    }
}
