//! The route table: which engine handles a target domain.

use std::sync::Arc;

use crate::domains::metadata_address;
use crate::{Domain, Engine, MetadataRecord, RouteError, SortedMap, StateRead};

/// Resolves target domains to engines. Built once; read without locks afterwards.
#[derive(Clone)]
pub struct RouteTable {
    engines: Vec<Arc<dyn Engine>>,
    /// Each base domain's engine, by index. A handful of entries, searched twice for most
    /// requests: a sorted vector compares a few words, where a `HashMap` ran SipHash over
    /// 32 bytes each time.
    by_domain: SortedMap<Domain, usize>,
}

/// Collects engines for a [`RouteTable`]; [`RouteTableBuilder::build`] checks them.
#[derive(Default)]
pub struct RouteTableBuilder {
    engines: Vec<Arc<dyn Engine>>,
}

impl RouteTableBuilder {
    /// Registers an engine.
    #[must_use]
    pub fn engine(mut self, engine: Arc<dyn Engine>) -> Self {
        self.engines.push(engine);
        self
    }

    /// Registers several engines.
    #[must_use]
    pub fn engines(mut self, engines: impl IntoIterator<Item = Arc<dyn Engine>>) -> Self {
        self.engines.extend(engines);
        self
    }

    /// Builds the table; two engines with one name, or claiming one base domain, are an error.
    pub fn build(self) -> Result<RouteTable, RouteError> {
        let mut by_domain = SortedMap::new();
        for (index, engine) in self.engines.iter().enumerate() {
            if let Some(first) = self
                .engines
                .iter()
                .take(index)
                .find(|e| e.name() == engine.name())
            {
                return Err(RouteError::DuplicateName { name: first.name() });
            }
            for domain in engine.base_domains() {
                if let Some(&first) = by_domain.get(&domain) {
                    let first_name = self
                        .engines
                        .get(first)
                        .map_or("?", |e: &Arc<dyn Engine>| e.name());
                    return Err(RouteError::DuplicateDomain {
                        domain,
                        first: first_name,
                        second: engine.name(),
                    });
                }
                by_domain.insert(domain, index);
            }
        }
        Ok(RouteTable {
            engines: self.engines,
            by_domain,
        })
    }
}

impl RouteTable {
    /// A builder with no engines.
    pub fn builder() -> RouteTableBuilder {
        RouteTableBuilder::default()
    }

    /// The engine for `target`: the owner of a base domain, or the owner of the type domain in
    /// the instance's metadata record read through `state`. Anything else is
    /// [`RouteError::NoEngine`]; unknown domains never go to a default engine.
    pub fn resolve(
        &self,
        target: &Domain,
        state: &dyn StateRead,
    ) -> Result<&Arc<dyn Engine>, RouteError> {
        if let Some(engine) = self.base_engine(target) {
            return Ok(engine);
        }
        let record = state
            .get(&metadata_address(*target))
            .map_err(|source| RouteError::State {
                domain: *target,
                source,
            })?
            .ok_or(RouteError::NoEngine { domain: *target })?;
        let type_domain =
            MetadataRecord::type_domain_of(&record).map_err(|source| RouteError::State {
                domain: *target,
                source,
            })?;
        self.base_engine(&type_domain)
            .ok_or(RouteError::UnknownTypeDomain {
                domain: *target,
                type_domain,
            })
    }

    fn base_engine(&self, domain: &Domain) -> Option<&Arc<dyn Engine>> {
        self.by_domain
            .get(domain)
            .and_then(|&index| self.engines.get(index))
    }

    /// The registered engines, in registration order.
    pub fn engines(&self) -> &[Arc<dyn Engine>] {
        &self.engines
    }

    /// The engine registered under `name`.
    pub fn engine(&self, name: &str) -> Option<&Arc<dyn Engine>> {
        self.engines.iter().find(|e| e.name() == name)
    }
}

impl std::fmt::Debug for RouteTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RouteTable")
            .field(
                "engines",
                &self.engines.iter().map(|e| e.name()).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl std::fmt::Debug for RouteTableBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RouteTableBuilder")
            .field(
                "engines",
                &self.engines.iter().map(|e| e.name()).collect::<Vec<_>>(),
            )
            .finish()
    }
}
