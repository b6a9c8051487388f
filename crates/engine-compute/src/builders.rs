//! Builders for signed compute operations, so that nobody assembles bytes by hand.
//!
//! A [`ComputeClient`] wraps a [`Signer`]: a signing key, the network id and the signer's
//! **next nonce** (each operation it builds is signed with that nonce, which then goes up by
//! one). Every builder returns a [`SignedRequest`]: the target domain and the signed
//! `MessageRequest`, whose [`SignedRequest::to_bytes`] are the canonical bytes to submit.

use switchyard_proto::Signed;
use switchyard_proto::v1::{
    CodeDeploy, CodeExecute, CodeFinalize, ComputeDeploy, ComputeUpdate, MessageRequest,
};
use switchyard_router::auth::SigningKey;
use switchyard_router::domains::COMPUTE;
use switchyard_router::{Address, Domain, Key, SignedRequest, Signer};

use crate::record::{app_domain, code_id, execution_id};

/// The fuel limit of an [`ExecuteSpec`] unless set.
pub const DEFAULT_FUEL_LIMIT: u64 = 100_000;

/// The configuration of an application to deploy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppSpec {
    deploy: ComputeDeploy,
}

impl AppSpec {
    /// An application named `name` (1 to 64 bytes): no code deployers but its owner, the
    /// engine's default fuel ceiling.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            deploy: ComputeDeploy {
                name: name.into(),
                ..Default::default()
            },
        }
    }

    /// Keys allowed to deploy code besides the owner. Default: none.
    ///
    /// ```
    /// let spec = switchyard_compute::AppSpec::new("app").code_deployers([[5; 32]]);
    /// assert_eq!(spec.into_deploy().code_deployers, vec![vec![5; 32]]);
    /// ```
    #[must_use]
    pub fn code_deployers(mut self, deployers: impl IntoIterator<Item = Key>) -> Self {
        self.deploy.code_deployers = deployers.into_iter().map(|k| k.to_vec()).collect();
        self
    }

    /// The most fuel one execution may ask for. Default 0: the engine's default ceiling.
    ///
    /// ```
    /// let spec = switchyard_compute::AppSpec::new("app").max_fuel(50_000);
    /// assert_eq!(spec.into_deploy().max_fuel, 50_000);
    /// ```
    #[must_use]
    pub fn max_fuel(mut self, max_fuel: u64) -> Self {
        self.deploy.max_fuel = max_fuel;
        self
    }

    /// The (unsigned) wire deploy.
    pub fn into_deploy(self) -> ComputeDeploy {
        self.deploy
    }
}

/// The changes of an application update (owner only). At least one must be set.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AppUpdate {
    update: ComputeUpdate,
}

impl AppUpdate {
    /// An update that changes nothing yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Replaces the code deployers (a non-empty list). Default: unchanged.
    ///
    /// ```
    /// let update = switchyard_compute::AppUpdate::new().code_deployers([[5; 32]]);
    /// assert_eq!(update.into_update().code_deployers, vec![vec![5; 32]]);
    /// ```
    #[must_use]
    pub fn code_deployers(mut self, deployers: impl IntoIterator<Item = Key>) -> Self {
        self.update.code_deployers = deployers.into_iter().map(|k| k.to_vec()).collect();
        self
    }

    /// Removes every code deployer. Default: not removed.
    ///
    /// ```
    /// let update = switchyard_compute::AppUpdate::new().clear_code_deployers();
    /// assert!(update.into_update().clear_code_deployers);
    /// ```
    #[must_use]
    pub fn clear_code_deployers(mut self) -> Self {
        self.update.clear_code_deployers = true;
        self
    }

    /// A new fuel ceiling per execution. Default: unchanged.
    ///
    /// ```
    /// let update = switchyard_compute::AppUpdate::new().max_fuel(9);
    /// assert_eq!(update.into_update().max_fuel, 9);
    /// ```
    #[must_use]
    pub fn max_fuel(mut self, max_fuel: u64) -> Self {
        self.update.max_fuel = max_fuel;
        self
    }

    /// Hands ownership to `owner`. Default: unchanged.
    ///
    /// ```
    /// let update = switchyard_compute::AppUpdate::new().new_owner([6; 32]);
    /// assert_eq!(update.into_update().new_owner, vec![6; 32]);
    /// ```
    #[must_use]
    pub fn new_owner(mut self, owner: Key) -> Self {
        self.update.new_owner = owner.to_vec();
        self
    }

