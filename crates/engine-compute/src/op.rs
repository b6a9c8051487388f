//! Reading a `MessageRequest` into a typed compute operation, with every shape check.
//!
//! `validate`, `access` and `apply` all go through [`parse`], so an operation is read the same
//! way at every entry point and `apply` never trusts that `validate` ran.

use std::collections::BTreeSet;

use switchyard_proto::v1::MessageRequest;
use switchyard_proto::v1::message_request::Request;
use switchyard_router::domains::{COMPUTE, METADATA_KEY};
use switchyard_router::{Address, Call, Domain, EngineError, Key};

use crate::config::ComputeConfig;
use crate::error::ComputeError;
use crate::record::code_id;

/// Longest application name, in bytes.
pub(crate) const MAX_NAME: usize = 64;
/// Longest function name, in bytes.
pub(crate) const MAX_FUNCTION: usize = 64;

/// The kind of a compute operation, which also selects its base cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Deploy,
    Update,
    CodeDeploy,
    Execute,
    Finalize,
}

/// The kind and name of a compute operation; `None` for anything else (or an empty request).
pub(crate) fn kind_of(request: &MessageRequest) -> Option<(Kind, &'static str)> {
    let kind = match request.request.as_ref()? {
        Request::ComputeDeploy(_) => Kind::Deploy,
        Request::ComputeUpdate(_) => Kind::Update,
        Request::CodeDeploy(_) => Kind::CodeDeploy,
        Request::CodeExecute(_) => Kind::Execute,
        Request::CodeFinalize(_) => Kind::Finalize,
        _ => return None,
    };
    Some((kind, request.operation()))
}

/// A checked execution request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Execute<'a> {
    pub(crate) code_id: Key,
    pub(crate) function: &'a str,
    pub(crate) input: &'a [u8],
    /// Declared read keys of the app's domain, in request order, unique.
    pub(crate) reads: Vec<Key>,
    /// Declared write keys of the app's domain, in request order, unique.
    pub(crate) writes: Vec<Key>,
    pub(crate) fuel_limit: u64,
    pub(crate) staged: bool,
}

/// What a compute operation does, with its fields checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Action<'a> {
    Deploy {
        name: &'a str,
        code_deployers: Vec<Key>,
        /// 0 = the engine default.
        max_fuel: u64,
    },
    Update {
        /// `Some(empty)` clears the list.
        code_deployers: Option<Vec<Key>>,
        max_fuel: Option<u64>,
        new_owner: Option<Key>,
    },
    CodeDeploy {
        wasm: &'a [u8],
        code_id: Key,
    },
    Execute(Execute<'a>),
    Finalize {
        id: Key,
        reads: Vec<Key>,
        writes: Vec<Key>,
        discard: bool,
    },
}

/// A checked compute operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Op<'a> {
    /// Operation name, for errors.
    pub(crate) name: &'static str,
    /// The authenticated signer.
    pub(crate) signer: Key,
    /// The signer's nonce.
    pub(crate) nonce: u64,
    /// What it does.
    pub(crate) action: Action<'a>,
}

/// Reads `call` as a compute operation. Anything that is not a compute operation is
/// [`EngineError::Unsupported`]; a compute operation of the wrong shape is a [`ComputeError`]
/// rejection.
pub(crate) fn parse<'a>(call: &Call<'a>, config: &ComputeConfig) -> Result<Op<'a>, EngineError> {
    let Some((_, name)) = kind_of(call.request) else {
        return Err(EngineError::Unsupported {
            engine: crate::ENGINE_NAME,
            operation: call.operation(),
        });
    };
    parse_compute(call, name, config)
        .map_err(|e| EngineError::rejected(crate::ENGINE_NAME, name, e))
}

