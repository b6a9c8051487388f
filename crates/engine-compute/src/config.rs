//! The engine's configuration: limits, fuel, staging, the module cache and the cost schedule.

/// What each compute operation costs. See the crate docs for the formula.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CostSchedule {
    /// Base cost of a `ComputeDeploy`. Default 10 000.
    pub deploy: u64,
    /// Base cost of a `ComputeUpdate`. Default 2 000.
    pub update: u64,
    /// Base cost of a `CodeDeploy`. Default 20 000.
    pub code_deploy: u64,
    /// Cost per byte of a deployed module, on top of `per_byte` (validation and compilation).
    /// Default 10.
    pub per_code_byte: u64,
    /// Base cost of a `CodeExecute`. Default 2 000.
    pub execute: u64,
    /// Extra cost of a staged execution (it stores a record). Default 1 000.
    pub staged: u64,
    /// Fuel bought by one unit of cost: an execution costs `ceil(fuel_limit / fuel_per_unit)`
    /// on top of its base. Default 100 (at least 1).
    pub fuel_per_unit: u64,
    /// Base cost of a `CodeFinalize`. Default 2 000.
    pub finalize: u64,
    /// Cost per declared key of an execution or a finalize (each is read from state).
    /// Default 50.
    pub per_key: u64,
    /// Cost per byte of the request's canonical bytes (type tag and signature included; the
    /// input and the module are part of them). Default 1.
    pub per_byte: u64,
}

impl Default for CostSchedule {
    fn default() -> Self {
        Self {
            deploy: 10_000,
            update: 2_000,
            code_deploy: 20_000,
            per_code_byte: 10,
            execute: 2_000,
            staged: 1_000,
            fuel_per_unit: 100,
            finalize: 2_000,
            per_key: 50,
            per_byte: 1,
        }
    }
}

/// The compute engine's configuration. Every limit is checked before anything runs or is
/// stored; the defaults bound what one execution may hold in memory (see the crate docs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComputeConfig {
    /// Largest module, in bytes. Default 256 KiB.
    pub max_module_bytes: usize,
    /// Most functions a module may define or import. Default 1 000.
    pub max_functions: u32,
    /// Most globals a module may define. Default 100.
    pub max_globals: u32,
    /// Most tables a module may define (0 or 1). Default 1.
    pub max_tables: u32,
    /// Most elements a table may hold, initially or after growing. Default 10 000.
    pub max_table_elements: u32,
    /// Most 64 KiB pages of linear memory, initially or after growing. Default 16 (1 MiB).
    pub max_memory_pages: u32,
    /// Most bytes of all data segments together. Default 64 KiB.
    pub max_data_bytes: u64,
    /// Most data segments. Default 100.
    pub max_data_segments: u32,
    /// Deepest call stack of an execution (deeper traps with a stack overflow). Default 512.
    pub max_call_depth: usize,
    /// The engine's ceiling on fuel per execution; an application's own ceiling may not
    /// exceed it. Default 10 000 000.
    pub max_fuel: u64,
    /// An application's fuel ceiling when its deploy asks for 0. Default 1 000 000.
    pub default_app_fuel: u64,
    /// Largest execution input, in bytes. Default 16 KiB.
    pub max_input_bytes: usize,
    /// Largest execution output, in bytes. Default 16 KiB.
    pub max_output_bytes: usize,
    /// Largest value an execution may write, in bytes. Default 16 KiB.
    pub max_value_bytes: usize,
    /// Most addresses in `read_keys`, and most in `write_keys`. Default 32 each.
    pub max_keys: usize,
    /// Most code deployers of an application. Default 16.
    pub max_code_deployers: usize,
    /// Frames a staged execution may wait for its finalize: staged at frame `f`, it may be
    /// finalized up to and including frame `f + staged_expiry_frames`. Default 100.
    pub staged_expiry_frames: u64,
    /// Most compiled modules the cache keeps. Default 256.
    pub cache_modules: usize,
    /// Most module bytes (as deployed) the cache keeps. Default 32 MiB.
    pub cache_bytes: usize,
    /// What operations cost.
    pub costs: CostSchedule,
}

impl Default for ComputeConfig {
    fn default() -> Self {
        Self {
            max_module_bytes: 256 * 1024,
            max_functions: 1_000,
            max_globals: 100,
            max_tables: 1,
            max_table_elements: 10_000,
            max_memory_pages: 16,
            max_data_bytes: 64 * 1024,
            max_data_segments: 100,
            max_call_depth: 512,
            max_fuel: 10_000_000,
            default_app_fuel: 1_000_000,
            max_input_bytes: 16 * 1024,
            max_output_bytes: 16 * 1024,
            max_value_bytes: 16 * 1024,
            max_keys: 32,
            max_code_deployers: 16,
            staged_expiry_frames: 100,
            cache_modules: 256,
            cache_bytes: 32 * 1024 * 1024,
            costs: CostSchedule::default(),
        }
    }
}

/// The size of one WebAssembly page, in bytes.
pub const PAGE_BYTES: u64 = 64 * 1024;

/// The most bytes the interpreter's value stack may hold in one execution.
pub const MAX_STACK_BYTES: usize = 1024 * 1024;

impl ComputeConfig {
    /// An upper bound on the memory one execution holds, in bytes: linear memory
    /// (`max_memory_pages` x 64 KiB), the table (`max_table_elements` x 16 bytes), the
    /// interpreter's value stack ([`MAX_STACK_BYTES`]) and call frames (`max_call_depth` x 64
    /// bytes), the input, the output, and every declared value (`2 x max_keys x
    /// max_value_bytes`), which the engine reads before the call. The compiled module is
    /// shared through the cache and not counted.
    ///
    /// ```
    /// let config = switchyard_compute::ComputeConfig::default();
    /// // 1 MiB of memory, 156 KiB of table, 1 MiB of stack, 32 KiB of frames, 16 + 16 KiB of
    /// // input and output, 1 MiB of declared values: about 3.2 MiB.
    /// assert!(config.execution_memory_bound() < 4 * 1024 * 1024);
    /// ```
    pub fn execution_memory_bound(&self) -> u64 {
        let memory = u64::from(self.max_memory_pages).saturating_mul(PAGE_BYTES);
        let table = u64::from(self.max_table_elements).saturating_mul(16);
        let frames = (self.max_call_depth as u64).saturating_mul(64);
        let values = (self.max_keys as u64)
            .saturating_mul(2)
            .saturating_mul(self.max_value_bytes as u64);
        memory
            .saturating_add(table)
            .saturating_add(MAX_STACK_BYTES as u64)
            .saturating_add(frames)
            .saturating_add(self.max_input_bytes as u64)
            .saturating_add(self.max_output_bytes as u64)
            .saturating_add(values)
    }
}