    /// The (unsigned) wire update.
    pub fn into_update(self) -> ComputeUpdate {
        self.update
    }
}

/// An execution to request: which code and function, with what input, keys and fuel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecuteSpec {
    code_id: Key,
    function: String,
    input: Vec<u8>,
    reads: Vec<Key>,
    writes: Vec<Key>,
    fuel_limit: u64,
}

impl ExecuteSpec {
    /// Calls `function` of code `code_id` with an empty input, no declared keys and
    /// [`DEFAULT_FUEL_LIMIT`].
    pub fn new(code_id: Key, function: impl Into<String>) -> Self {
        Self {
            code_id,
            function: function.into(),
            input: Vec::new(),
            reads: Vec::new(),
            writes: Vec::new(),
            fuel_limit: DEFAULT_FUEL_LIMIT,
        }
    }

    /// The input handed to the function. Default: empty.
    ///
    /// ```
    /// let spec = switchyard_compute::ExecuteSpec::new([1; 32], "run").input(b"hi".to_vec());
    /// assert_eq!(spec.input_bytes(), b"hi");
    /// ```
    #[must_use]
    pub fn input(mut self, input: impl Into<Vec<u8>>) -> Self {
        self.input = input.into();
        self
    }

    /// Keys of the application's state the function may read. Default: none.
    ///
    /// ```
    /// let spec = switchyard_compute::ExecuteSpec::new([1; 32], "run").reads([[2; 32]]);
    /// assert_eq!(spec.read_keys(), [[2; 32]]);
    /// ```
    #[must_use]
    pub fn reads(mut self, keys: impl IntoIterator<Item = Key>) -> Self {
        self.reads = keys.into_iter().collect();
        self
    }

    /// Keys of the application's state the function may write (and read). Default: none.
    ///
    /// ```
    /// let spec = switchyard_compute::ExecuteSpec::new([1; 32], "run").writes([[3; 32]]);
    /// assert_eq!(spec.write_keys(), [[3; 32]]);
    /// ```
    #[must_use]
    pub fn writes(mut self, keys: impl IntoIterator<Item = Key>) -> Self {
        self.writes = keys.into_iter().collect();
        self
    }

    /// The most fuel the execution may burn. Default [`DEFAULT_FUEL_LIMIT`].
    ///
    /// ```
    /// let spec = switchyard_compute::ExecuteSpec::new([1; 32], "run").fuel(5_000);
    /// assert_eq!(spec.fuel_limit(), 5_000);
    /// ```
    #[must_use]
    pub fn fuel(mut self, fuel_limit: u64) -> Self {
        self.fuel_limit = fuel_limit;
        self
    }

    /// The input.
    pub fn input_bytes(&self) -> &[u8] {
        &self.input
    }

    /// The declared read keys.
    pub fn read_keys(&self) -> &[Key] {
        &self.reads
    }

    /// The declared write keys.
    pub fn write_keys(&self) -> &[Key] {
        &self.writes
    }

    /// The fuel limit.
    pub fn fuel_limit(&self) -> u64 {
        self.fuel_limit
    }

    /// The (unsigned) wire request for application `app`.
    pub fn into_execute(self, app: Domain, staged: bool) -> CodeExecute {
        CodeExecute {
            code_id: self.code_id.to_vec(),
            function: self.function,
            input: self.input,
            read_keys: addresses(app, &self.reads),
            write_keys: addresses(app, &self.writes),
            fuel_limit: self.fuel_limit,
            staged,
            auth: None,
        }
    }
}

/// The 64-byte addresses of `keys` in `app`.
fn addresses(app: Domain, keys: &[Key]) -> Vec<Vec<u8>> {
    keys.iter()
        .map(|key| Address::new(app, *key).to_bytes().to_vec())
        .collect()
}

/// Builds and signs compute operations for one signer on one network, tracking the signer's
/// next nonce (see the module docs). `Debug` shows the public key, never the signing key.
///
/// ```
/// use switchyard_router::auth::SigningKey;
/// use switchyard_compute::{AppSpec, ComputeClient, ExecuteSpec, examples};
///
/// let mut alice = ComputeClient::new(SigningKey::from_bytes(&[1; 32]), 7, 1);
/// let (app, deploy) = alice.deploy(AppSpec::new("counters"));
/// let (code, upload) = alice.deploy_code(app, examples::counter_module());
/// let run = alice.execute(app, ExecuteSpec::new(code, "increment").writes([examples::COUNTER_KEY]));
/// assert_eq!((deploy.nonce, upload.nonce, run.nonce, alice.next_nonce()), (1, 2, 3, 4));
/// assert_eq!((upload.target, run.target), (app, app));
/// assert!(!format!("{alice:?}").contains("SigningKey"));
/// ```
#[derive(Debug, Clone)]
pub struct ComputeClient {
    signer: Signer,
}