fn parse_compute<'a>(
    call: &Call<'a>,
    name: &'static str,
    config: &ComputeConfig,
) -> Result<Op<'a>, ComputeError> {
    let (target, request) = (&call.target, call.request);
    let is_deploy = matches!(request.request, Some(Request::ComputeDeploy(_)));
    if is_deploy && *target != COMPUTE {
        return Err(ComputeError::DeployTarget { target: *target });
    }
    if !is_deploy && *target == COMPUTE {
        return Err(ComputeError::BaseDomainTarget { operation: name });
    }
    let action = match &request.request {
        Some(Request::ComputeDeploy(d)) => {
            if d.name.is_empty() || d.name.len() > MAX_NAME {
                return Err(ComputeError::NameLength { len: d.name.len() });
            }
            check_fuel_ceiling(d.max_fuel, config)?;
            Action::Deploy {
                name: &d.name,
                code_deployers: deployers(&d.code_deployers, config)?,
                max_fuel: d.max_fuel,
            }
        }
        Some(Request::ComputeUpdate(u)) => {
            if u.clear_code_deployers && !u.code_deployers.is_empty() {
                return Err(ComputeError::ConflictingDeployers);
            }
            let code_deployers = if u.clear_code_deployers {
                Some(Vec::new())
            } else if u.code_deployers.is_empty() {
                None
            } else {
                Some(deployers(&u.code_deployers, config)?)
            };
            check_fuel_ceiling(u.max_fuel, config)?;
            let max_fuel = (u.max_fuel != 0).then_some(u.max_fuel);
            let new_owner = if u.new_owner.is_empty() {
                None
            } else {
                Some(key("new owner", &u.new_owner)?)
            };
            if code_deployers.is_none() && max_fuel.is_none() && new_owner.is_none() {
                return Err(ComputeError::EmptyUpdate);
            }
            Action::Update {
                code_deployers,
                max_fuel,
                new_owner,
            }
        }
        Some(Request::CodeDeploy(c)) => {
            if c.wasm.is_empty() {
                return Err(ComputeError::MissingField {
                    operation: name,
                    field: "wasm",
                });
            }
            if c.wasm.len() > config.max_module_bytes {
                return Err(ComputeError::ModuleTooLarge {
                    len: c.wasm.len(),
                    limit: config.max_module_bytes,
                });
            }
            Action::CodeDeploy {
                wasm: &c.wasm,
                code_id: code_id(&c.wasm),
            }
        }
        Some(Request::CodeExecute(e)) => {
            let code_id = key("code id", &e.code_id)?;
            if e.function.is_empty() || e.function.len() > MAX_FUNCTION {
                return Err(ComputeError::FunctionNameLength {
                    len: e.function.len(),
                });
            }
            if e.input.len() > config.max_input_bytes {
                return Err(ComputeError::InputTooLarge {
                    len: e.input.len(),
                    limit: config.max_input_bytes,
                });
            }
            if e.fuel_limit == 0 {
                return Err(ComputeError::ZeroFuel);
            }
            if e.fuel_limit > config.max_fuel {
                return Err(ComputeError::FuelAboveEngineLimit {
                    requested: e.fuel_limit,
                    limit: config.max_fuel,
                });
            }
            let (reads, writes) = declared(target, &e.read_keys, &e.write_keys, config)?;
            Action::Execute(Execute {
                code_id,
                function: &e.function,
                input: &e.input,
                reads,
                writes,
                fuel_limit: e.fuel_limit,
                staged: e.staged,
            })
        }
        Some(Request::CodeFinalize(f)) => {
            let id = key("execution id", &f.execution_id)?;
            if f.discard && !(f.read_keys.is_empty() && f.write_keys.is_empty()) {
                return Err(ComputeError::DiscardWithKeys);
            }
            let (reads, writes) = declared(target, &f.read_keys, &f.write_keys, config)?;
            Action::Finalize {
                id,
                reads,
                writes,
                discard: f.discard,
            }
        }
        // `kind_of` admitted only the compute operations above.
        _ => {
            return Err(ComputeError::MissingField {
                operation: name,
                field: "operation",
            });
        }
    };
    Ok(Op {
        name,
        signer: call.signer,
        nonce: call.nonce,
        action,
    })
}

/// A 32-byte key.
pub(crate) fn key(field: &'static str, bytes: &[u8]) -> Result<Key, ComputeError> {
    Key::try_from(bytes).map_err(|_| ComputeError::BadKeyLength {
        field,
        len: bytes.len(),
    })
}

fn check_fuel_ceiling(max_fuel: u64, config: &ComputeConfig) -> Result<(), ComputeError> {
    if max_fuel > config.max_fuel {
        return Err(ComputeError::FuelAboveEngineLimit {
            requested: max_fuel,
            limit: config.max_fuel,
        });
    }
    Ok(())
}

fn deployers(list: &[Vec<u8>], config: &ComputeConfig) -> Result<Vec<Key>, ComputeError> {
    if list.len() > config.max_code_deployers {
        return Err(ComputeError::TooMany {
            field: "code_deployers",
            count: list.len(),
            limit: config.max_code_deployers,
        });
    }
    let mut seen = BTreeSet::new();
    list.iter()
        .map(|bytes| {
            let deployer = key("code deployer", bytes)?;
            if !seen.insert(deployer) {
                return Err(ComputeError::DuplicateKey {
                    field: "code_deployers",
                    key: deployer,
                });
            }
            Ok(deployer)
        })
        .collect()
}

/// The declared read and write keys: 64-byte addresses of the app's domain, never its metadata
/// key, each listed once across both lists.
fn declared(
    app: &Domain,
    reads: &[Vec<u8>],
    writes: &[Vec<u8>],
    config: &ComputeConfig,
) -> Result<(Vec<Key>, Vec<Key>), ComputeError> {
    let mut seen = BTreeSet::new();
    let mut keys = |field: &'static str, list: &[Vec<u8>]| -> Result<Vec<Key>, ComputeError> {
        if list.len() > config.max_keys {
            return Err(ComputeError::TooMany {
                field,
                count: list.len(),
                limit: config.max_keys,
            });
        }
        list.iter()
            .map(|bytes| {
                let address =
                    Address::from_slice(bytes).map_err(|_| ComputeError::BadAddressLength {
                        field,
                        len: bytes.len(),
                    })?;
                if address.domain != *app {
                    return Err(ComputeError::ForeignAddress {
                        field,
                        address,
                        app: *app,
                    });
                }
                if address.key == METADATA_KEY {
                    return Err(ComputeError::ReservedKey { field });
                }
                if !seen.insert(address.key) {
                    return Err(ComputeError::DuplicateKey {
                        field,
                        key: address.key,
                    });
                }
                Ok(address.key)
            })
            .collect()
    };
    let reads = keys("read_keys", reads)?;
    let writes = keys("write_keys", writes)?;
    Ok((reads, writes))
}
