//! A budget per check: every schema object is applied to a value at most [`STEPS`] times in
//! one check, then the check stops. A schema that applies itself twice at each level of the
//! data (`allOf` with two references back to the root) costs 2^depth steps; without a budget
//! 30 levels of `[[[…]]]` would take hours.
//!
//! The validator cannot be told to stop, so the compiled schema carries a keyword of the
//! console's own in every schema object ([`STEP_KEYWORD`]) that counts, and unwinds the
//! check once the budget is spent. `resume_unwind` runs no panic hook: nothing is printed,
//! and the check's caller catches it.

use std::cell::Cell;
use std::panic::{self, AssertUnwindSafe};

use jsonschema::{Keyword, ValidationError};
use serde_json::{Map, Value};

/// The keyword the console adds to each schema object of a compiled schema.
pub(super) const STEP_KEYWORD: &str = "x-webhook-console-step";

/// Schema objects applied per check, at most: a real event's data takes a few thousand at
/// most (one per field and item the schema describes; 256 KiB of small objects some
/// 100,000); this many take under a second (0.7 s measured for the costliest schema found).
pub const STEPS: u64 = 500_000;

thread_local! {
    /// Steps left in the check running on this thread; no limit outside a check.
    static STEPS_LEFT: Cell<u64> = const { Cell::new(u64::MAX) };
}

/// The check spent its budget.
pub(super) struct OutOfSteps;

/// The keyword behind [`STEP_KEYWORD`]: always satisfied, it only counts.
pub(super) struct Step;

impl Step {
    pub(super) fn compile<'a>(
        _: &'a Map<String, Value>,
        _: &'a Value,
        _: jsonschema::paths::Location,
    ) -> Result<Box<dyn for<'i> Keyword<'i>>, ValidationError<'a>> {
        Ok(Box::new(Step))
    }
}

impl<'i> Keyword<'i> for Step {
    fn validate(&self, _: &'i Value) -> Result<(), ValidationError<'i>> {
        take_step();
        Ok(())
    }

    fn is_valid(&self, _: &'i Value) -> bool {
        take_step();
        true
    }
}

fn take_step() {
    let left = STEPS_LEFT.get();
    if left == 0 {
        panic::resume_unwind(Box::new(OutOfSteps));
    }
    STEPS_LEFT.set(left - 1);
}

/// Runs `check` with `steps` to spend; `Err` when it spent them all before it finished.
pub(super) fn within_budget<T>(steps: u64, check: impl FnOnce() -> T) -> Result<T, OutOfSteps> {
    let before = STEPS_LEFT.replace(steps);
    let outcome = panic::catch_unwind(AssertUnwindSafe(check));
    STEPS_LEFT.set(before);
    match outcome {
        Ok(done) => Ok(done),
        Err(payload) => match payload.downcast::<OutOfSteps>() {
            Ok(_) => Err(OutOfSteps),
            Err(other) => panic::resume_unwind(other),
        },
    }
}

/// `source` with the step keyword in each of the schema objects at `pointers`.
pub(super) fn with_steps<'p>(source: &Value, pointers: impl Iterator<Item = &'p str>) -> Value {
    let mut counted = source.clone();
    for pointer in pointers {
        if let Some(Value::Object(schema)) = counted.pointer_mut(pointer) {
            schema.insert(STEP_KEYWORD.to_owned(), Value::Bool(true));
        }
    }
    counted
}