impl ComputeClient {
    /// A client signing with `key` on `network_id`, whose next operation uses `next_nonce`
    /// (the signer's stored nonce + 1).
    pub fn new(key: SigningKey, network_id: u32, next_nonce: u64) -> Self {
        Self::from_signer(Signer::new(key, network_id, next_nonce))
    }

    /// A client signing with `signer`.
    pub fn from_signer(signer: Signer) -> Self {
        Self { signer }
    }

    /// The signer's public key, which is also its native account key.
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

    /// Signs any operation for `target` with the next nonce. The typed builders below go
    /// through this; it is public for operations built from wire types directly.
    pub fn sign<T: Signed + Into<MessageRequest>>(
        &mut self,
        target: Domain,
        operation: T,
    ) -> SignedRequest {
        self.signer.sign(target, operation)
    }

    /// Deploys an application; returns its domain with the request (sent to `COMPUTE`).
    pub fn deploy(&mut self, spec: AppSpec) -> (Domain, SignedRequest) {
        let domain = app_domain(&self.public_key(), self.next_nonce());
        let request = self.sign(COMPUTE, spec.into_deploy());
        (domain, request)
    }

    /// Updates application `app` (owner only).
    pub fn update(&mut self, app: Domain, changes: AppUpdate) -> SignedRequest {
        self.sign(app, changes.into_update())
    }

    /// Deploys `wasm` into application `app` (owner or a code deployer); returns the code id
    /// with the request.
    pub fn deploy_code(&mut self, app: Domain, wasm: Vec<u8>) -> (Key, SignedRequest) {
        let id = code_id(&wasm);
        let request = self.sign(app, CodeDeploy { wasm, auth: None });
        (id, request)
    }

    /// Executes `spec` in application `app`, applying its writes.
    pub fn execute(&mut self, app: Domain, spec: ExecuteSpec) -> SignedRequest {
        self.sign(app, spec.into_execute(app, false))
    }

    /// Executes `spec` in application `app` as a staged execution; returns the execution id
    /// (finalize it with [`ComputeClient::finalize`], with the same keys) with the request.
    pub fn stage(&mut self, app: Domain, spec: ExecuteSpec) -> (Key, SignedRequest) {
        let id = execution_id(&app, &self.public_key(), self.next_nonce());
        let request = self.sign(app, spec.into_execute(app, true));
        (id, request)
    }

    /// Finalizes staged execution `id` of application `app`, declaring the keys the execution
    /// declared (`reads` and `writes` as given to its [`ExecuteSpec`]).
    pub fn finalize(
        &mut self,
        app: Domain,
        id: Key,
        reads: &[Key],
        writes: &[Key],
    ) -> SignedRequest {
        self.sign(
            app,
            CodeFinalize {
                execution_id: id.to_vec(),
                read_keys: addresses(app, reads),
                write_keys: addresses(app, writes),
                discard: false,
                auth: None,
            },
        )
    }

    /// Discards staged execution `id` of application `app` without applying it.
    pub fn discard(&mut self, app: Domain, id: Key) -> SignedRequest {
        self.sign(
            app,
            CodeFinalize {
                execution_id: id.to_vec(),
                discard: true,
                ..Default::default()
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
        let mut client = ComputeClient::new(SigningKey::from_bytes(&[4; 32]), 9, 3);
        let (app, deploy) = client.deploy(AppSpec::new("app"));
        assert_eq!(app, app_domain(&client.public_key(), 3));
        assert_eq!(deploy.target, COMPUTE);
        let (id, stage) = client.stage(app, ExecuteSpec::new([1; 32], "run"));
        assert_eq!(id, execution_id(&app, &client.public_key(), 4));
        let finalize = client.finalize(app, id, &[[2; 32]], &[]);
        for request in [deploy, stage, finalize] {
            assert_eq!(verify_request(&request.request, 9), Ok(()));
            assert_eq!(
                MessageRequest::from_canonical_bytes(&request.to_bytes()).unwrap(),
                request.request
            );
        }
        assert_eq!(client.next_nonce(), 6);
    }
}
